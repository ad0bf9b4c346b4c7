"""The embedded document: title, authors, canonical genres, then the (capped) description."""

from vibeshelf.catalog.documents import MAX_DESCRIPTION_CHARS, MAX_GENRES, build_document


def test_document_layout() -> None:
    doc = build_document("Dune", ["Frank Herbert"], ["space opera", "science fiction"], "A desert planet.")
    assert doc == "Dune by Frank Herbert. Genres: space opera, science fiction. A desert planet."


def test_several_authors_and_missing_parts() -> None:
    assert build_document("Good Omens", ["Terry Pratchett", "Neil Gaiman"], [], None) == (
        "Good Omens by Terry Pratchett, Neil Gaiman."
    )
    assert build_document("Who Moved My Cheese?", None, None, "") == "Who Moved My Cheese?"


def test_genres_come_before_the_description_in_order_and_are_capped() -> None:
    genres = [f"genre {i}" for i in range(40)]
    doc = build_document("T", ["A"], genres, "Blurb.")
    listed = doc.split("Genres: ", 1)[1].split(". Blurb.")[0].split(", ")
    assert listed == genres[:MAX_GENRES]
    assert doc.index("Genres:") < doc.index("Blurb.")


def test_long_description_is_cut_at_a_word() -> None:
    description = "word " * 1000
    doc = build_document("T", ["A"], ["x"], description.strip())
    tail = doc.split("Genres: x. ", 1)[1]
    assert len(tail) <= MAX_DESCRIPTION_CHARS
    assert tail.endswith("word…")
