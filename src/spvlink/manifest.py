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
    except Exception as exc:  # one program's bug must not stop the others
        return Outcome(program.name, False, f"internal error: {type(exc).__name__}: {exc}")
    warnings = [w if isinstance(w, str) else "; ".join([w.message, *w.notes])
                for w in result.warnings]  # one line each in link-many's report
    return Outcome(program.name, True, warnings=warnings,
                   entry_points=list(result.entry_points), seconds=time.perf_counter() - t0)


def _warm() -> None:
    """Pay the fixed costs (numpy, grammar) once per worker, before timing starts."""
    from .grammar import grammar

    grammar()


def run_programs(programs: Sequence[Program], *, jobs: int | None = None,
                 on_done: Callable[[int, Outcome], None] | None = None) -> Summary:
    """Link every program; `on_done(count_done, outcome)` as each finishes."""
    t0 = time.perf_counter()
    workers = max(1, min(jobs or os.cpu_count() or 1, len(programs)))
    outcomes: list[Outcome | None] = [None] * len(programs)
    done = 0
    if workers == 1:
        for k, prog in enumerate(programs):
            outcomes[k] = link_program(prog)
            done += 1
            if on_done:
                on_done(done, outcomes[k])  # type: ignore[arg-type]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # Load the grammar before forking, so workers share it instead of each loading it.
        _warm()
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        # Programs sharing inputs go to the pool together so a worker's cache helps.
        order = sorted(range(len(programs)), key=lambda k: tuple(programs[k].inputs))
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(link_program, programs[k]): k for k in order}
            for fut in as_completed(futures):
                k = futures[fut]
                try:
                    outcomes[k] = fut.result()
                except Exception as exc:  # a worker died (killed, out of memory)
                    outcomes[k] = Outcome(programs[k].name, False,
                                          f"worker failed: {type(exc).__name__}: {exc}")
                done += 1
                if on_done:
                    on_done(done, outcomes[k])  # type: ignore[arg-type]
    return Summary([o for o in outcomes if o is not None], time.perf_counter() - t0, workers)


__all__ = ["Outcome", "Program", "Summary", "link_program", "load_manifest", "option_fields",
           "run_programs"]
