"""vibeshelf: find books by vibe and recommend the next one to read."""

__version__ = "0.1.0"
