"""`python -m spvlink`."""

from .cli import run

run()
