"""Query understanding: books like X, authors, titles and series, and everything else a vibe."""

from __future__ import annotations

import pytest

from vibeshelf.catalog.books import Book
from vibeshelf.search.understand import Interpreter


def book(book_id: str, title: str, authors: list[str], ratings: int = 100) -> Book:
    return Book(book_id, title, authors, 2000, "eng", 4.0, ratings, [], None, None, None, None)


BOOKS = [
    book("1", "The Secret History", ["Donna Tartt"], 900),
    book("2", "The Hunger Games (The Hunger Games, #1)", ["Suzanne Collins"], 5000),
    book("3", "Catching Fire (The Hunger Games, #2)", ["Suzanne Collins"], 3000),
    book("4", "Mockingjay (The Hunger Games, #3)", ["Suzanne Collins"], 2500),
    book("5", "A Wizard of Earthsea (Earthsea Cycle, #1)", ["Ursula K. Le Guin"], 800),
    book("6", "The Left Hand of Darkness", ["Ursula K. Le Guin"], 700),
    book("7", "The Shining (The Shining #1)", ["Stephen King"], 4000),
    book("8", "Go, Dog. Go!", ["P.D. Eastman"], 600),
    book("9", "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)", ["J.K. Rowling"], 9000),
    book("10", "Harry Potter and the Chamber of Secrets (Harry Potter, #2)", ["J.K. Rowling"], 8000),
    book("11", "Harry Potter: Film Wizardry", ["Brian Sibley"], 9500),
]


@pytest.fixture(scope="module")
def reader() -> Interpreter:
    return Interpreter(BOOKS)


@pytest.mark.parametrize(
    "query",
    [
        "books like The Secret History",
        "similar to the secret history",
        "if I liked Secret History",
        "Books like the secert history",  # a typo
        "something like THE SECRET HISTORY, what should I read next?",
    ],
)
def test_books_like_a_title_resolve_to_the_book(reader: Interpreter, query: str) -> None:
    meaning = reader.interpret(query)
    assert (meaning.kind, meaning.book_id, meaning.vibe) == ("like_book", "1", "")


def test_a_series_suffix_is_not_needed_to_name_a_book(reader: Interpreter) -> None:
    assert reader.interpret("books like catching fire").book_id == "3"
    # a series names its first book, not a book titled "<series>: <subtitle>"
    assert reader.interpret("books like Harry Potter").book_id == "9"
    assert reader.interpret("books like harry potter film wizardry").book_id == "11"


def test_a_title_followed_by_its_author_names_the_book(reader: Interpreter) -> None:
    meaning = reader.interpret("if i liked the shining by stephen king")
    assert (meaning.kind, meaning.book_id) == ("like_book", "7")
    assert reader.interpret("books like left hand of darkness by le guin").book_id == "6"
    # a title the author did not write is no book of theirs
    assert reader.interpret("books like the secret history by stephen king").kind != "like_book"


def test_a_work_comes_before_its_adaptation_however_read() -> None:
    reader = Interpreter([
        book("1", "The Hobbit: Graphic Novel", ["J.R.R. Tolkien", "Chuck Dixon"], 9000),
        book("2", "The Hobbit: or There and Back Again", ["J.R.R. Tolkien"], 500),
    ])
    assert reader.interpret("books like the hobbit").book_id == "2"
    assert reader.interpret("books like the hobbit graphic novel").book_id == "1"


def test_a_series_omnibus_gives_way_to_the_series_first_book() -> None:
    reader = Interpreter([
        book("1", "The Lord of the Rings (The Lord of the Rings, #1-3)", ["J.R.R. Tolkien"], 9000),
        book("2", "The Fellowship of the Ring (The Lord of the Rings, #1)", ["J.R.R. Tolkien"], 5000),
        book("3", "The Two Towers (The Lord of the Rings, #2)", ["J.R.R. Tolkien"], 4000),
    ])
    assert reader.interpret("books like the lord of the rings").book_id == "2"
    assert reader.interpret("the lord of the rings").series == "the lord of the rings"


