"""The pages' Jinja2 templates, with the filters their book cards use."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from vibeshelf.serve.covers import cover_tone, initials, real_cover

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["initials"] = initials
templates.env.filters["cover_tone"] = cover_tone
templates.env.filters["real_cover"] = real_cover
