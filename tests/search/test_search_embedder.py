"""The default embedder is offline: its weights come inside the wordllama wheel."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from sophia_cli.core.errors import InputError
from sophia_cli.core.search import embed
from sophia_cli.core.settings import load_settings


def test_offline_embedder_loads_and_embeds_with_the_network_blocked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    embed._wordllama.cache_clear()
    embedder = embed.embedder(load_settings())
    vectors = embedder.embed(["the price is too high"])
    assert (embedder.signature, len(vectors[0])) == ("wordllama/l2_supercat@256", 256)


def test_offline_vectors_place_related_texts_closer_than_unrelated() -> None:
    texts = ["the enterprise tier is too expensive", "the price is too high", "lunch is at noon"]
    vectors = np.array(embed.wordllama_embedder().embed(texts))
    related, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert related > unrelated


def test_an_unknown_embedder_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEARCH_EMBEDDING", "word2vec")
    with pytest.raises(InputError, match="SEARCH_EMBEDDING='word2vec'"):
        embed.embedder(load_settings())


def test_a_units_vector_follows_its_own_words_not_its_neighbours() -> None:
    from sophia_cli.core.search.index import unit_vectors
    from sophia_cli.core.search.units import Unit

    said = "Honestly the price is the sticking point for us"
    around = "Thanks for joining today … Let me share my screen and walk through the agenda " * 5
    turn = Unit(id="gong:c:1", kind="transcript", author="s", author_name="Tom",
                affiliation="external", place="c", place_name="Acme", ts=0, url="",
                text=said, context=around, source="gong")  # fmt: skip
    emb = embed.wordllama_embedder()
    (vector,) = unit_vectors(emb, [turn])
    own, neighbours = emb.embed([said, around])
    cos = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731 (unit length)
    assert cos(vector, own) > 0.95 > cos(vector, neighbours)
