"""The words BM25 counts: lower-cased, English stop words out, Snowball stems.

Milvus' own analyzer filters (stop words, stemmer) are not applied by Milvus Lite, so units and
queries are analysed here, the same way on both sides, and Milvus only splits on spaces.
"pricing" then meets "price", "customers" meets "customer", and "we are" matches nothing.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# A short English stop list (Lucene's, plus question and filler words people type).
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then"
    " there these they this to was will with we our us you your i me my what which who whom how"
    " did do does done have has had about any all can could would should were been being from"
    " so than too very just its it's i'm we're they're there's".split()
)


@cache
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def analyse(text: str) -> str:
    """`text` as the space-separated stems BM25 indexes and queries."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]
    return " ".join(_stemmer().stemWords(words))
