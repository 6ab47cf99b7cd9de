"""Process-wide tables are made once, however many threads ask for them at once
(`spvlink._once.once`): the reader's two threads each made the grammar and the opcode
tables when a big link began, one after the other under the GIL."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from helpers import CORPUS
from spvlink._once import once


def _ask_from_threads(get: Callable[[], object], n: int = 4) -> list[object]:
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(get())) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _slow_maker(calls: list[int]) -> Callable[[], object]:
    def make() -> object:
        calls.append(1)
        time.sleep(0.05)  # every thread asks while the first is still making it
        return object()
    return make


def test_once_makes_the_table_once_however_many_threads_ask() -> None:
    """`functools.cache` (the contrast, checked here so the premise stays true) makes it
    once per thread that asked before the first finished; `once` makes it once and every
    thread gets that one result."""
    cached_calls: list[int] = []
    _ask_from_threads(functools.cache(_slow_maker(cached_calls)))
    assert len(cached_calls) > 1
    calls: list[int] = []
    get = once(_slow_maker(calls))
    results = _ask_from_threads(get)
    assert len(calls) == 1
    assert len(results) == 4 and all(r is results[0] for r in results)
    assert get() is results[0] and len(calls) == 1


def test_once_keeps_the_name_and_lets_an_error_through_to_be_tried_again() -> None:
    """A table that fails to be made is not remembered: the next call tries again."""
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("first try fails")
        return 7

    get = once(flaky)
    assert get.__name__ == "flaky"
    try:
        get()
    except OSError:
        pass
    assert get() == 7 and get() == 7 and len(attempts) == 2


def test_the_reader_threads_load_the_grammar_once(tmp_path: object) -> None:
    """A batch read on two threads, in a fresh process with a slow grammar load: the
    grammar's tables are loaded once, not by each thread."""
    code = f"""
import time
from spvlink import grammar as g
from spvlink.binary import reader
loads = []
real = g._load_raw
def slow(core_dir):
    loads.append(1)
    time.sleep(0.05)
    return real(core_dir)
g._load_raw = slow
reader.TWO_THREADS_MIN_WORDS = 0
reader.usable_cores = lambda: 2
data = open({str(CORPUS / "spv" / "atomics.O0.spv")!r}, "rb").read()
mods = reader.read_many([data] * 6, [f"m{{k}}.spv" for k in range(6)])
print(len(mods), len(loads))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)}, check=True)
    assert out.stdout.split() == ["6", "1"], out.stderr


def test_a_child_forked_while_the_table_is_being_made_makes_it_itself() -> None:
    """A fork while another thread holds the lock (the fuzz harness and `link-many` fork
    workers): the child has no such thread to release it, so it starts with a new lock
    and makes the table, rather than waiting for ever."""
    started = threading.Event()

    def make() -> int:
        started.set()
        time.sleep(0.3)
        return 7

    get = once(make)
    maker = threading.Thread(target=get)
    maker.start()
    started.wait()
    pid = os.fork()
    if pid == 0:  # the child: get() must return
        os._exit(0 if get() == 7 else 1)
    deadline = time.monotonic() + 10
    exit_code = None  # None: still waiting at the deadline
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            exit_code = os.waitstatus_to_exitcode(status)
            break
        time.sleep(0.02)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    maker.join()
    assert exit_code == 0
    assert get() == 7
