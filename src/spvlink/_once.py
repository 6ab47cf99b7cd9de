"""`once`: a process-wide table made by one thread, however many ask for it at once."""

from __future__ import annotations

import _thread  # the lock alone: `threading` costs 0.7 ms of start-up
import functools
import os
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def once(make: Callable[[], T]) -> Callable[[], T]:
    """`functools.cache` for a function of no arguments whose result is made under a lock.

    `functools.cache` holds no lock: two threads asking for a table before it exists both
    make it, one after the other under the GIL. The reader's two threads did exactly that
    with the grammar and the opcode tables at the start of every big link (chain 1000:
    reading 100 -> 89 ms). Here the second waits for the first's result instead.

    A child forked while another thread was making the table starts with a new lock (the
    thread holding the old one does not exist there) and makes the table itself."""
    lock = _thread.allocate_lock()
    made: list[T] = []

    def new_lock() -> None:
        nonlocal lock
        lock = _thread.allocate_lock()

    os.register_at_fork(after_in_child=new_lock)

    @functools.wraps(make)
    def get() -> T:
        if not made:
            with lock:
                if not made:
                    made.append(make())
        return made[0]

    return get


__all__ = ["once"]
