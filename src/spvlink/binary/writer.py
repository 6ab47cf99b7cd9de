"""write(Module) -> bytes: the header then the word array, little-endian."""

from __future__ import annotations

from ..ir.module import Module


def write(module: Module) -> bytes:
    import numpy as np

    header = np.array(module.header_words(), dtype="<u4")
    return header.tobytes() + module.words.astype("<u4", copy=False).tobytes()
