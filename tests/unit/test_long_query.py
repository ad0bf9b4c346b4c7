"""Long queries: split into sentences, and encoded whole or also a sentence at a time."""

from __future__ import annotations

import numpy as np

from vibeshelf.search.retrieve import LONG_QUERY_WORDS, query_encoder, sentences

POST = (
    "I read it in school. A boy and his dog live on a farm in the Ozarks and hunt raccoons. "
    "The dogs die at the end and a red fern grows over their graves! It was so sad."
)


class CountingEncoder:
    """Encodes each text as a unit vector of its length, and remembers what it was given."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0] / np.hypot(len(t), 1.0) for t in texts], dtype=np.float32)


def test_a_short_query_is_one_sentence() -> None:
    assert sentences("a boy and his dog. so sad.") == ["a boy and his dog. so sad."]


def test_a_long_query_splits_into_sentences_and_short_ones_join_the_next() -> None:
    assert len(POST.split()) > LONG_QUERY_WORDS
    assert sentences(POST) == [
        "I read it in school.",
        "A boy and his dog live on a farm in the Ozarks and hunt raccoons.",
        "The dogs die at the end and a red fern grows over their graves!",
        "It was so sad.",
    ]
    assert sentences(POST + " Yes.")[-1] == "It was so sad. Yes."


def test_whole_encodes_the_text_once_and_max_adds_each_sentence() -> None:
    encoder = CountingEncoder()
    whole = query_encoder(encoder, 0, "whole")(POST)  # type: ignore[arg-type]
    assert whole.shape == (1, 2) and encoder.calls == [[POST]]
    rows = query_encoder(encoder, 0, "max")(POST)  # type: ignore[arg-type]
    assert rows.shape == (5, 2) and encoder.calls[-1] == [POST, *sentences(POST)]
    assert query_encoder(encoder, 0, "max")("a sad dog book").shape == (1, 2)  # type: ignore[arg-type]
