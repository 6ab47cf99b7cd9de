"""Worker processes that run cases under a memory and a time limit.

Each case gets, in its worker process:
- an address-space limit (`resource.setrlimit(RLIMIT_AS)`) of what the process uses
  now plus `MEMORY_BASE` plus `MEMORY_PER_BYTE` times the input's size; going past it
  is a `MemoryError` ("memory"), or the worker's death;
- a timer (`setitimer`) of `TIME_BASE` plus `TIME_PER_KB` per KB of input, raising
  `Timeout` in the worker ("hang"); the parent kills a worker that does not answer
  within twice that plus a margin (stuck in C code), which is a "hang" too.
The peak resident memory of each case is measured by resetting the kernel's high-water
mark (`/proc/self/clear_refs`) before it and reading it (`VmHWM`) after.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import resource
import signal
import time
from dataclasses import asdict
from typing import Any

MEMORY_BASE = 64 << 20
MEMORY_PER_BYTE = 400
TIME_BASE = 10.0
TIME_PER_KB = 0.05
KILL_MARGIN = 15.0


class Timeout(BaseException):  # noqa: N818 -- a BaseException, so `except Exception` misses it
    """The case ran past its time limit."""


def time_limit(size: int) -> float:
    return TIME_BASE + TIME_PER_KB * size / 1024


def _status(field: str) -> int:
    """A `VmXxx` line of /proc/self/status, in bytes (0 where unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise Timeout()


def run_limited(data: bytes, config: dict[str, Any], run: Any = None) -> dict[str, Any]:
    """Run one case under the limits, in this process (`run(data, config, report)`,
    default the pipeline). Returns the report as a dict with `peak_bytes` and `seconds`
    added."""
    from .pipeline import Report, run_case

    run = run or run_case
    report = Report()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _status("VmSize") + MEMORY_BASE + MEMORY_PER_BYTE * len(data)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    rss0 = _status("VmRSS")
    _reset_peak()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    t0 = time.perf_counter()
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        signal.setitimer(signal.ITIMER_REAL, time_limit(len(data)))
        run(data, config, report)
    except MemoryError as exc:
        report.outcome, report.signature = "memory", f"MemoryError@{_stage_of(report)}"
        report.detail = str(exc)[:300]
    except Timeout:
        report.outcome, report.signature = "hang", f"timeout@{_stage_of(report)}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    out = asdict(report)
    out["seconds"] = time.perf_counter() - t0
    out["peak_bytes"] = max(_status("VmHWM") - rss0, 0)
    return out


def _stage_of(report: Any) -> str:
    return next(reversed(report.stage_seconds), "start")


def _warm_up() -> None:
    """Import and load what every case uses (numpy, the grammar tables, spirv-dis's
    path), so that the first case's memory and time are its own."""
    from .pipeline import CORPUS, Report, run_case

    names = sorted(p.name for p in CORPUS.glob("*.spv"))[:2]
    for name in names:
        run_case((CORPUS / name).read_bytes(), {"kind": "spv", "partner": names[0]}, Report())


def _serve(conn: Any) -> None:
    """The worker's loop: (data, config) in, report out; None ends it."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _warm_up()
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        kind, payload = job
        if kind == "case":
            conn.send(run_limited(*payload))
        elif kind == "reduce":
            from .reduce import reduce_case

            conn.send(reduce_case(*payload))


class Worker:
    """A worker process; `run` sends a job and waits for the answer, killing and
    replacing the process when it does not answer in time or dies."""

    def __init__(self, fork_lock: Any = None) -> None:
        self.ctx = mp.get_context("fork")
        self.proc: Any = None
        self.conn: Any = None
        self.failure = ""
        # Forking while another thread holds a lock (a module's import lock, above all)
        # leaves that lock held forever in the child: the campaign's threads fork only
        # under the lock they make cases under (which import and run spirv-dis).
        self.fork_lock = fork_lock if fork_lock is not None else contextlib.nullcontext()
        self.start()

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(child,), daemon=True)
        with self.fork_lock:
            self.proc.start()
        child.close()
        self.conn = parent

    def stop(self) -> None:
        if self.proc is None:
            return
        self.conn.close()  # the worker's recv() ends with EOFError, and it returns
        self.proc.join(timeout=5)
        if self.proc.exitcode is None:
            self.proc.kill()
            self.proc.join()
        self.proc = None

    def restart(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.join()
        self.start()

    def call(self, job: tuple[str, Any], wait: float) -> dict[str, Any] | None:
        """The answer, or None when the process died or did not answer within `wait`
        seconds (it is replaced by a fresh one)."""
        self.failure = "timeout"
        try:
            self.conn.send(job)
            if self.conn.poll(wait):
                answer: dict[str, Any] = self.conn.recv()
                return answer
        except (EOFError, OSError):
            self.proc.join(timeout=2)
            self.failure = f"died (exit code {self.proc.exitcode})"
        self.restart()
        return None

    def case(self, data: bytes, config: dict[str, Any]) -> dict[str, Any]:
        wait = 2 * time_limit(len(data)) + KILL_MARGIN
        answer = self.call(("case", (data, config)), wait)
        if answer is not None:
            return answer
        hang = self.failure == "timeout"
        return {"outcome": "hang" if hang else "crash",
                "signature": "worker-timeout" if hang else "worker-died",
                "detail": f"the worker {self.failure}", "stage_seconds": {},
                "successes": [], "seconds": wait, "peak_bytes": 0}


__all__ = ["Timeout", "Worker", "run_limited", "time_limit"]
