"""How much a query word counts in each field of a book's BM25 score (search.lexical_fields)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

FieldWeight = Annotated[float, Field(ge=0.0, le=100.0)]


class LexicalFieldWeights(BaseModel):
    """Per-field BM25 weights; a book's lexical score is the weighted sum of its fields' scores.

    `document` is the whole text the vector side embeds too (title, authors, shelves,
    description); the others are its parts, `shelves` being a book's canonical genres and shelf
    phrases. All zero scores by the document alone. The defaults were fitted on training queries
    by eval/fit_lexical_fields.py (docs/search-quality.md#fielded-lexical-scoring).
    """

    document: FieldWeight = 1.0
    title: FieldWeight = 0.1
    authors: FieldWeight = 0.25
    description: FieldWeight = 0.0
    shelves: FieldWeight = 0.25
