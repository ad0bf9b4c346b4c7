"""Two-tower retrieval settings: tower sizes, training budget and the item-vector collection."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from vibeshelf.config.fields import Fraction


class TwoTowerSettings(BaseModel):
    """The towers, their in-batch softmax training and where the item vectors are served from.

    Training reads `recommend.source` (or `--source`); `implicit_weight` is the history weight of an
    implicit interaction (rated ones weigh their strength, rating / top of the scale).
    """

    # Both towers end in unit vectors of `dim`; each has one hidden layer of `hidden` units.
    dim: Annotated[int, Field(ge=4, le=512)] = 64
    hidden: Annotated[int, Field(ge=4, le=4096)] = 128
    # Logits are cosine / temperature - log q (the logQ correction).
    temperature: Annotated[float, Field(gt=0.0, le=10.0)] = 0.05
    # Training stops after `epochs` passes or `max_steps` batches, whichever comes first.
    epochs: Annotated[int, Field(ge=1, le=100)] = 3
    max_steps: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    batch_size: Annotated[int, Field(ge=16, le=65_536)] = 1024
    learning_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 0.002
    # A learned id vector per read item; `id_dropout` of a batch's items train without it.
    id_embeddings: bool = True
    id_dropout: Fraction = 0.25
    implicit_weight: Fraction = 0.5
    seed: int = 42
    # The collection the item vectors are written to, beside the search index in the same backend:
    # <data_dir>/<collection> (hnsw), key prefix (Redis) or table (PostgreSQL).
    collection: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")] = "two_tower_items"
    keep_versions: Annotated[int, Field(ge=1, le=50)] = 3
