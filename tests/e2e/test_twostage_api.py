"""/api/recommend's two-stage pipeline over HTTP for the three kinds of reader: a real server, the
real Book-Crossing ratings, ALS and a LightGBM ranker trained by the CLI on the same candidates."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import run_cli
from tests.contracts.recommender import active_reader
from tests.e2e.test_recs_api import recommend_server
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.settings import Settings

CONFIG = """
[recommend.ranking]
pipeline = "two-stage"
train_readers = 300
eval_readers = 200
neighbours = 50

[recommend.retrieval]
total = 120

[recommend.retrieval.sources]
als = 50
item-item = 50
genre-popular = 30
popular = 20
"""
SOURCES = ["als", "item-item", "genre-popular", "popular"]


@pytest.fixture(scope="module")
def api(recs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A copy of the recommender data dir with a ranker trained by `vibeshelf train ranker`,
    served with two-stage as the default pipeline."""
    data_dir = tmp_path_factory.mktemp("two-stage-api") / "data"
    shutil.copytree(recs_dir, data_dir)
    config = data_dir / "vibeshelf.toml"
    config.write_text(CONFIG)
    env = {"VIBESHELF_CONFIG": str(config)}
    run_cli("train", "ranker", data_dir=data_dir, env=env)
    with recommend_server(data_dir, env) as client:
        yield client


def genre_of(recs_dir: Path) -> dict[str, str | None]:
    catalog = BookCatalog.load(Settings(data_dir=recs_dir).books_path)
    return {b.book_id: (b.genres[0] if b.genres else None) for b in catalog}


def check_answer(body: dict, reader: str, avoid: set[str], genres: dict[str, str | None]) -> None:
    """A two-stage list naming its sources, rules and boosts, without read books, genre cap held."""
    assert body["pipeline"] == "two-stage" and body["strategy"] == "two-stage"
    report = body["two_stage"]
    assert report["reader"] == reader and report["sources"] == SOURCES
    assert report["rules"] == ["exclude_read", "series_order", "max_per_genre"] and report["boosts"] == []
    assert set(report["timings_ms"]) == {"retrieve", "features", "rank", "boosts", "rules"}
    assert report["counts"]["candidates"] > 10
    books = body["recommendations"]
    ids = [b["book_id"] for b in books]
    assert len(ids) == 10 == len(set(ids)) and not set(ids) & avoid
    assert all(b["sources"] and set(b["sources"]) <= set(SOURCES) for b in books)
    assert all(isinstance(b["ranker_score"], float) for b in books)
    why = ("popular: read by ",) if reader == "new" else ("because you read ", "because you liked ")
    assert all(b["reason"].startswith(why) for b in books)
    top = Counter(genres[i] for i in ids[:5] if genres.get(i))
    assert not top or max(top.values()) <= 3


def test_a_known_reader_gets_two_stage(
    api: httpx.Client, recs_model: RecsModel, recs_dir: Path
) -> None:
    reader = active_reader(recs_model)
    read = {recs_model.items.ids[i] for i in recs_model.user_items(recs_model.user_index[reader])}
    response = api.post("/api/recommend", json={"user_id": reader, "debug": True})
    assert response.status_code == 200, response.text
    check_answer(response.json(), "model", read, genre_of(recs_dir))


def test_a_liked_list_gets_two_stage(
    api: httpx.Client, recs_model: RecsModel, recs_dir: Path
) -> None:
    user = recs_model.user_index[active_reader(recs_model, min_items=8)]
    liked = [recs_model.items.ids[i] for i in recs_model.user_items(user)[:5]]
    response = api.post("/api/recommend", json={"liked": liked, "debug": True})
    assert response.status_code == 200, response.text
    body = response.json()
    check_answer(body, "liked", set(liked), genre_of(recs_dir))
    assert all(b["reason"].startswith("because you liked ") for b in body["recommendations"])


def test_a_reader_the_model_does_not_know_gets_two_stage_from_stored_events(
    api: httpx.Client, recs_model: RecsModel, recs_dir: Path
) -> None:
    """A new reader's events are stored; the next answer folds their history in (no liked list)."""
    user = recs_model.user_index[active_reader(recs_model, min_items=8)]
    read = [recs_model.items.ids[i] for i in recs_model.user_items(user)[:4]]
    for book in read:
        event = {"user_id": "new-reader-7", "book_id": book, "rating": 5}
        stored = api.post("/api/events", json=event)
        assert stored.status_code in (200, 201), stored.text
    response = api.post("/api/recommend", json={"user_id": "new-reader-7", "debug": True})
    assert response.status_code == 200, response.text
    check_answer(response.json(), "history", set(read), genre_of(recs_dir))


def test_a_reader_with_nothing_known_gets_the_popular_candidates_ranked_and_ruled(
    api: httpx.Client, recs_model: RecsModel, recs_dir: Path
) -> None:
    """No model vector, no events, no liked list: the popular candidates go through the ranker
    and the rules, so the genre cap holds for this reader too."""
    response = api.post("/api/recommend", json={"user_id": "nobody-at-all", "debug": True})
    assert response.status_code == 200, response.text
    body = response.json()
    check_answer(body, "new", set(), genre_of(recs_dir))
    popular = {recs_model.items.ids[i] for i in np.argsort(-recs_model.counts)[:120]}
    assert {b["book_id"] for b in body["recommendations"]} <= popular
