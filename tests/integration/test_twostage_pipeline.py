"""The two-stage pipeline end to end on the real Book-Crossing ratings: real ALS, real LightGBM."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import run_cli
from tests.contracts.recommender import TEST_RECS, active_reader
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.cli.app import app
from vibeshelf.config.ranking import MaxPerGenre, PromotedBoost, RankingSettings
from vibeshelf.config.retrieval import RetrievalSettings
from vibeshelf.experiment.registry import RegistryFile
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.features.definitions import view_versions
from vibeshelf.recommend.features.repo import FeatureRepo
from vibeshelf.recommend.retrieval import SourceContext
from vibeshelf.recommend.schemas import RecommendRequest
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.two_stage_answer import NoRankerError
from vibeshelf.recommend.twostage.books import BookFacts, book_facts
from vibeshelf.recommend.twostage.boosts import make_boosts
from vibeshelf.recommend.twostage.candidates import CandidateStage, candidate_stage
from vibeshelf.recommend.twostage.evaluation import RankerReport, train_and_evaluate
from vibeshelf.recommend.twostage.features import FEATURES_VERSION, feature_names
from vibeshelf.recommend.twostage.pipeline import TwoStagePipeline
from vibeshelf.recommend.twostage.ranker import Ranker, load_ranker
from vibeshelf.recommend.twostage.ranker_record import current_record, ranker_root
from vibeshelf.recommend.twostage.rules import MaxPerGenreRule, make_rules
from vibeshelf.recommend.twostage.served_features import StoreFeatures
from vibeshelf.serve import recommender
from vibeshelf.serve.recommender import load_recommender
from vibeshelf.settings import Settings

RANKING = RankingSettings(train_readers=400, eval_readers=300, neighbours=50)
RETRIEVAL = RetrievalSettings(
    sources={"als": 50, "item-item": 50, "genre-popular": 30, "popular": 20}, total=120
)
SOURCES = ["als", "item-item", "genre-popular", "popular"]


def served(data_dir: Path) -> Settings:
    """Serving settings naming the candidate sources the test ranker was trained with."""
    rec = TEST_RECS.model_copy(update={"ranking": RANKING, "retrieval": RETRIEVAL})
    return Settings(data_dir=data_dir, auth={"enabled": False}, recommend=rec)


def stage(model: RecsModel) -> CandidateStage:
    return candidate_stage(RETRIEVAL, SourceContext(model), RANKING.neighbours)


@pytest.fixture(scope="module")
def data_dir(recs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the recommender data dir that the ranker may write into."""
    target = tmp_path_factory.mktemp("ranker") / "data"
    shutil.copytree(recs_dir, target)
    return target


@pytest.fixture(scope="module")
def trained(data_dir: Path) -> tuple[Ranker, RankerReport]:
    rec = TEST_RECS.model_copy(update={"ranking": RANKING, "retrieval": RETRIEVAL})
    return train_and_evaluate(Settings(data_dir=data_dir), rec)


@pytest.fixture(scope="module")
def facts(recs_dir: Path) -> dict[str, BookFacts]:
    return book_facts(BookCatalog.load(Settings(data_dir=recs_dir).books_path))


def test_training_writes_a_version_with_features_metrics_and_importances(
    trained: tuple[Ranker, RankerReport], data_dir: Path
) -> None:
    ranker, report = trained
    loaded = load_ranker(ranker_root(Settings(data_dir=data_dir)))
    assert loaded.version == ranker.version == report.version
    meta = loaded.metadata
    assert meta["features"] == feature_names(SOURCES) and meta["sources"] == SOURCES
    assert meta["features_version"] == FEATURES_VERSION
    assert meta["feature_views"] == view_versions()
    assert meta["feature_views"]["books"]["features"][:2] == ["book_readers", "book_year"]
    assert meta["metrics"]["two-stage"]["ndcg_at_10"] == report.rows["two-stage"].ndcg_at_10
    assert set(meta["importances_gain"]) == set(feature_names(SOURCES))
    assert sum(meta["importances_gain"].values()) > 0
    readers = meta["trained_on"]["readers"]
    assert readers["ranker_train"] > 0 and readers["evaluate"] > 0


def test_rules_leave_no_genre_violation_and_every_row_is_scored(
    trained: tuple[Ranker, RankerReport],
) -> None:
    _, report = trained
    assert set(report.rows) == {
        "ALS", "item-item", "candidates (merged, unranked)", "two-stage", "two-stage + rules"
    }
    assert report.rows["two-stage + rules"].genre_violations == 0
    assert report.rows["ALS"].genre_violations > 0  # the rule has work to do on this data
    for scores in report.rows.values():
        assert 0.0 <= scores.ndcg_at_10 <= scores.hr_at_10 <= 1.0
    low, high = report.interval
    assert low <= high


