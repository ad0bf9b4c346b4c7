"""`python -m vibeshelf` runs the CLI."""

from vibeshelf.cli import main

main()
