"""Timing of named steps, for `--time-passes`: the linker's passes and the stage's steps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StepTimer:
    """`with timer("name"): ...` appends (name, seconds) to `timings`."""

    def __init__(self, timings: list[tuple[str, float]] | None = None) -> None:
        self.timings: list[tuple[str, float]] = [] if timings is None else timings

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings.append((name, time.perf_counter() - t0))