def test_pipeline_answers_a_known_reader_with_sources_rules_and_boosts(
    trained: tuple[Ranker, RankerReport],
    recs_model: RecsModel,
    facts: dict[str, BookFacts],
    data_dir: Path,
) -> None:
    ranker, _ = trained
    reader = active_reader(recs_model)
    retrieve = stage(recs_model)
    profile = Profile(user_id=reader)
    promoted = retrieve(profile)[-1].item_id  # the last candidate: only a boost can lift it
    (data_dir / "promoted.txt").write_text(f"# promoted this week\n{promoted}\n")
    user = recs_model.user_index[reader]
    read = {recs_model.items.ids[i] for i in recs_model.user_items(user)}
    settings = served(data_dir)  # train_and_evaluate materialized its feature store

    def pipeline(boosts: list[PromotedBoost]) -> TwoStagePipeline:
        return TwoStagePipeline(
            retrieve,
            StoreFeatures(
                FeatureRepo(settings.features_dir, settings.recommend.feature_store),
                recs_model,
                retrieve.names,
            ),
            ranker,
            make_rules([*RANKING.rules]),
            make_boosts(boosts, data_dir),
            books=facts,
            read=lambda _profile: read,
        )

    result = pipeline([PromotedBoost(file="promoted.txt", delta=0.3)])(profile, k=10)
    ids = [item.item_id for item in result.items]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert not read & set(ids)
    assert not MaxPerGenreRule(3, 5).violated(result.items)
    assert all(item.sources and "ranker" in item.reason for item in result.items)
    assert set(result.timings_ms) == {"retrieve", "features", "rank", "boosts", "rules"}
    assert 50 <= result.counts["candidates"] <= 120 and result.counts["source_als"] == 50
    for move in result.moves:
        assert move.rule in {"exclude_read", "series_order", "max_per_genre"}
        assert move.to_position is None or move.to_position != move.from_position

    everything = result.counts["candidates"]
    plain = {i.item_id: i for i in pipeline([])(profile, k=everything).items}
    boosted = {
        i.item_id: i
        for i in pipeline([PromotedBoost(file="promoted.txt", delta=0.3)])(
            profile, k=everything
        ).items
    }
    assert boosted[promoted].score == pytest.approx(plain[promoted].score + 0.3)
    assert "+0.3 promoted" in boosted[promoted].reason
    assert all(boosted[i].score == plain[i].score for i in plain if i != promoted)
    assert not any("promoted" in boosted[i].reason for i in boosted if i != promoted)
    order = list(boosted)
    assert order.index(promoted) < list(plain).index(promoted)


def test_settings_list_builds_the_rules_in_order() -> None:
    rules = make_rules(
        RankingSettings.model_validate(
            {
                "rules": [
                    {"kind": "language", "languages": ["eng"]},
                    {"kind": "max_per_genre", "limit": 2},
                ]
            }
        ).rules
    )
    assert [r.name for r in rules] == ["language", "max_per_genre"]
    assert isinstance(rules[1], MaxPerGenreRule) and rules[1].limit == 2
    assert MaxPerGenre().limit == 3 and MaxPerGenre().window == 5


def test_the_served_recommender_answers_two_stage_with_sources_rules_and_timings(
    trained: tuple[Ranker, RankerReport], data_dir: Path
) -> None:
    """/api/recommend's service with the trained ranker: a known reader gets the two-stage list
    (sources, ranker score, the genre cap held, stage timings with debug); a liked list gets the
    ALS chain and says so; the answer names the ranker version."""
    service = load_recommender(served(data_dir))
    assert service is not None and service.health()["ranker"] == trained[0].version
    reader = active_reader(service.model, min_items=5)
    answer = service.recommend(
        RecommendRequest(user_id=reader, cutoff=10, pipeline="two-stage", debug=True)
    )
    assert answer.pipeline == "two-stage" and answer.two_stage is not None
    assert answer.two_stage.ranker_version == trained[0].version
    assert set(answer.two_stage.timings_ms or {}) == {"retrieve", "features", "rank", "boosts", "rules"}
    books = answer.recommendations
    assert len(books) == 10 and all(b.sources and b.ranker_score is not None for b in books)
    assert {s for b in books for s in b.sources} <= set(SOURCES)
    assert answer.two_stage.sources == SOURCES and answer.two_stage.reader == "model"
    assert answer.two_stage.rules == ["exclude_read", "series_order", "max_per_genre"]
    read = set(service.store.history(service.source, reader))
    assert not {b.book_id for b in books} & read
    titles = {service.model.items.titles[service.model.item_index[b]] for b in read}
    for book in books:  # a reason a reader can use: the closest book they read
        assert book.reason.startswith("because you read "), book.reason
        assert book.reason.removeprefix("because you read ").split("; ")[0] in titles
    facts = book_facts(BookCatalog.load(Settings(data_dir=data_dir).books_path))
    top_genres = Counter(facts[b.book_id].genre for b in books[:5])
    assert max(top_genres.values()) <= 3
    default = service.recommend(RecommendRequest(user_id=reader, cutoff=10))
    assert default.pipeline == "two-stage"  # the default with a ranker loaded
    als = service.recommend(RecommendRequest(user_id=reader, cutoff=10, pipeline="als"))
    assert als.pipeline == "als" and als.two_stage is None
    liked = service.recommend(RecommendRequest(liked=[books[0].book_id], pipeline="two-stage"))
    assert liked.pipeline == "two-stage" and liked.two_stage is not None
    assert liked.two_stage.reader == "liked" and len(liked.recommendations) == 10
    assert books[0].book_id not in {b.book_id for b in liked.recommendations}
    service.close()


