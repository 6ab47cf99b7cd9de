"""The code against the code: spvlink of the working tree against spvlink as commit REV has
it, on the same link-only workloads, the two alternating with nothing between them.

`bench/run.py --baseline REV` runs spirv-link between the two spvlinks of its alternation:
spirv-link runs for seconds and frees hundreds of MB before the next spvlink starts, and
one of its runs resolves about 10% on this machine. Here the two spvlinks alternate alone
(which goes first flips every round), so that a change of a few percent shows. Each is a
whole process, started as `python -P -m spvlink link INPUTS --no-spirv-opt --no-spirv-val`
with its own grammar cache, after one warm-up run each; medians of wall time, CPU time
(user + system) and peak RSS, and whether the two outputs are the same bytes.

    .venv/bin/python bench/ab.py REV chain1000 [chain2000 wide500pe ...] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (bench/run.py: workloads, the baseline, the runner)


def compare(spec: bench.Spec, baseline: bench.Baseline, runs: int) -> dict[str, object]:
    """`runs` alternating rounds of the two spvlinks on one workload."""
    data = bench.ensure_workload(spec)
    d = Path(data["dir"])
    inputs = [str(d / p) for p in data["inputs"]]
    out_dir = d / "out"
    out_dir.mkdir(exist_ok=True)
    args = ["link", *inputs, "--no-spirv-opt", "--no-spirv-val"]
    if spec.per_entry:
        args += ["--module-output", "per-entry-point"]
    tools = {}
    for name, src, cache in (("now", bench.ROOT / "src", None),
                             ("base", baseline.src, baseline.cache)):
        out = out_dir / f"ab-{name}.spv"
        launcher, env = bench._spvlink_from(src, cache)
        tools[name] = ([*launcher, *args, "-o", str(out)], env, out)
    for name, (cmd, env, _out) in tools.items():  # warm-up, and each must succeed
        p = bench.run_child(cmd, capture=True, env=env)
        if p.rc != 0:
            raise SystemExit(f"error: spvlink ({name}) exited {p.rc} on {spec.name}: "
                             f"{p.stderr.strip()[-400:]}")
    procs: dict[str, list[bench.Proc]] = {"now": [], "base": []}
    for k in range(runs):
        for name in (("base", "now") if k % 2 == 0 else ("now", "base")):
            cmd, env, _out = tools[name]
            procs[name].append(bench.run_child(cmd, rss=True, env=env))

    def median(name: str, field: str) -> float:
        return statistics.median(getattr(p, field) for p in procs[name])

    outputs = {name: bench._outputs(out.with_suffix(".spvs") if spec.per_entry else out)
               for name, (_cmd, _env, out) in tools.items()}
    return {
        "workload": spec.name,
        "runs": runs,
        "wall": (median("base", "wall"), median("now", "wall")),
        "cpu": (median("base", "cpu"), median("now", "cpu")),
        "rss_mb": (median("base", "rss_kb") / 1024, median("now", "rss_kb") / 1024),
        "same_output": bench._same_outputs(outputs["base"], outputs["now"],
                                           by_name=spec.per_entry),
    }


def table(rows: Sequence[dict[str, object]], commit: str) -> str:
    lines = [f"| workload | runs | wall {commit[:12]} -> now | ratio | CPU {commit[:12]} -> now"
             " | peak RSS MB | same output |", "|" + "---|" * 7]
    for r in rows:
        (wa, wb), (ca, cb), (ra, rb) = r["wall"], r["cpu"], r["rss_mb"]  # type: ignore[misc]
        lines.append(f"| {r['workload']} | {r['runs']} | {wa:.3f} -> {wb:.3f} s | "
                     f"{wb / wa:.3f}x | {ca:.3f} -> {cb:.3f} s | {ra:.1f} -> {rb:.1f} | "
                     f"{'yes' if r['same_output'] else 'no'} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("rev", help="the commit to compare with (exported with git archive)")
    ap.add_argument("workloads", nargs="+", help="link-only workloads, e.g. chain1000")
    ap.add_argument("--runs", type=int, default=11, help="alternating rounds (default 11)")
    ap.add_argument("--work", type=Path, default=None,
                    help="where workloads are generated (bench/work)")
    args = ap.parse_args(argv)
    if args.work is not None:
        bench.WORK = args.work.resolve()
    import compileall

    compileall.compile_dir(str(bench.ROOT / "src"), quiet=1)
    baseline = bench.prepare_baseline(args.rev, flag="REV")
    rows = [compare(bench.parse_name(name), baseline, args.runs) for name in args.workloads]
    print(table(rows, baseline.commit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
