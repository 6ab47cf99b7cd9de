"""The binary codec: read(bytes) -> Module and write(Module) -> bytes."""

from .reader import read, read_many
from .writer import write

__all__ = ["read", "read_many", "write"]
