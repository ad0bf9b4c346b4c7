"""The [analytics] settings as a user sets them, and `vibeshelf worker` without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import run_cli
from vibeshelf.settings import Settings


def test_the_broker_must_be_redis_and_the_store_a_database() -> None:
    assert Settings(analytics={"broker_url": "redis://127.0.0.1:6379/0"}).analytics.broker_url
    with pytest.raises(ValidationError, match="analytics broker URL scheme 'amqp'"):
        Settings(analytics={"broker_url": "amqp://127.0.0.1"})
    with pytest.raises(ValidationError, match="analytics store"):
        Settings(analytics={"store_url": "redis://127.0.0.1"})
    with pytest.raises(ValidationError, match="queue_size"):
        Settings(analytics={"queue_size": 0})


def test_worker_without_a_broker_says_what_to_set(tmp_path: Path) -> None:
    result = run_cli("worker", data_dir=tmp_path, check=False)
    assert result.returncode == 2 and "VIBESHELF_ANALYTICS__BROKER_URL" in result.stderr
