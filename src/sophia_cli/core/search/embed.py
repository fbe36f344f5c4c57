"""Dense text vectors for search: offline by default, the squad's embedding deployment if asked.

The default is WordLlama's `l2_supercat` 256-dimension model, whose weights and tokenizer
ship inside the `wordllama` wheel (19 MB; numpy + tokenizers, no PyTorch): it loads with the
Hugging Face hub switched off and embeds thousands of short texts per second on one core.
Transformer models packaged for PyPI (all-MiniLM-L6-v2 repackagings) embed better but pull in
PyTorch (~700 MB) and are ~50x slower on CPU; model2vec downloads its weights at run time.

`SEARCH_EMBEDDING=squad` (or `squad:<model>`) embeds through the squad's OpenAI-compatible
embedding deployments instead. Every collection records the embedder's name and dimension
(`Embedder.signature`), so changing either forces a re-index instead of mixing vector spaces.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sophia_cli.core.errors import InputError, ServiceUnavailableError
from sophia_cli.core.settings import Settings

WORDLLAMA = "wordllama"
WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256
_BATCH = 256


@dataclass(frozen=True)
class Embedder:
    """A named text-to-vector function of a fixed dimension."""

    name: str
    dim: int
    embed: Callable[[list[str]], list[list[float]]]

    @property
    def signature(self) -> str:
        """What a collection records: vectors of two signatures are not comparable."""
        return f"{self.name}@{self.dim}"


_load_lock = threading.Lock()


@cache
def _wordllama() -> Any:
    # The weights are inside the wheel; the hub must never be asked (no network at run time).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from pathlib import Path

    import wordllama
    from wordllama import WordLlama

    # The wheel keeps weights/ and tokenizers/ beside the code; pointed at that folder as
    # its cache, WordLlama finds both, and with downloads disabled it can never reach out.
    shipped = Path(wordllama.__file__).parent
    with _load_lock:
        try:
            return WordLlama.load(config=WORDLLAMA_CONFIG, dim=WORDLLAMA_DIM,
                                  cache_dir=shipped, disable_download=True)  # fmt: skip
        except (FileNotFoundError, OSError) as exc:
            raise ServiceUnavailableError(
                f"the offline embedder's weights are missing from the wordllama package: {exc}",
                hint="Reinstall sophia (pip install --force-reinstall wordllama), "
                "or use --mode bm25.",
            ) from exc


def wordllama_embedder() -> Embedder:
    """The offline default: WordLlama weights from its wheel, L2-normalised 256-d vectors."""

    def embed(texts: list[str]) -> list[list[float]]:
        model = _wordllama()
        out: list[list[float]] = []
        for at in range(0, len(texts), _BATCH):
            vectors = model.embed(texts[at : at + _BATCH], norm=True)
            out.extend([float(x) for x in row] for row in vectors)
        return out

    return Embedder(name=f"{WORDLLAMA}/{WORDLLAMA_CONFIG}", dim=WORDLLAMA_DIM, embed=embed)


def squad_embedder(settings: Settings, model: str) -> Embedder:
    """Vectors from the squad's embedding deployments (routed, budgeted, logged)."""
    import asyncio

    from sophia_cli.core.squad.embeddings import EmbeddingRequest, aembed

    def embed(texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for at in range(0, len(texts), _BATCH):
            request = EmbeddingRequest(inputs=[t or " " for t in texts[at : at + _BATCH]],
                                       model=model)  # fmt: skip
            out.extend(asyncio.run(aembed(settings, request)).vectors)
        return out

    # The dimension is what the deployment answers; one probe call learns it.
    probe = embed(["dimension probe"])
    if not probe or not probe[0]:
        raise ServiceUnavailableError("the squad's embedding deployment returned no vector")
    return Embedder(name=f"squad/{model}", dim=len(probe[0]), embed=embed)


def embedder(settings: Settings) -> Embedder:
    """The embedder SEARCH_EMBEDDING names (default: the offline WordLlama model)."""
    choice = settings.search_embedding.strip()
    if choice == WORDLLAMA:
        return wordllama_embedder()
    if choice == "squad" or choice.startswith("squad:"):
        model = choice.partition(":")[2] or "auto"
        return squad_embedder(settings, model)
    raise InputError(
        f"SEARCH_EMBEDDING={choice!r} is not an embedder I know",
        hint="Use wordllama (offline, the default), squad, or squad:<model>.",
    )
