"""write(Module) -> bytes: the header then the word array, little-endian."""

from __future__ import annotations

from .._words import bound_error
from ..errors import SpvError
from ..ir.module import Module


def write(module: Module) -> bytes:
    """The module's bytes. A header the reader would refuse (a field over 32 bits, an id
    bound over spirv-val's limit) is an error here, so what is written reads back."""
    import numpy as np

    fields = module.header_words()
    bad = [w for w in fields if not 0 <= w <= 0xFFFFFFFF]
    if bad:
        raise SpvError(f"cannot write the module: header word {bad[0]} does not fit in 32 bits")
    problem = bound_error(module.bound)
    if problem is not None:
        raise SpvError(f"cannot write the module: {problem}")
    header = np.array(fields, dtype="<u4")
    return header.tobytes() + module.words.astype("<u4", copy=False).tobytes()
