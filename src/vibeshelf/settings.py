"""Settings validated at the edge: defaults < vibeshelf.toml < VIBESHELF_* environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, overload

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vibeshelf.config.analytics import AnalyticsSettings
from vibeshelf.config.core import (
    CatalogSettings,
    EmbedSettings,
    ModelSettings,
    SearchSettings,
    ServeSettings,
    StoreSettings,
)
from vibeshelf.config.encode import AuthSettings, EncodeSettings
from vibeshelf.config.experiment import ExperimentSettings
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.config.urls import url_path

CONFIG_ENV = "VIBESHELF_CONFIG"
DEFAULT_CONFIG_FILE = "vibeshelf.toml"


class DataPath:
    """A path inside the settings' data directory, read like an attribute: `settings.logs_dir`."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    @overload
    def __get__(self, settings: None, owner: type) -> DataPath: ...

    @overload
    def __get__(self, settings: Settings, owner: type | None = None) -> Path: ...

    def __get__(self, settings: Settings | None, owner: type | None = None) -> Path | DataPath:
        return self if settings is None else settings.data_dir.joinpath(*self.parts)


class Settings(BaseSettings):
    """All vibeshelf settings; see vibeshelf.example.toml for every field, commented."""

    model_config = SettingsConfigDict(
        env_prefix="VIBESHELF_",
        env_nested_delimiter="__",
        extra="forbid",
        hide_input_in_errors=True,  # a rejected API key or secret never reaches a log
    )

    # The TOML file this class reads; None: $VIBESHELF_CONFIG, else ./vibeshelf.toml if present.
    config_file: ClassVar[Path | None] = None

    data_dir: Path = Path("vibeshelf-data")
    log_format: str = Field(default="text", pattern="^(text|json)$")
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    catalog: CatalogSettings = CatalogSettings()
    model: ModelSettings = ModelSettings()
    embed: EmbedSettings = EmbedSettings()
    store: StoreSettings = StoreSettings()
    search: SearchSettings = SearchSettings()
    serve: ServeSettings = ServeSettings()
    auth: AuthSettings = AuthSettings()
    encode: EncodeSettings = EncodeSettings()
    recommend: RecommendSettings = RecommendSettings()
    experiment: ExperimentSettings = ExperimentSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = cls.config_file or Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG_FILE))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @classmethod
    def reading(cls, config_file: Path) -> type[Settings]:
        """These settings with `config_file` as their TOML file."""
        return type(cls.__name__, (cls,), {"config_file": config_file})

    # Paths inside the data directory, one place for every stage.
    catalog_dir: ClassVar[DataPath] = DataPath("catalog")
    books_path: ClassVar[DataPath] = DataPath("catalog", "books.parquet")
    embeddings_dir: ClassVar[DataPath] = DataPath("embeddings")
    models_dir: ClassVar[DataPath] = DataPath("models")
    experiments_dir: ClassVar[DataPath] = DataPath("experiments")
    analytics_dir: ClassVar[DataPath] = DataPath("analytics")
    features_dir: ClassVar[DataPath] = DataPath("features")  # the Feast repo and its sources
    logs_dir: ClassVar[DataPath] = DataPath("logs")
    lexical_dir: ClassVar[DataPath] = DataPath("lexical")  # BM25 builds, beside the vector index

    @property
    def index_dir(self) -> Path:
        """Directory of the embedded HNSW store (hnsw:// URLs): the URL's path, or <data_dir>/index."""
        path = url_path(self.store.url)
        return Path(path) if path else self.data_dir / "index"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
