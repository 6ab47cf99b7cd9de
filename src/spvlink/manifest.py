"""`spvlink link-many`: link every program of a manifest on all cores.

A manifest (JSON, or TOML for `.toml` files):

    {"programs": [{"name": "shaders", "inputs": ["a.spv", "lib.rlib"], "output": "out.spv",
                   "options": {"module-output": "per-entry-point", "O": "2"}}]}

Option keys are the link flags without their dashes (`module-output`, `no-dce`, `O`,
`target-env`, `no-relax-struct-store`, ...) or StageOptions field names (`module_output`,
`dce`, `opt_level`, ...). Relative paths are taken from the manifest's directory. Programs
run in a process pool; each worker parses each distinct input file once (cached by path,
size and mtime), so programs sharing a library pay for it once per worker. One program's
error does not stop the others. Nothing here prints: the caller gets a callback per program.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._cores import usable_cores
from .errors import InputError, SpvError

# Flags that switch something off: flag key -> (field, value).
_NEGATIVE = {
    "no-dce": ("dce", False),
    "no-compact-ids": ("compact_ids", False),
    "no-spirv-opt": ("spirv_opt", False),
    "no-spirv-val": ("validate", False),
}
_ALIASES = {"O": "opt_level", "g": "debuginfo", "opt-level": "opt_level", "output": "output"}
_PATH_FIELDS = ("json", "dump_pre_link", "dump_post_merge", "dump_post_split", "dump_post_link")


@dataclass
class Program:
    name: str
    inputs: list[str]
    output: str
    options: dict[str, Any] = field(default_factory=dict)  # StageOptions fields
    error: str | None = None  # a problem found while reading the manifest


@dataclass
class Outcome:
    name: str
    ok: bool
    message: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entry_points: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Summary:
    outcomes: list[Outcome]
    seconds: float
    workers: int


def _stage_fields() -> tuple[str, ...]:
    from .stage import StageOptions

    return StageOptions.field_names()


def option_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """StageOptions keyword arguments from a manifest's `options` table."""
    known = _stage_fields()
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _NEGATIVE:
            name, off = _NEGATIVE[key]
            out[name] = off if value else not off
            continue
        if key.startswith("no-") and key[3:].replace("-", "_") in known:
            out[key[3:].replace("-", "_")] = not value
            continue
        name = _ALIASES.get(key, key.replace("-", "_"))
        if name == "output" or name not in known:
            raise InputError(f"unknown option {key!r}")
        if name == "opt_level":
            value = str(value)
        out[name] = value
    return out


def load_manifest(path: str | Path) -> list[Program]:
    """The programs of a manifest file; a malformed entry becomes a failing program."""
    path = Path(path)
    from .stage import read_input_bytes

    raw = read_input_bytes(path)
    try:
        if path.suffix == ".toml":
            import tomllib

            doc = tomllib.loads(raw.decode("utf-8"))
        else:
            import json

            doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid {'TOML' if path.suffix == '.toml' else 'JSON'} "
                         f"manifest: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("programs"), list):
        raise InputError(f'{path}: a manifest needs a "programs" list')
    base = path.parent
    programs: list[Program] = []
    names: set[str] = set()
    for k, entry in enumerate(doc["programs"]):
        programs.append(_program(entry, k, base, names))
    return programs


def _program(entry: Any, k: int, base: Path, names: set[str]) -> Program:
    if not isinstance(entry, dict):
        return Program(f"#{k}", [], "", error="a program must be a table/object")
    name = str(entry.get("name") or f"#{k}")
    if name in names:
        return Program(name, [], "", error=f"duplicate program name {name!r}")
    names.add(name)
    inputs = entry.get("inputs")
    output = entry.get("output", "out.spv")
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        return Program(name, [], "", error='"inputs" must be a non-empty list of paths')
    if not isinstance(output, str):
        return Program(name, [], "", error='"output" must be a path')
    opts = entry.get("options", {})
    if not isinstance(opts, dict):
        return Program(name, [], "", error='"options" must be a table/object')
    try:
        fields = option_fields(opts)
    except InputError as exc:
        return Program(name, [], "", error=exc.message)
    if "-" in inputs:
        return Program(name, [], "", error="stdin (-) is not an input in a manifest")
    for key in _PATH_FIELDS:
        if isinstance(fields.get(key), str):
            fields[key] = str(base / fields[key])
    return Program(name, [str(base / i) for i in inputs], str(base / output), fields)


