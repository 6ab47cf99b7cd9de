"""Read + write throughput: spvlink.binary.read then write, against spirv-opt with no passes.

    python bench/readwrite.py [--file X.spv] [--repeat N] [--json OUT]

Without ``--file`` the module is ``bench/work/big2/big_0.spv`` (about 8 MB), made once by
``bench/workloads.py big 2``. Per repetition, alternately: spvlink's read + write in this
process (read and write timed apart; the output must be byte-identical to the input) and one
``spirv-opt IN -o OUT`` process with no passes (which also parses and writes). Reported: the
medians, the ratio spvlink / spirv-opt, and the same read + write as the first one in fresh
Python processes (interpreter start, imports and grammar tables included; median of several
such processes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from run import ensure_workload, parse_name, run_child, spirv_tool  # noqa: E402

_FRESH = r"""
import json, sys, time
t0 = time.perf_counter()
from spvlink.binary import read, write
t1 = time.perf_counter()
data = open(sys.argv[1], "rb").read()
t2 = time.perf_counter()
m = read(data)
t3 = time.perf_counter()
out = write(m)
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "file_read_s": t2 - t1, "read_s": t3 - t2,
                  "write_s": t4 - t3, "identical": out == data}))
"""


def default_module() -> Path:
    data = ensure_workload(parse_name("big2"))
    return Path(data["dir"]) / data["inputs"][0]


def measure(path: Path, repeat: int, fresh: int) -> dict[str, Any]:
    from spvlink.binary import read, write

    data = path.read_bytes()
    opt_out = path.with_name(path.stem + ".opt.spv")
    opt = [spirv_tool("spirv-opt"), str(path), "-o", str(opt_out)]
    # warm-up of both
    identical = write(read(data)) == data
    run_child(opt)
    t_read: list[float] = []
    t_write: list[float] = []
    t_both: list[float] = []
    t_opt: list[float] = []
    rss_opt: list[int] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        m = read(data)
        t1 = time.perf_counter()
        out = write(m)
        t2 = time.perf_counter()
        identical &= out == data
        t_read.append(t1 - t0)
        t_write.append(t2 - t1)
        t_both.append(t2 - t0)
        p = run_child(opt)
        if p.rc != 0:
            raise SystemExit(f"error: spirv-opt exited {p.rc}: {' '.join(opt)}")
        t_opt.append(p.wall)
        rss_opt.append(p.rss_kb)
    opt_identical = opt_out.read_bytes() == data

    firsts: list[dict[str, Any]] = []
    walls: list[float] = []
    for _ in range(fresh):
        t0 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-c", _FRESH, str(path)], capture_output=True, text=True, check=True
        )
        walls.append(time.perf_counter() - t0)
        firsts.append(json.loads(r.stdout))
    identical &= all(f["identical"] for f in firsts)

    def med(key: str) -> float:
        return statistics.median(f[key] for f in firsts)

    rw = statistics.median(t_both)
    o = statistics.median(t_opt)
    return {
        "file": str(path),
        "bytes": len(data),
        "repeats": repeat,
        "spvlink_read_s": statistics.median(t_read),
        "spvlink_write_s": statistics.median(t_write),
        "spvlink_read_write_s": rw,
        "spvlink_identical": identical,
        "spirv_opt_s": o,
        "spirv_opt_rss_mb": max(rss_opt) / 1024,
        "spirv_opt_output_identical": opt_identical,
        "ratio": rw / o,
        "fresh_processes": fresh,
        "fresh_import_s": med("import_s"),
        "fresh_read_s": med("read_s"),
        "fresh_write_s": med("write_s"),
        "fresh_read_write_s": statistics.median(f["read_s"] + f["write_s"] for f in firsts),
        "fresh_process_wall_s": statistics.median(walls),
        "fresh_ratio": statistics.median(f["read_s"] + f["write_s"] for f in firsts) / o,
        "fresh_process_ratio": statistics.median(walls) / o,
        "mb_per_s": len(data) / 1e6 / rw,
    }


def report(r: dict[str, Any]) -> str:
    mb = r["bytes"] / 1e6
    lines = [
        f"module: {r['file']} ({mb:.2f} MB); medians of {r['repeats']} runs",
        "",
        "| what | time s | vs spirv-opt |",
        "|---|---|---|",
        f"| spvlink read (in process) | {r['spvlink_read_s']:.4f} | |",
        f"| spvlink write (in process) | {r['spvlink_write_s']:.4f} | |",
        f"| spvlink read + write (in process) | {r['spvlink_read_write_s']:.4f} | "
        f"{r['ratio']:.2f}x |",
        f"| spvlink first read + write in a fresh process | {r['fresh_read_write_s']:.4f} | "
        f"{r['fresh_ratio']:.2f}x |",
        f"| spvlink fresh process, whole (start, imports: {r['fresh_import_s']:.3f} s) | "
        f"{r['fresh_process_wall_s']:.4f} | {r['fresh_process_ratio']:.2f}x |",
        f"| spirv-opt, no passes (whole process) | {r['spirv_opt_s']:.4f} | 1.00x |",
        "",
        f"spvlink output byte-identical to the input: {r['spvlink_identical']}; "
        f"spirv-opt output identical: {r['spirv_opt_output_identical']}; "
        f"spvlink in-process throughput {r['mb_per_s']:.0f} MB/s",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--file", type=Path, help="module to read and write (default: big 2's first)")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--fresh", type=int, default=5, help="fresh processes for the first run")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    path = args.file or default_module()
    r = measure(path, args.repeat, args.fresh)
    print(report(r))
    if args.json:
        args.json.write_text(json.dumps(r, indent=1) + "\n")
    return 0 if r["spvlink_identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