def test_words_after_but_steer_the_neighbours(reader: Interpreter) -> None:
    meaning = reader.interpret("books like The Secret History but set in the 1950s")
    assert (meaning.kind, meaning.book_id, meaning.vibe) == ("like_book", "1", "set in the 1950s")
    bare = reader.interpret("The Secret History but funnier")
    assert (bare.kind, bare.book_id, bare.vibe) == ("like_book", "1", "funnier")


def test_but_in_a_vibe_names_no_book(reader: Interpreter) -> None:
    assert reader.interpret("funny but sad books about grief").kind == "vibe"


def test_an_unknown_title_after_books_like_is_a_vibe(reader: Interpreter) -> None:
    meaning = reader.interpret("books like a warm hug on a rainy day")
    assert (meaning.kind, meaning.vibe) == ("vibe", "books like a warm hug on a rainy day")


def test_a_figure_of_speech_is_read_as_its_mood(reader: Interpreter) -> None:
    meaning = reader.interpret("books that make you cry")
    assert (meaning.kind, meaning.vibe, meaning.dropped) == ("vibe", "books that", ["make you cry"])
    assert "heartbreaking" in meaning.added
    funny = reader.interpret("a novel to make me laugh, funny and warm")
    assert funny.added.count("humor") == 1 and "funny" in funny.vibe


@pytest.mark.parametrize(
    ("query", "author", "vibe"),
    [
        ("stephen king", "Stephen King", ""),
        ("Stephen Kng", "Stephen King", ""),  # a typo
        ("something by le guin", "Ursula K. Le Guin", ""),
        ("books by Ursula Le Guin", "Ursula K. Le Guin", ""),
        ("anarchist utopia by le guin", "Ursula K. Le Guin", "anarchist utopia"),
    ],
)
def test_authors_are_found_by_name_and_by_surname_after_by(
    reader: Interpreter, query: str, author: str, vibe: str
) -> None:
    meaning = reader.interpret(query)
    assert (meaning.kind, meaning.author, meaning.vibe) == ("author", author, vibe)


def test_by_with_an_article_is_not_an_author(reader: Interpreter) -> None:
    assert reader.interpret("a story told by a dog").kind == "vibe"


def test_a_title_typed_as_it_is_is_a_title(reader: Interpreter) -> None:
    meaning = reader.interpret("the left hand of darkness")
    assert (meaning.kind, meaning.book_id) == ("title", "6")
    assert reader.interpret("Left Hand of Darkness").book_id == "6"  # no article


def test_a_book_of_two_series_counts_in_the_first() -> None:
    discworld = Interpreter([
        book("20", "The Truth (Discworld, #25; Industrial Revolution, #2)", ["Terry Pratchett"]),
        book("21", "Mort (Discworld, #4; Death, #1)", ["Terry Pratchett"]),
        book("22", "Going Postal (Discworld, #33; Moist von Lipwig, #1)", ["Terry Pratchett"]),
    ])
    meaning = discworld.interpret("discworld")
    assert (meaning.kind, meaning.series) == ("title", "discworld")
    assert [b.book_id for b in discworld.series_books("discworld")] == ["21", "20", "22"]


def test_a_series_name_lists_the_series_in_order(reader: Interpreter) -> None:
    meaning = reader.interpret("the hunger games")
    assert (meaning.kind, meaning.series) == ("title", "the hunger games")
    assert [b.book_id for b in reader.series_books(meaning.series)] == ["2", "3", "4"]