# ---------------------------------------------------------------------------------------
# Workers

_CACHE: dict[tuple[str, int, int], Any] = {}


def _cached_loader(src: str | Path) -> Any:
    from .stage import load_input

    p = Path(src)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        return load_input(src)  # the stage's error names the file
    hit = _CACHE.get(key)
    if hit is None:
        hit = _CACHE[key] = load_input(src)
    return hit


def link_program(program: Program) -> Outcome:
    """Link one program; every error becomes a failed Outcome, never an exception."""
    t0 = time.perf_counter()
    if program.error is not None:
        return Outcome(program.name, False, program.error)
    try:
        from .stage import StageOptions, run_stage

        options = StageOptions(output=program.output, **program.options)
        result = run_stage(program.inputs, options, loader=_cached_loader)
    except SpvError as exc:
        subs = list(getattr(exc, "errors", None) or [])
        if subs:
            notes = [f"{s.message}" + "".join(f"; {n}" for n in s.notes) for s in subs]
            return Outcome(program.name, False, exc.message, notes,
                           seconds=time.perf_counter() - t0)
        return Outcome(program.name, False, exc.message, list(exc.notes),
                       seconds=time.perf_counter() - t0)
    except TypeError as exc:  # a manifest option of the wrong kind
        return Outcome(program.name, False, f"bad options: {exc}")
    except MemoryError:
        raise  # the worker reports it with its limit
    except Exception as exc:  # one program's bug must not stop the others
        return Outcome(program.name, False, f"internal error: {type(exc).__name__}: {exc}")
    warnings = [w if isinstance(w, str) else "; ".join([w.message, *w.notes])
                for w in result.warnings]  # one line each in link-many's report
    return Outcome(program.name, True, warnings=warnings,
                   entry_points=list(result.entry_points), seconds=time.perf_counter() - t0)


def _warm() -> None:
    """Pay the fixed costs (numpy, grammar, SPIRV-Tools' library) once, before the
    workers fork: they share them, and a worker's memory bound then counts its programs'
    own work."""
    import numpy  # noqa: F401

    from . import binary, link, stage  # noqa: F401
    from .grammar import grammar
    from .tools import _library

    grammar()
    try:
        _library()
    except SpvError:
        pass  # not installed: the programs that validate say so themselves


# A program that runs longer is stopped (its worker is killed and replaced): generous,
# since the biggest real links take seconds; `link-many --time-limit` changes it.
DEFAULT_TIME_LIMIT = 600.0


