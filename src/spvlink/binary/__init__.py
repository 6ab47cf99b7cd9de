"""The binary codec: read(bytes) -> Module and write(Module) -> bytes."""

from .reader import read
from .writer import write

__all__ = ["read", "write"]
