"""Settings: defaults, the commented example file, env overrides and validation."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from vibeshelf.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_example_config_matches_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBESHELF_CONFIG", str(REPO / "vibeshelf.example.toml"))
    from_file = Settings()
    monkeypatch.setenv("VIBESHELF_CONFIG", str(REPO / "missing.toml"))
    defaults = Settings()
    assert from_file.model_dump(exclude={"model"}) == defaults.model_dump(exclude={"model"})
    assert from_file.model.name == defaults.model.name


def test_env_overrides_nested_fields(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIBESHELF_SEARCH__CANDIDATES", "250")
    settings = Settings()
    assert settings.search.candidates == 250
    assert settings.index_dir == tmp_path / "index"


def test_store_url_path_and_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBESHELF_STORE__URL", "hnsw:///srv/idx")
    assert Settings().index_dir == Path("/srv/idx")
    for url in ("redis://127.0.0.1:6379/0?prefix=books", "postgresql://u:p@db:5432/v", "postgres://db/v"):
        monkeypatch.setenv("VIBESHELF_STORE__URL", url)
        assert Settings().store.url == url
    monkeypatch.setenv("VIBESHELF_STORE__URL", "ftp://user:secret@nowhere")
    with pytest.raises(ValidationError, match="unsupported vector store URL") as error:
        Settings()
    assert "secret" not in str(error.value)


def test_out_of_range_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBESHELF_SEARCH__POPULARITY_WEIGHT", "3")
    with pytest.raises(ValidationError):
        Settings()


def test_the_recommendation_cache_takes_memory_redis_or_nothing() -> None:
    from vibeshelf.config.recommend import RecommendSettings
    from vibeshelf.recommend.answer_cache import MemoryAnswers, RedisAnswers, open_answer_cache

    assert isinstance(open_answer_cache(RecommendSettings()), MemoryAnswers)
    assert isinstance(open_answer_cache(RecommendSettings(cache_url="redis://127.0.0.1:1/0")), RedisAnswers)
    assert open_answer_cache(RecommendSettings(cache_url="")) is None
    assert open_answer_cache(RecommendSettings(cache_size=0)) is None
    with pytest.raises(ValidationError, match="unsupported recommend.cache_url URL scheme 'postgresql'"):
        RecommendSettings(cache_url="postgresql://localhost/db")
