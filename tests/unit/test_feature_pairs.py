"""The on-demand reader x book features, the text summary and the feature store settings, no store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from vibeshelf.config.features import FeatureStoreSettings, redis_connection_string
from vibeshelf.recommend.features.books import genre_matrix
from vibeshelf.recommend.features.definitions import pair_columns
from vibeshelf.recommend.features.pairs import pair_features
from vibeshelf.recommend.features.text_summary import TextSummary, text_summary


def _inputs(**columns: list[float | None]) -> pd.DataFrame:
    base = {
        "text_0": [1.0, 1.0, 0.0], "text_1": [0.0, 1.0, 0.0],
        "taste_0": [2.0, 2.0, np.nan], "taste_1": [0.0, 0.0, np.nan],
        "genre_fantasy": [1, 1, 0], "genre_horror": [0, 1, 0],
        "affinity_fantasy": [0.5, 0.5, np.nan], "affinity_horror": [0.1, 0.1, np.nan],
    }
    return pd.DataFrame({**base, **columns})


def test_a_source_that_did_not_propose_a_book_scores_zero_at_the_missing_rank() -> None:
    out = pair_features(
        _inputs(score_als=[0.9, None, 0.2], rank_als=[1, None, 4], score_vector=[None, 0.5, None],
                rank_vector=[None, 2, None]),
        missing_rank=500.0,
    )
    assert out["als_score"].tolist() == [0.9, 0.0, 0.2]
    assert out["als_rank"].tolist() == [1.0, 500.0, 4.0]
    assert out["vector_rank"].tolist() == [500.0, 2.0, 500.0]
    assert out["sources_proposing"].tolist() == [1.0, 1.0, 1.0]
    assert list(out.columns) == pair_columns(["als", "vector"])


def test_taste_cosine_and_genre_overlap_follow_the_reader() -> None:
    out = pair_features(_inputs(score_als=[None] * 3, rank_als=[None] * 3))
    assert out["taste_cosine"].tolist() == pytest.approx([1.0, np.sqrt(0.5), 0.0])
    # book 0 has fantasy only (share 0.5); book 1 fantasy and horror (mean 0.3); book 2 none
    assert out["genre_overlap"].tolist() == pytest.approx([0.5, 0.3, 0.0])


def test_genre_matrix_marks_only_top_level_genres() -> None:
    matrix = genre_matrix([["fantasy", "witches"], None, ["horror", "fantasy"]])
    assert matrix.sum(axis=1).tolist() == [1, 0, 2]


def test_text_summary_is_fitted_once_and_reused(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 6)) * np.array([5, 3, 1, 0.1, 0.1, 0.1])
    path = tmp_path / "pca.npz"
    first = text_summary(vectors, 2, path)
    again = text_summary(vectors[:10] + 100, 2, path)  # other vectors: the saved projection stays
    np.testing.assert_array_equal(first.components, again.components)
    projected = first.project(vectors)
    assert projected[:, 0].var() > projected[:, 1].var() > 0
    assert TextSummary.load(path).components.shape == (2, 6)


def test_redis_urls_become_feast_connection_strings() -> None:
    assert redis_connection_string("redis://127.0.0.1:6390/2") == "127.0.0.1:6390,db=2"
    assert redis_connection_string("rediss://:s3cret@cache") == "cache:6379,db=0,password=s3cret,ssl=true"
    with pytest.raises(ValueError, match="database must be a number"):
        redis_connection_string("redis://host/feast")


@pytest.mark.parametrize(
    ("values", "message"),
    [({"url": "ftp://x"}, "unsupported feature store URL"), ({"url": "unix:///tmp/r.sock"}, "TCP"),
     ({"sources": ["ALS"]}, "pattern"), ({"sources": []}, "at least 1"),
     ({"sources": ["als", "vector", "als"]}, r"named twice: \['als'\]")],
)
def test_bad_feature_store_settings_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FeatureStoreSettings.model_validate(values)


def test_importing_the_feature_store_leaves_the_metrics_in_process() -> None:
    """Feast's import points PROMETHEUS_MULTIPROC_DIR at a temp dir; the server's /metrics would
    then read (empty) multiprocess files instead of its own counters."""
    script = (
        "import os, vibeshelf.recommend.features.client, prometheus_client\n"
        "c = prometheus_client.Counter('probe', 'probe'); c.inc()\n"
        "assert 'PROMETHEUS_MULTIPROC_DIR' not in os.environ, os.environ['PROMETHEUS_MULTIPROC_DIR']\n"
        "assert b'probe_total 1.0' in prometheus_client.generate_latest()\n"
        "print(os.environ['FEAST_USAGE'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMETHEUS", "FEAST"))}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
