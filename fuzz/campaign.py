"""A fuzzing campaign: N mutated inputs from the corpus, on all cores, with a progress bar,
an outcome table, automatic reduction of each distinct failure and regression files.

Case `i` of seed `s` is a pure function of (s, i): the same command finds the same
inputs. The parent process only mutates bytes and text (no numpy, no spvlink import);
workers (`fuzz.worker`) run the pipeline (`fuzz.pipeline`) under memory and time limits.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .mutate import mutate_binary, mutate_text, split_instructions, to_words

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "spv"
REGRESSIONS = ROOT / "tests" / "regressions" / "fuzz"
OUTCOMES = ("ok", "error", "crash", "disagree", "memory", "hang")
BAD = ("crash", "disagree", "memory", "hang")


# Corpus modules made to link together (tests/corpus/README.md).
PAIRS = {"linkage_exports": "linkage_imports", "linkage_imports": "linkage_exports",
         "lib_math": "kernel_user", "kernel_user": "lib_math"}


class Seeds:
    """The corpus as bytes, instruction lists (for splicing) and SPIRV-Tools text."""

    def __init__(self) -> None:
        self.names = sorted(p.name for p in CORPUS.glob("*.spv"))
        self.data = {n: (CORPUS / n).read_bytes() for n in self.names}
        self.insts = [split_instructions(to_words(self.data[n])[0]) for n in self.names]
        self._text: dict[tuple[str, bool], str] = {}

    def partner(self, rng: random.Random, name: str) -> str:
        """A module to link with `name`: its import/export counterpart when it has one,
        itself unmutated, or any module (most pairs fail early on a version or model)."""
        r = rng.random()
        stem = name.split(".")[0]
        if r < 0.4:
            other = PAIRS.get(stem)
            family = [n for n in self.names if n.split(".")[0] == (other or stem)]
            return rng.choice(family)
        if r < 0.6:
            return name
        return rng.choice(self.names)

    def text(self, name: str, raw_id: bool) -> str:
        """spirv-dis's text of a corpus module: what spvlink's assembler must accept."""
        key = (name, raw_id)
        if key not in self._text:
            from spvlink.tools import tool_path

            args = [str(tool_path("spirv-dis")), "--no-color", "-"]
            if raw_id:
                args.insert(1, "--raw-id")
            r = subprocess.run(args, input=self.data[name], capture_output=True, timeout=60)
            self._text[key] = r.stdout.decode("utf-8", "replace")
        return self._text[key]


def make_case(seeds: Seeds, seed: int, index: int) -> tuple[bytes, dict[str, Any]]:
    """Case `index` of campaign `seed`: (input bytes, pipeline config)."""
    rng = random.Random(f"spvlink-fuzz:{seed}:{index}")
    name = rng.choice(seeds.names)
    config: dict[str, Any] = {
        "seed_module": name,
        "partner": seeds.partner(rng, name) if rng.random() < 0.7 else None,
        "partner_first": rng.random() < 0.5,
        "create_library": rng.random() < 0.2,
        "per_entry": rng.random() < 0.2,
        # The command line costs a process start (~0.3 s): 1 case in 100.
        "cli": rng.random() < 0.01,
    }
    if rng.random() < 0.2:
        raw = rng.random() < 0.5
        data, names = mutate_text(rng, seeds.text(name, raw),
                                  seeds.text(rng.choice(seeds.names), raw))
        config.update(kind="asm", keep_header=rng.random() < 0.5)
    else:
        data, names = mutate_binary(rng, seeds.data[name], seeds.insts)
        config["kind"] = "spv"
    config["mutators"] = names
    return data, config


@dataclass
class Stats:
    counts: Counter[str] = field(default_factory=Counter)
    signatures: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (outcome, signature) -> the smallest failing (data, config, index) seen
    examples: dict[tuple[str, str], tuple[bytes, dict[str, Any], int]] = field(
        default_factory=dict)
    worst_memory: tuple[float, int, int] = (0.0, 0, -1)  # bytes per input byte, size, case
    worst_peak: tuple[int, int, int] = (0, 0, -1)  # peak bytes, size, case
    worst_time: tuple[float, int, int] = (0.0, 0, -1)  # seconds per KB, size, case
    slowest: tuple[float, int, int] = (0.0, 0, -1)  # seconds, size, case
    done: int = 0

    def add(self, index: int, data: bytes, config: dict[str, Any], r: dict[str, Any]) -> None:
        outcome = r["outcome"]
        self.counts[outcome] += 1
        self.done += 1
        size = len(data)
        if outcome in BAD:
            key = (outcome, r["signature"])
            self.signatures[key] += 1
            old = self.examples.get(key)
            if old is None or len(data) < len(old[0]):
                self.examples[key] = (data, config, index)
        if outcome in ("ok", "error"):
            peak, secs = int(r["peak_bytes"]), float(r["seconds"])
            kb = max(size, 1024) / 1024  # inputs under 1 KB count as 1 KB
            if peak / max(size, 1024) > self.worst_memory[0]:
                self.worst_memory = (peak / max(size, 1024), size, index)
            if peak > self.worst_peak[0]:
                self.worst_peak = (peak, size, index)
            if secs / kb > self.worst_time[0]:
                self.worst_time = (secs / kb, size, index)
            if secs > self.slowest[0]:
                self.slowest = (secs, size, index)


class Progress:
    """A one-line progress bar on stderr (a line per 10% when it is not a terminal)."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total, self.enabled = total, enabled
        self.t0 = time.monotonic()
        self.last = 0.0
        self.tty = sys.stderr.isatty()
        self.shown_tenth = -1

    def update(self, stats: Stats, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self.last < 0.5:
            return
        self.last = now
        done = stats.done
        rate = done / max(now - self.t0, 1e-9)
        eta = (self.total - done) / rate if rate else 0.0
        width = 30
        filled = int(width * done / max(self.total, 1))
        bad = " ".join(f"{k} {stats.counts[k]}" for k in BAD)
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
                f"{rate:.1f}/s ETA {int(eta) // 60}:{int(eta) % 60:02d} | {bad}")
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if final else ""))
            sys.stderr.flush()
        else:
            tenth = done * 10 // max(self.total, 1)
            if tenth != self.shown_tenth or final:
                self.shown_tenth = tenth
                sys.stderr.write(line + "\n")
                sys.stderr.flush()


