"""The two towers, trained small in the test: the ONNX user tower agrees with torch, cold items
are placed by their content alone, and the same seed gives the same towers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from tests.conftest import require
from vibeshelf.config.two_tower import TwoTowerSettings
from vibeshelf.recommend.two_tower.user_tower import OnnxUserTower

pytestmark = pytest.mark.torch

USERS, ITEMS, CONTENT = 60, 40, 12
COLD = 39  # nobody read the last item
PARAMS = TwoTowerSettings(dim=8, hidden=16, epochs=3, batch_size=32, seed=3)


@pytest.fixture(autouse=True)
def _needs_torch() -> None:
    require("torch", "onnx")


def _data() -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(0)
    dense = (rng.random((USERS, ITEMS)) < 0.15) * rng.choice([0.2, 0.6, 1.0], (USERS, ITEMS))
    dense[:, COLD] = 0.0
    content = rng.normal(size=(ITEMS, CONTENT)).astype(np.float32)
    return sp.csr_matrix(dense.astype(np.float32)), content


def test_onnx_user_tower_matches_torch(tmp_path: Path) -> None:
    from vibeshelf.recommend.models.two_tower_train import (
        export_user_tower,
        fit_two_tower,
        torch_user_vectors,
    )

    history, content = _data()
    net = fit_two_tower(history, content, PARAMS)
    export_user_tower(net, tmp_path / "user_tower.onnx")
    tower = OnnxUserTower(tmp_path / "user_tower.onnx")
    readers = history.toarray()
    readers[0] = 0.0
    readers[0, [3, COLD]] = 1.0  # a liked list that holds the cold item
    onnx_vectors = tower.vectors(readers)
    torch_vectors = torch_user_vectors(net, readers)
    assert onnx_vectors.shape == (USERS, PARAMS.dim)
    np.testing.assert_allclose(onnx_vectors, torch_vectors, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert len({tuple(np.round(v, 4)) for v in onnx_vectors}) > USERS // 2  # not one vector for all


def test_an_item_nobody_read_is_placed_by_its_content_alone() -> None:
    import torch

    from vibeshelf.recommend.models.two_tower_train import fit_two_tower, item_vectors

    history, content = _data()
    net = fit_two_tower(history, content, PARAMS)
    vectors = item_vectors(net)
    with torch.inference_mode():
        by_content = torch.nn.functional.normalize(net.item_mlp(net.content), dim=1).numpy()
    np.testing.assert_allclose(vectors[COLD], by_content[COLD], atol=1e-6)
    assert np.abs(vectors[:COLD] - by_content[:COLD]).max() > 1e-3  # read items have id vectors


def test_same_seed_same_towers_and_training_fits_the_histories() -> None:
    from vibeshelf.recommend.models.two_tower_train import (
        fit_two_tower,
        item_vectors,
        torch_user_vectors,
    )

    history, content = _data()
    first = fit_two_tower(history, content, PARAMS)
    again = fit_two_tower(history, content, PARAMS)
    np.testing.assert_array_equal(item_vectors(first), item_vectors(again))
    untrained = fit_two_tower(history, content, PARAMS.model_copy(update={"max_steps": 1}))

    def read_rank(net: object) -> float:
        """Mean rank (0 = first) of each reader's own items among all items."""
        scores = torch_user_vectors(net, history.toarray()) @ item_vectors(net).T  # type: ignore[arg-type]
        ranks = (-scores).argsort(axis=1).argsort(axis=1)
        return float(ranks[history.toarray() > 0].mean())

    assert read_rank(first) < read_rank(untrained) - 2
