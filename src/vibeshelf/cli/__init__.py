"""The `vibeshelf` command line: one module per command group; `main` is the console script."""

from vibeshelf.cli.app import main

__all__ = ["main"]