def run_campaign(n: int, *, seed: int = 0, jobs: int = 0, progress: bool = True,
                 reduce: bool = True, save: Path | None = None,
                 time_budget: float | None = None, reduce_budget: float = 300.0,
                 on_counted: Any = None) -> dict[str, Any]:
    """Run cases 0..n-1 of `seed` on `jobs` workers (0: one per core); stop early after
    `time_budget` seconds if given. Then each distinct failure is reduced (for at most
    `reduce_budget` seconds in all; crashes first, hangs last) and saved under `save`.
    `on_counted(summary)` is called with the counts before reduction starts. Returns the
    summary (see `format_table`)."""
    from .worker import Worker

    seeds = Seeds()
    jobs = jobs or os.cpu_count() or 1
    stats = Stats()
    bar = Progress(n, progress)
    lock = threading.Lock()
    counter = iter(range(n))
    t0 = time.monotonic()
    stop = threading.Event()

    def loop() -> None:
        worker = Worker(fork_lock=lock)
        try:
            while not stop.is_set():
                with lock:
                    index = next(counter, None)
                    if index is None:
                        return
                    data, config = make_case(seeds, seed, index)
                r = worker.case(data, config)
                with lock:
                    stats.add(index, data, config, r)
                    bar.update(stats)
                    if time_budget is not None and time.monotonic() - t0 > time_budget:
                        stop.set()
        finally:
            worker.stop()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bar.update(stats, final=True)
    seconds = time.monotonic() - t0

    summary = {
        "inputs": stats.done, "requested": n, "seed": seed, "jobs": jobs,
        "seconds": round(seconds, 1), "per_second": round(stats.done / max(seconds, 1e-9), 2),
        "counts": {k: stats.counts[k] for k in OUTCOMES},
        "signatures": [{"outcome": o, "signature": s, "count": c}
                       for (o, s), c in stats.signatures.most_common()],
        "largest_memory_per_input_byte": {"bytes_per_byte": round(stats.worst_memory[0], 1),
                                          "size": stats.worst_memory[1],
                                          "case": stats.worst_memory[2]},
        "largest_peak": {"bytes": stats.worst_peak[0], "size": stats.worst_peak[1],
                         "case": stats.worst_peak[2]},
        "slowest_per_kb": {"seconds_per_kb": round(stats.worst_time[0], 4),
                           "size": stats.worst_time[1], "case": stats.worst_time[2]},
        "slowest": {"seconds": round(stats.slowest[0], 3), "size": stats.slowest[1],
                    "case": stats.slowest[2]},
        "regressions": [],
    }
    if on_counted is not None:
        on_counted(summary)
    if stats.examples and (reduce or save is not None):
        summary["regressions"] = _reduce_and_save(stats, seed, reduce, save, reduce_budget)
    return summary