@pytest.mark.parametrize(
    ("query", "series"),
    [
        ("hunger games series", "hunger games"),
        ("the hunger games books", "hunger games"),
        ("percy jackson books", "percy jackson and the olympians"),  # the start of its name
        ("percy jackson novels", "percy jackson and the olympians"),
    ],
)
def test_a_series_asked_for_as_books_or_series_lists_it_in_reading_order(query: str, series: str) -> None:
    reader = Interpreter([
        *BOOKS,
        book("20", "The Sea of Monsters (Percy Jackson and the Olympians, #2)", ["Rick Riordan"]),
        book("21", "The Lightning Thief (Percy Jackson and the Olympians, #1)", ["Rick Riordan"]),
        book("22", "The Demigod Diaries (Percy Jackson and the Olympians, #4.5)", ["Rick Riordan"]),
        book("23", "The Titan's Curse (Percy Jackson and the Olympians, #3)", ["Rick Riordan"]),
    ])
    meaning = reader.interpret(query)
    assert (meaning.kind, meaning.series) == ("title", series)
    order = [b.book_id for b in reader.series_books(series)]
    assert order == (["21", "20", "23", "22"] if "percy" in query else ["2", "3", "4"])  # extras last


@pytest.mark.parametrize("query", ["vampire books", "fantasy series", "games books", "harry books"])
def test_a_kind_of_book_is_no_series_even_where_a_series_name_starts_with_it(query: str) -> None:
    reader = Interpreter([
        *BOOKS,
        book("30", "Vampire Academy (Vampire Academy, #1)", ["Richelle Mead"]),
        book("31", "Frostbite (Vampire Academy, #2)", ["Richelle Mead"]),
    ])
    assert reader.interpret(query).kind == "vibe"


def test_a_vibe_is_a_vibe(reader: Interpreter) -> None:
    meaning = reader.interpret("heartbreaking book about a dog")
    assert (meaning.kind, meaning.vibe, meaning.book_id) == ("vibe", "heartbreaking book about a dog", None)


def test_a_chatty_preamble_is_dropped(reader: Interpreter) -> None:
    meaning = reader.interpret("Hi! I'm looking for a book about a boy whose father builds boats")
    assert meaning.kind == "vibe"
    assert meaning.vibe == "a book about a boy whose father builds boats"
    assert meaning.dropped == ["Hi!", "I'm looking for"]


def test_a_catalog_without_authors_or_series_reads_everything_but_titles_as_vibes() -> None:
    reader = Interpreter([book(str(i), f"Untitled {i}", []) for i in range(5)])
    assert reader.interpret("something by le guin").kind == "vibe"
    assert reader.interpret("books like the secret history").kind == "vibe"


def test_short_sentences_about_the_asking_are_dropped_from_a_post(reader: Interpreter) -> None:
    post = (
        "Hello everyone! A boy and his two hunting dogs in the Ozarks. "
        "I read it as a kid. Does anyone remember it? Thanks in advance!"
    )
    meaning = reader.interpret(post)
    assert meaning.kind == "vibe"
    assert meaning.vibe == "A boy and his two hunting dogs in the Ozarks."
    assert meaning.dropped == ["Hello everyone!", "I read it as a kid.", "Does anyone remember it?", "Thanks in advance!"]


def test_a_post_that_is_all_chatter_is_kept_whole(reader: Interpreter) -> None:
    assert reader.interpret("I read it years ago. Thanks!").vibe == "I read it years ago. Thanks!"


def test_the_askers_own_story_is_dropped_and_what_they_remember_is_kept(reader: Interpreter) -> None:
    post = (
        "My grandmother gave it to me one summer at her lake house, and I loved every page of it. "
        "I lost it when we moved house and I have been thinking about it again lately. "
        "I remember there was a dragon egg hidden in a mountain. "
        "A farm boy raises the dragon and becomes its rider."
    )
    meaning = reader.interpret(post)
    assert meaning.vibe == (
        "My grandmother gave it to me one summer at her lake house, and I loved every page of it. "
        "I remember there was a dragon egg hidden in a mountain. A farm boy raises the dragon and becomes its rider."
    )  # "her" may be someone in the book; "there was" tells of the book
    assert meaning.dropped == ["I lost it when we moved house and I have been thinking about it again lately."]
