"""How many cores this process may use: the one answer for every part that runs work on
threads (the reader's two halves, the per-entry-point post-processing)."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


__all__ = ["usable_cores"]
