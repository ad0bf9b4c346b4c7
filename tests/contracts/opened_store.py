"""Where a store contract's `store` comes from: `open_store(where)`, closed after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


class OpenedStore:
    """The `store` fixture: `open_store(where)` on the test's `where` fixture, closed afterwards."""

    @pytest.fixture
    def store(self, where: Any) -> Iterator[Any]:
        store = self.open_store(where)
        yield store
        store.close()

    def open_store(self, where: Any) -> Any:
        raise NotImplementedError


class SqliteFileStore(OpenedStore):
    """A subclass's `open_store(directory)` opens what a `sqlite://` URL opens in `directory`, the
    test's own temporary one."""

    @pytest.fixture
    def where(self, tmp_path: Path) -> Path:
        return tmp_path
