"""The on-demand reader x book transformation: one function for training and serving."""

import pandas as pd  # a real annotation: Feast reads the type hints of the function it stores


def pair_features(inputs: pd.DataFrame, missing_rank: float = 10_000.0) -> pd.DataFrame:
    """Each candidate source's score (request field score_<source>; 0 when it did not propose the
    book) and rank (rank_<source>; `missing_rank`) as <source>_score and <source>_rank, how many
    sources proposed it, the cosine between the book's text summary and the reader's taste (0 for
    an unknown reader), and the reader's mean genre share over the book's genres.

    The ranker applies it to the book and reader views' rows in training and serving alike, and
    Feast's on-demand view runs it too: it names nothing outside itself.
    """
    import numpy as np
    import pandas as pd

    def values(names: list[str]) -> np.ndarray:
        return inputs[names].to_numpy(np.float64, na_value=np.nan)

    def block(prefix: str) -> np.ndarray:
        return np.nan_to_num(values(sorted(c for c in inputs.columns if c.startswith(prefix))))

    sources = [c.removeprefix("score_") for c in inputs.columns if c.startswith("score_")]
    scores = values([f"score_{s}" for s in sources])
    ranks = values([f"rank_{s}" for s in sources])
    columns: dict[str, np.ndarray] = {}
    for j, source in enumerate(sources):
        columns[f"{source}_score"] = np.nan_to_num(scores[:, j], nan=0.0)
        columns[f"{source}_rank"] = np.nan_to_num(ranks[:, j], nan=missing_rank)
    columns["sources_proposing"] = (~np.isnan(scores)).sum(axis=1).astype(np.float64)
    text, taste = block("text_"), block("taste_")
    norms = np.linalg.norm(text, axis=1) * np.linalg.norm(taste, axis=1)
    dots = np.einsum("ij,ij->i", text, taste)
    columns["taste_cosine"] = np.divide(dots, norms, out=np.zeros(len(inputs)), where=norms > 0)
    genres, shares = block("genre_"), block("affinity_")
    overlap = np.einsum("ij,ij->i", genres, shares) / np.maximum(genres.sum(axis=1), 1.0)
    columns["genre_overlap"] = overlap
    return pd.DataFrame(columns, index=inputs.index)
