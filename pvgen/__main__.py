"""`python -m pvgen` runs the command-line interface."""

from .cli import run

run()
