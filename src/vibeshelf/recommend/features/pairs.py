"""The on-demand reader x book transformation Feast runs alike for training and serving."""

from __future__ import annotations

import pandas as pd


def pair_features(inputs: pd.DataFrame, missing_rank: float = 10_000.0) -> pd.DataFrame:
    """Each candidate source's score (request field score_<source>; 0 when it did not propose the
    book) and rank (rank_<source>; `missing_rank`) as <source>_score and <source>_rank, how many sources proposed it, the cosine between the book's text summary
    and the reader's taste (0 for an unknown reader), and the reader's mean genre share over the
    book's genres.

    Feast stores this function's source and runs it on its own: it names nothing outside itself.
    """
    import numpy as np
    import pandas as pd

    def block(prefix: str) -> np.ndarray:
        names = sorted(c for c in inputs.columns if c.startswith(prefix))
        return inputs[names].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(np.float64)

    out = pd.DataFrame(index=inputs.index)
    proposed = np.zeros(len(inputs))
    for score in (c for c in inputs.columns if c.startswith("score_")):
        source = score.removeprefix("score_")
        given = pd.to_numeric(inputs[score], errors="coerce").astype("float64")
        rank = pd.to_numeric(inputs["rank_" + source], errors="coerce").astype("float64")
        proposed += given.notna().to_numpy()
        out[f"{source}_score"] = given.fillna(0.0)
        out[f"{source}_rank"] = rank.fillna(missing_rank)
    out["sources_proposing"] = proposed
    text, taste = block("text_"), block("taste_")
    norms = np.linalg.norm(text, axis=1) * np.linalg.norm(taste, axis=1)
    dots = np.einsum("ij,ij->i", text, taste)
    out["taste_cosine"] = np.divide(dots, norms, out=np.zeros(len(inputs)), where=norms > 0)
    genres, shares = block("genre_"), block("affinity_")
    out["genre_overlap"] = np.einsum("ij,ij->i", genres, shares) / np.maximum(genres.sum(axis=1), 1.0)
    return out
