"""store.vector_dtype: float16 for the server stores, refused for the embedded hnsw store."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from vibeshelf.cli.app import app
from vibeshelf.settings import Settings


def test_server_stores_accept_float16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBESHELF_STORE__VECTOR_DTYPE", "float16")
    for url in ("redis://127.0.0.1:6379/0", "postgresql://u@db:5432/v"):
        monkeypatch.setenv("VIBESHELF_STORE__URL", url)
        assert Settings().store.vector_dtype == "float16"


def test_the_default_is_float32_everywhere() -> None:
    assert Settings().store.vector_dtype == "float32"


@pytest.mark.parametrize(("dtype", "message"), [("float16", "keeps float32"), ("int4", "float32")])
def test_hnsw_refuses_anything_but_float32(
    monkeypatch: pytest.MonkeyPatch, dtype: str, message: str
) -> None:
    monkeypatch.setenv("VIBESHELF_STORE__URL", "hnsw:///srv/index")
    monkeypatch.setenv("VIBESHELF_STORE__VECTOR_DTYPE", dtype)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_the_cli_exits_2_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIBESHELF_STORE__VECTOR_DTYPE", "float16")
    result = CliRunner().invoke(app, ["index"])
    assert result.exit_code == 2
    assert "store.vector_dtype = 'float16' needs a redis:// or postgresql:// store" in result.output