def default_memory_limit(workers: int) -> int:
    """Bytes of address space each worker may add to what it starts with: an equal share
    of the machine's memory, at least 1 GiB."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        total = 0
    return max(total // max(workers, 1), 1 << 30)


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _serve(conn: Any, memory_limit: int | None) -> None:
    """A worker: programs in, outcomes out, under an address-space limit."""
    if memory_limit is not None:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _vm_size() + memory_limit
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    while True:
        try:
            program = conn.recv()
        except EOFError:
            return
        if program is None:
            return
        try:
            outcome = link_program(program)
        except MemoryError:
            outcome = Outcome(program.name, False, _out_of_memory(memory_limit))
        conn.send(outcome)


def _out_of_memory(limit: int | None) -> str:
    cap = f" (the limit per worker is {limit >> 20} MB; --memory-limit)" if limit else ""
    return f"ran out of memory{cap}"


class _Worker:
    """One worker process; `run` returns the outcome, or None when the process died
    (it is replaced by a fresh one)."""

    def __init__(self, ctx: Any, memory_limit: int | None) -> None:
        self.ctx, self.memory_limit = ctx, memory_limit
        self.proc: Any = None
        self.why = ""
        self._start()

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(child, self.memory_limit),
                                     daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent

    def _replace(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()
        self._start()

    def run(self, program: Program, time_limit: float | None) -> Outcome | None:
        t0 = time.perf_counter()
        try:
            self.conn.send(program)
            if self.conn.poll(time_limit):
                outcome: Outcome = self.conn.recv()
                return outcome
        except (EOFError, OSError):
            self.proc.join(timeout=5)
            code = self.proc.exitcode
            self.why = (f"killed by signal {-code}" if code is not None and code < 0
                        else f"exit status {code}")
            self._replace()
            return None
        self._replace()
        return Outcome(program.name, False,
                       f"stopped after the time limit of {time_limit:g} s (--time-limit)",
                       seconds=time.perf_counter() - t0)

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


def run_programs(programs: Sequence[Program], *, jobs: int | None = None,
                 on_done: Callable[[int, Outcome], None] | None = None,
                 time_limit: float | None = DEFAULT_TIME_LIMIT,
                 memory_limit: int | None = None, isolate: bool = True) -> Summary:
    """Link every program in worker processes; `on_done(count_done, outcome)` as each
    finishes. A program running past `time_limit` seconds fails (its worker is replaced);
    a program whose worker dies (killed, out of memory) is retried once in a fresh
    worker. Each worker's address space may grow by `memory_limit` bytes (default: an
    equal share of the machine's memory). `isolate=False` with one job links in this
    process, without limits (for tests that watch the work from here)."""
    import multiprocessing
    import threading

    t0 = time.perf_counter()
    # The cores this process may run on (its affinity mask), not the machine's count.
    workers = max(1, min(jobs or usable_cores(), len(programs)))
    if memory_limit is None:
        memory_limit = default_memory_limit(workers)
    outcomes: list[Outcome | None] = [None] * len(programs)
    if not isolate and workers == 1:
        for k, prog in enumerate(programs):
            outcomes[k] = link_program(prog)
            if on_done:
                on_done(k + 1, outcomes[k])  # type: ignore[arg-type]
        return Summary([o for o in outcomes if o is not None], time.perf_counter() - t0, 1)
    # Load the grammar before forking, so workers share it instead of each loading it.
    _warm()
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Programs sharing inputs go to a worker together so its cache helps.
    pending = sorted(range(len(programs)), key=lambda k: tuple(programs[k].inputs))
    pending.reverse()  # popped from the end
    deaths = [0] * len(programs)
    lock = threading.Lock()
    done = [0]

    # Workers are started here, before any thread: forking while other threads run
    # could copy a lock one of them holds.
    pool = [_Worker(ctx, memory_limit) for _ in range(workers)]

    def work(worker: _Worker) -> None:
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    k = pending.pop()
                outcome = worker.run(programs[k], time_limit)
                with lock:
                    if outcome is None:
                        deaths[k] += 1
                        if deaths[k] < 2:
                            pending.append(k)  # once more, in a fresh worker
                            continue
                        outcome = Outcome(programs[k].name, False,
                                          f"its worker died twice ({worker.why})")
                    outcomes[k] = outcome
                    done[0] += 1
                    if on_done:
                        on_done(done[0], outcome)
        finally:
            worker.stop()

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in pool]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Summary([o for o in outcomes if o is not None], time.perf_counter() - t0, workers)


__all__ = ["DEFAULT_TIME_LIMIT", "Outcome", "Program", "Summary", "default_memory_limit",
           "link_program", "load_manifest", "option_fields", "run_programs"]
