"""Training the two towers with torch (the `[train]` extra): in-batch softmax with logQ correction.

Item tower: content (text vector | genres) -> MLP, plus a learned id embedding that is zero for an
item with no training interactions, so such an item is placed by its content alone. User tower:
the history-weighted mean of the items' tower inputs (content and id embedding) -> MLP. Both end
L2-normalised; a batch's other positives are its negatives, their logits lowered by log q (each
item's share of the training interactions) so that popular items are not over-penalised. The
target item is left out of its own reader's history mean (the held-out items a reader is scored
on are never in it either).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from tqdm import tqdm

from vibeshelf.config.two_tower import TwoTowerSettings
from vibeshelf.recommend.two_tower.user_tower import HISTORY_INPUT, USER_OUTPUT

OPSET = 17


def _mlp(inputs: int, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, out))


class TwoTowerNet(nn.Module):
    """Both towers over a fixed item content matrix; `warm` marks items with interactions."""

    content: torch.Tensor
    warm: torch.Tensor

    def __init__(self, content: np.ndarray, warm: np.ndarray, params: TwoTowerSettings) -> None:
        super().__init__()
        self.register_buffer("content", torch.from_numpy(np.ascontiguousarray(content, np.float32)))
        ids = float(params.id_embeddings)
        self.register_buffer("warm", torch.from_numpy(warm.astype(np.float32) * ids)[:, None])
        self.ids = nn.Embedding(len(content), params.dim)
        nn.init.normal_(self.ids.weight, std=0.01)
        self.item_mlp = _mlp(content.shape[1], params.hidden, params.dim)
        self.user_mlp = _mlp(content.shape[1] + params.dim, params.hidden, params.dim)

    def id_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """Id embeddings, zero for cold items (all of them without `id_embeddings`)."""
        if items is None:
            return self.ids.weight * self.warm
        return self.ids(items) * self.warm[items]

    def item_inputs(self) -> torch.Tensor:
        """Every item's user-tower input row: [content | id embedding]."""
        return torch.cat([self.content, self.id_vectors()], dim=1)

    def items(
        self, items: torch.Tensor | None = None, keep_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Unit item vectors; `keep_ids` (0/1 per item) drops id embeddings (training dropout)."""
        content = self.content if items is None else self.content[items]
        ids = self.id_vectors(items)
        if keep_ids is not None:
            ids = ids * keep_ids[:, None]
        return nn.functional.normalize(self.item_mlp(content) + ids, dim=1)

    def users(self, pooled: torch.Tensor) -> torch.Tensor:
        """Unit user vectors from history means of item inputs."""
        return nn.functional.normalize(self.user_mlp(pooled), dim=1)


class UserTower(nn.Module):
    """The served user tower: history weights over every item (batch x items) -> unit vector."""

    inputs: torch.Tensor

    def __init__(self, net: TwoTowerNet) -> None:
        super().__init__()
        self.register_buffer("inputs", net.item_inputs().detach().clone())
        self.mlp = net.user_mlp

    def forward(self, history: torch.Tensor) -> torch.Tensor:
        total = history.sum(dim=1, keepdim=True).clamp_min(1e-6)
        return nn.functional.normalize(self.mlp(history @ self.inputs / total), dim=1)


@dataclass
class _Batches:
    """Training pairs (user, item, weight) and what each step needs about the users' histories."""

    users: np.ndarray
    items: np.ndarray
    weights: np.ndarray
    history: sp.csr_matrix
    content_sums: torch.Tensor
    totals: torch.Tensor
    log_q: torch.Tensor


def _batches(history: sp.csr_matrix, content: np.ndarray) -> _Batches:
    coo = history.tocoo()
    counts = np.bincount(coo.col, minlength=history.shape[1]).astype(np.float64)
    q = np.maximum(counts, 1.0) / max(1, history.nnz)
    return _Batches(
        users=coo.row.astype(np.int64),
        items=coo.col.astype(np.int64),
        weights=coo.data.astype(np.float32),
        history=history,
        content_sums=torch.from_numpy(np.asarray(history @ content, np.float32)),
        totals=torch.from_numpy(np.asarray(history.sum(axis=1), np.float32)),
        log_q=torch.from_numpy(np.log(q).astype(np.float32)),
    )


def _pooled(
    net: TwoTowerNet, data: _Batches, users: np.ndarray, items: np.ndarray, weights: np.ndarray
) -> torch.Tensor:
    """Each pair's user input: the history mean without the pair's own item."""
    rows = data.history[users]
    bag = torch.from_numpy(rows.indices.astype(np.int64))
    bag_weights = torch.from_numpy(rows.data.astype(np.float32)) * net.warm[bag, 0]
    offsets = torch.from_numpy(rows.indptr[:-1].astype(np.int64))
    user_t, item_t = torch.from_numpy(users), torch.from_numpy(items)
    w = torch.from_numpy(weights)[:, None]
    content = data.content_sums[user_t] - w * net.content[item_t]
    ids = nn.functional.embedding_bag(
        bag, net.ids.weight, offsets, mode="sum", per_sample_weights=bag_weights
    ) - w * net.id_vectors(item_t)
    total = (data.totals[user_t] - w).clamp_min(1e-6)
    return torch.cat([content, ids], dim=1) / total


def fit_two_tower(
    history: sp.csr_matrix,
    content: np.ndarray,
    params: TwoTowerSettings,
    progress: bool = False,
) -> TwoTowerNet:
    """Train both towers on the history's (user, item) pairs; same seed and data, same towers."""
    torch.manual_seed(params.seed)
    warm = np.bincount(history.indices, minlength=history.shape[1]) > 0
    net = TwoTowerNet(content, warm, params)
    data = _batches(history, content)
    optimiser = torch.optim.Adam(net.parameters(), lr=params.learning_rate)
    rng = np.random.default_rng(params.seed)
    per_epoch = -(-len(data.users) // params.batch_size)
    steps = min(params.max_steps, params.epochs * per_epoch)
    order = np.arange(0)
    net.train()
    with tqdm(total=steps, desc="two-tower", unit="step", disable=not progress) as bar:
        for step in range(steps):
            start = step % per_epoch * params.batch_size
            if start == 0:  # each pass over the pairs in a new order
                order = rng.permutation(len(data.users))
            pick = order[start : start + params.batch_size]
            loss = _step_loss(net, data, pick, params, rng)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            bar.update()
    net.eval()
    return net


def _step_loss(
    net: TwoTowerNet,
    data: _Batches,
    pick: np.ndarray,
    params: TwoTowerSettings,
    rng: np.random.Generator,
) -> torch.Tensor:
    users, items, weights = data.users[pick], data.items[pick], data.weights[pick]
    item_t = torch.from_numpy(items)
    keep = torch.from_numpy((rng.random(len(pick)) >= params.id_dropout).astype(np.float32))
    user_vectors = net.users(_pooled(net, data, users, items, weights))
    item_vectors = net.items(item_t, keep)
    logits = user_vectors @ item_vectors.T / params.temperature - data.log_q[item_t][None, :]
    same = item_t[:, None] == item_t[None, :]
    logits = logits.masked_fill(same & ~torch.eye(len(pick), dtype=torch.bool), float("-inf"))
    return nn.functional.cross_entropy(logits, torch.arange(len(pick)))


def item_vectors(net: TwoTowerNet) -> np.ndarray:
    """Every item's unit vector (float32), as served."""
    with torch.inference_mode():
        return net.items().numpy().astype(np.float32)


def torch_user_vectors(net: TwoTowerNet, history: np.ndarray) -> np.ndarray:
    """The user tower in torch (the reference the ONNX export is checked against)."""
    with torch.inference_mode():
        return UserTower(net)(torch.from_numpy(np.asarray(history, np.float32))).numpy()


def export_user_tower(net: TwoTowerNet, path: Path) -> None:
    """Write the user tower as ONNX: input `history` (batch x items), output `user_vector`."""
    tower = UserTower(net).eval()
    example = torch.zeros((2, int(net.content.shape[0])), dtype=torch.float32)
    example[:, 0] = 1.0
    # The TorchScript exporter warns that it is the legacy one; the parity test guards its graph.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            tower,
            (example,),
            str(path),
            input_names=[HISTORY_INPUT],
            output_names=[USER_OUTPUT],
            dynamic_axes={HISTORY_INPUT: {0: "batch"}, USER_OUTPUT: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