_REDUCE_ORDER = {"crash": 0, "disagree": 1, "memory": 2, "hang": 3}


def _reduce_and_save(stats: Stats, seed: int, reduce: bool, save: Path | None,
                     budget: float) -> list[dict[str, Any]]:
    from .worker import Worker

    deadline = time.monotonic() + budget
    saved: list[dict[str, Any]] = []
    worker = Worker()
    try:
        for (outcome, signature), (data, config, index) in sorted(
                stats.examples.items(), key=lambda kv: (_REDUCE_ORDER[kv[0][0]], kv[0][1])):
            small = data
            left = deadline - time.monotonic()
            if (reduce and left > 0
                    and signature not in ("worker-died", "worker-timeout")):
                r = worker.call(("reduce", (data, config, outcome, signature)), wait=left)
                if r is not None:
                    small = r["data"]
            entry = {"outcome": outcome, "signature": signature, "case": index,
                     "seed": seed, "size": len(data), "reduced_size": len(small)}
            if save is not None:
                entry["file"] = str(save_regression(save, small, config, outcome, signature,
                                                    seed, index))
            saved.append(entry)
    finally:
        worker.stop()
    return saved


def save_regression(directory: Path, data: bytes, config: dict[str, Any], outcome: str,
                    signature: str, seed: int, index: int) -> Path:
    """`<outcome>-<hash>.spv|.spvasm` plus a `.json` with the pipeline config."""
    directory.mkdir(parents=True, exist_ok=True)
    ext = "spvasm" if config.get("kind") == "asm" else "spv"
    digest = hashlib.sha256(data + json.dumps(config, sort_keys=True).encode()).hexdigest()
    stem = f"{outcome}-{digest[:12]}"
    path = directory / f"{stem}.{ext}"
    path.write_bytes(data)
    meta = {"input": path.name, "config": config, "found": {
        "outcome": outcome, "signature": signature, "seed": seed, "case": index}}
    (directory / f"{stem}.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return path


def format_table(summary: dict[str, Any]) -> str:
    """The outcome table and the figures, as Markdown."""
    total = max(summary["inputs"], 1)
    lines = [f"{summary['inputs']} inputs (seed {summary['seed']}, {summary['jobs']} workers) "
             f"in {summary['seconds']} s: {summary['per_second']} inputs/s", "",
             "| outcome | inputs | share |", "|---|---:|---:|"]
    for k in OUTCOMES:
        c = summary["counts"][k]
        lines.append(f"| {k} | {c} | {100 * c / total:.2f}% |")
    if summary["signatures"]:
        lines += ["", "| outcome | signature | inputs |", "|---|---|---:|"]
        for s in summary["signatures"][:30]:
            lines.append(f"| {s['outcome']} | `{s['signature']}` | {s['count']} |")
    m, p = summary["largest_memory_per_input_byte"], summary["largest_peak"]
    t, sl = summary["slowest_per_kb"], summary["slowest"]
    lines += ["",
              f"- largest peak memory per input byte: {m['bytes_per_byte']} B/B "
              f"(case {m['case']}, {m['size']} bytes; inputs under 1 KB counted as 1 KB)",
              f"- largest peak memory of one input: {p['bytes'] / 2**20:.1f} MiB "
              f"(case {p['case']}, {p['size']} bytes)",
              f"- slowest input per KB: {t['seconds_per_kb']} s/KB (case {t['case']}, "
              f"{t['size']} bytes)",
              f"- slowest input: {sl['seconds']} s (case {sl['case']}, {sl['size']} bytes)"]
    return "\n".join(lines)


__all__ = ["format_table", "make_case", "run_campaign", "save_regression"]
