"""Candidate retrieval settings: which sources propose books for a reader, how many each, and the cap."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

PerSource = Annotated[int, Field(ge=1, le=5_000)]


class RetrievalSettings(BaseModel):
    """`sources` maps a registered candidate source's name to how many books it may propose.

    The merged proposals keep every source's score and rank and stop at `total`.
    """

    sources: dict[str, PerSource] = {
        "als": 200,
        "item-item": 200,
        "liked-vectors": 200,
        "genre-popular": 100,
        "popular": 50,
    }
    total: Annotated[int, Field(ge=1, le=10_000)] = 500
    anchors: Annotated[int, Field(ge=1, le=100)] = 10
    eval_users: Annotated[int, Field(ge=1, le=1_000_000)] = 2_000

    @field_validator("sources")
    @classmethod
    def _some_source(cls, sources: dict[str, int]) -> dict[str, int]:
        if not sources:
            raise ValueError("name at least one candidate source")
        return sources
