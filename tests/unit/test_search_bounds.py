"""`vibeshelf search` refuses the filter values that the API and the page refuse, with exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize(
    ("option", "value"),
    [("--year-min", "99999"), ("--year-max", "-" + "9" * 400), ("--min-rating", "9")],
)
def test_out_of_range_filter_exits_2_with_a_message(tmp_path: Path, option: str, value: str) -> None:
    result = run_cli("search", "dragons", f"{option}={value}", data_dir=tmp_path, check=False)
    assert result.returncode == 2
    assert option in result.stderr and "Traceback" not in result.stderr
