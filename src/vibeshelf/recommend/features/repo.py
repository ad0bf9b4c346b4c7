"""The Feast repo in <data_dir>/features: feature_store.yaml, the definitions file, apply."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import yaml
from feast import FeatureStore

from vibeshelf.config.features import FeatureStoreSettings, redis_connection_string
from vibeshelf.config.urls import backend_of, url_path
from vibeshelf.recommend.features.definitions import PROJECT, feature_objects

# Feast warns on every retrieval that on-demand views are experimental; said once, in the docs.
warnings.filterwarnings("ignore", message="On demand feature view is", category=RuntimeWarning)

CONFIG_FILE = "feature_store.yaml"
DEFINITIONS_FILE = "definitions.py"
SOURCES_DIR = "sources"
REGISTRY_FILE = "registry.db"
ONLINE_FILE = "online.sqlite3"
DEFINITIONS = '''"""vibeshelf's Feast definitions (written by `vibeshelf features apply`; edit the settings instead)."""

from vibeshelf.recommend.features.definitions import feature_objects

book, reader, books, readers, candidates, reader_book = feature_objects({sources!r}, {names!r})
'''


@dataclass(frozen=True)
class FeatureRepo:
    """A Feast repo directory and the settings it is written from."""

    root: Path
    settings: FeatureStoreSettings

    @property
    def sources_dir(self) -> Path:
        """Where the offline store's Parquet files live."""
        return self.root / SOURCES_DIR

    def config(self) -> dict[str, object]:
        """feature_store.yaml as a mapping; paths relative to the repo, so it can be moved."""
        url = self.settings.url
        online: dict[str, object]
        if backend_of(url) == "redis":
            online = {"type": "redis", "connection_string": redis_connection_string(url)}
        else:
            online = {"type": "sqlite", "path": url_path(url) or ONLINE_FILE}
        return {
            "project": PROJECT,
            "provider": "local",
            "registry": REGISTRY_FILE,
            "online_store": online,
            "offline_store": {"type": "file"},
            "entity_key_serialization_version": 3,
        }

    def write(self) -> None:
        """Write feature_store.yaml and the definitions file (a fresh registry follows on apply)."""
        self.sources_dir.mkdir(parents=True, exist_ok=True)
        (self.root / CONFIG_FILE).write_text(yaml.safe_dump(self.config(), sort_keys=False))
        (self.root / DEFINITIONS_FILE).write_text(
            DEFINITIONS.format(sources=SOURCES_DIR, names=list(self.settings.sources))
        )

    def open(self) -> FeatureStore:
        """The Feast store of a written repo; FileNotFoundError when it was never written."""
        if not (self.root / CONFIG_FILE).is_file():
            raise FileNotFoundError(
                f"no feature store in {self.root}: run `vibeshelf features apply`"
            )
        return FeatureStore(repo_path=str(self.root))

    def apply(self) -> FeatureStore:
        """Write the repo and register its definitions; returns the store."""
        self.write()
        store = self.open()
        store.apply(feature_objects(SOURCES_DIR, list(self.settings.sources)))
        return store
