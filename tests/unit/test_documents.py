"""The embedded document: title, authors, shelf phrases, then the (capped) description."""

from vibeshelf.catalog.documents import MAX_DESCRIPTION_CHARS, MAX_SHELVES, build_document


def test_document_layout() -> None:
    doc = build_document("Dune", ["Frank Herbert"], ["sci-fi", "space-opera"], "A desert planet.")
    assert doc == "Dune by Frank Herbert. Shelves: sci-fi, space opera. A desert planet."


def test_several_authors_and_missing_parts() -> None:
    assert build_document("Good Omens", ["Terry Pratchett", "Neil Gaiman"], [], None) == (
        "Good Omens by Terry Pratchett, Neil Gaiman."
    )
    assert build_document("Who Moved My Cheese?", None, None, "") == "Who Moved My Cheese?"


def test_shelves_come_before_the_description_and_are_capped() -> None:
    shelves = [f"shelf-{i}" for i in range(40)] + ["scifi", "sci-fi"]
    doc = build_document("T", ["A"], shelves, "Blurb.")
    listed = doc.split("Shelves: ", 1)[1].split(". Blurb.")[0].split(", ")
    assert len(listed) == MAX_SHELVES
    assert listed[0] == "shelf 0"
    assert doc.index("Shelves:") < doc.index("Blurb.")


def test_repeated_phrases_are_listed_once() -> None:
    doc = build_document("T", ["A"], ["scifi", "sci-fi", "ya", "young-adult"], None)
    assert doc == "T by A. Shelves: sci-fi, young adult."


def test_long_description_is_cut_at_a_word() -> None:
    description = "word " * 1000
    doc = build_document("T", ["A"], ["x"], description.strip())
    tail = doc.split("Shelves: x. ", 1)[1]
    assert len(tail) <= MAX_DESCRIPTION_CHARS
    assert tail.endswith("word…")
