"""A book's text summary: the first principal components of its document vector, fitted once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

PCA_FILE = "text_pca.npz"


@dataclass(frozen=True)
class TextSummary:
    """Projects vectors onto `components` (rows) after subtracting `mean`."""

    mean: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(cls, vectors: np.ndarray, dims: int) -> TextSummary:
        """The top `dims` principal components of `vectors` (signs fixed: largest loading positive)."""
        mean = vectors.mean(axis=0)
        _, _, vt = np.linalg.svd(vectors - mean, full_matrices=False)
        components = vt[:dims]
        signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
        return cls(mean.astype(np.float64), (components * signs[:, None]).astype(np.float64))

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return (np.asarray(vectors, np.float64) - self.mean) @ self.components.T

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean, components=self.components)

    @classmethod
    def load(cls, path: Path) -> TextSummary:
        with np.load(path) as saved:
            return cls(saved["mean"], saved["components"])


def text_summary(vectors: np.ndarray, dims: int, path: Path) -> TextSummary:
    """The summary saved at `path` when it fits these vectors and dims, else one fitted and saved:
    features materialized again keep the projection a ranker was trained on."""
    if path.is_file():
        saved = TextSummary.load(path)
        if saved.components.shape == (dims, vectors.shape[1]):
            return saved
    fitted = TextSummary.fit(vectors, dims)
    fitted.save(path)
    return fitted
