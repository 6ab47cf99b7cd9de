"""After the link: spirv-opt's work and validation of each output module.

- Where the only work Rust-GPU's rule gives spirv-opt is `EliminateDeadConstant` +
  `StripDebugInfo` (`-O 0`, debug info off, metadata `none`), it is done natively
  (`link.strip_debug`, proved equal to spirv-opt's result by tests/test_strip_debug.py) and no
  spirv-opt process starts.
- Per-entry-point outputs are optimised and validated in parallel, one module per worker
  thread, as many workers as this process may use cores: the work is in spirv-opt processes and
  in ctypes calls into libSPIRV-Tools, and both release the GIL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._cores import usable_cores

if TYPE_CHECKING:
    from .ir import Module

T = TypeVar("T")
R = TypeVar("R")


def strips_natively(options: Any) -> bool:
    """spirv-opt would run only to eliminate dead constants and strip debug info."""
    return bool(options.spirv_opt and options.opt_level == "0" and options.strips_debug)


def strip_natively(m: Module, *, compact: bool) -> Module:
    """`m` as `spirv-opt --eliminate-dead-const --strip-debug` leaves it; ids compacted again
    when `compact` (spirv-opt would leave the gaps)."""
    import numpy as np

    from .link.finish import compact_ids
    from .link.strip_debug import strip_debug_keep

    keep = strip_debug_keep(m)
    if keep.all():
        return m
    out = m.select(np.flatnonzero(keep))
    return compact_ids(out) if compact else out


def map_parallel(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[fn(x) for x in items]`, on up to `usable_cores()` threads; results (and the first
    exception) in the order of `items`."""
    n = min(len(items), usable_cores())
    if n < 2:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, items))


__all__ = ["map_parallel", "strip_natively", "strips_natively"]