def test_eval_recs_prints_the_current_rankers_importances(
    trained: tuple[Ranker, RankerReport], data_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ranker, report = trained
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(data_dir))
    monkeypatch.setenv("VIBESHELF_RECOMMEND__FACTORS", "16")  # the refit stays quick
    monkeypatch.setenv("VIBESHELF_RECOMMEND__ITERATIONS", "6")
    result = CliRunner().invoke(app, ["eval", "recs"])
    assert result.exit_code == 0, result.output
    assert f"ranker {ranker.version} (trained on {report.source}" in result.output
    name, share = next(iter(report.importances.items()))
    assert f"feature importances (gain share): {name} {share:.3f}" in result.output
    assert current_record(Settings(data_dir=tmp_path)) is None  # none trained there


def test_a_model_without_genres_reads_the_catalog_once(
    trained: tuple[Ranker, RankerReport], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model written before canonical genres gets them from the catalog, and the two-stage
    pipeline's book facts come from that same read."""
    load_model = recommender.load_model

    def without_genres(*args: object, **kwargs: object) -> RecsModel:
        model = load_model(*args, **kwargs)  # type: ignore[arg-type]
        model.items.genres = [[] for _ in model.items.ids]
        return model

    reads: list[Path] = []
    load_catalog = BookCatalog.load
    monkeypatch.setattr(recommender, "load_model", without_genres)
    monkeypatch.setattr(
        BookCatalog, "load", classmethod(lambda _cls, path: reads.append(path) or load_catalog(path))
    )
    service = load_recommender(served(data_dir))
    assert service is not None and service.two_stage is not None
    assert any(service.model.items.genres)
    assert reads == [Settings(data_dir=data_dir).books_path]
    service.close()


def test_asking_for_two_stage_without_a_ranker_is_refused(recs_dir: Path) -> None:
    """Without a ranker the default pipeline is ALS; asking for two-stage by name is refused."""
    service = load_recommender(Settings(data_dir=recs_dir))
    assert service is not None and service.health()["ranker"] is None
    assert service.recommend(RecommendRequest(user_id="anyone")).pipeline == "als"
    with pytest.raises(NoRankerError, match="train ranker"):
        service.recommend(RecommendRequest(user_id="anyone", pipeline="two-stage"))
    service.close()


def test_a_recommend_version_can_be_the_two_stage_pipeline(
    trained: tuple[Ranker, RankerReport], data_dir: Path, recs_dir: Path, tmp_path: Path
) -> None:
    """`models add --pipeline two-stage` records it in the version's target (refused without a
    ranker); a service loaded for such a version answers two-stage by default."""
    bare = tmp_path / "bare"
    shutil.copytree(recs_dir, bare)
    refused = run_cli("models", "add", "r-two", "--surface", "recommend", "--pipeline", "two-stage",
                      data_dir=bare, check=False)
    assert refused.returncode == 2 and "train ranker" in refused.stderr
    assert load_recommender(Settings(data_dir=bare), pipeline="two-stage") is None
    run_cli("models", "add", "r-two", "--surface", "recommend", "--pipeline", "two-stage",
            data_dir=data_dir)
    (version,) = RegistryFile(Settings(data_dir=data_dir).experiments_dir).read().versions
    assert version.target["pipeline"] == "two-stage"
    service = load_recommender(served(data_dir), pipeline=version.target["pipeline"])
    assert service is not None
    answer = service.recommend(RecommendRequest(user_id=active_reader(service.model)))
    assert answer.pipeline == "two-stage" and len(answer.recommendations) == 10
    service.close()
