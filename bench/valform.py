"""What spirv-val spends on spvlink's outputs, and whether the module's form changes it.

    python bench/valform.py OUT.spv [--env vulkan1.2] [--repeat 9]

Validates, in process (`spvlink.tools.validate`, as the stage does), the module as spvlink
wrote it and the same module in other forms, alternating, and prints the median and minimum
of each: functions in reverse order (callers before callees or the other way round), ids
renumbered (spread apart; reversed), decorations sorted by target (ascending, descending)
and reversed. Every variant is the same module up to order and numbering, so a difference
in time is the validator's preference. Also the cost of the first call (library load and
context creation) and of `spirv-val` as a process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from spvlink.binary import read, write  # noqa: E402
from spvlink.ir import Module, Section  # noqa: E402
from spvlink.ir.facts import functions  # noqa: E402
from spvlink.link.finish import compact_ids  # noqa: E402
from spvlink.tools import tool_path, validate  # noqa: E402


def variants(m: Module) -> dict[str, Callable[[], bytes]]:
    n = len(m)
    fns = functions(m)
    head = np.arange(int(fns.first[0]) if fns.first.size else n)
    blocks = [np.arange(int(f), int(last) + 1)
              for f, last in zip(fns.first.tolist(), fns.last.tolist(), strict=True)]
    ann = np.flatnonzero(m.sections == int(Section.ANNOTATION))
    target = m.words[m.starts[ann] + 1].astype(np.int64)

    def annotations(order: np.ndarray) -> bytes:
        idx = np.arange(n)
        idx[ann] = ann[order]
        return write(m.select(idx))

    reversed_ids = (m.bound - np.arange(m.bound)).astype(np.uint32)
    reversed_ids[0] = 0
    out: dict[str, Callable[[], bytes]] = {
        "as written": lambda: write(m),
        "functions reversed": lambda: write(m.select(np.concatenate([head, *blocks[::-1]]))),
        "functions reversed, ids compacted": lambda: write(compact_ids(
            m.select(np.concatenate([head, *blocks[::-1]])))),
        "ids spread (x3)": lambda: write(m.select(
            None, remap=np.arange(m.bound, dtype=np.uint32) * 3, bound=m.bound * 3)),
        "ids reversed": lambda: write(m.select(None, remap=reversed_ids, bound=m.bound + 1)),
    }
    if ann.size > 1:
        out["decorations by target"] = lambda: annotations(np.argsort(target, kind="stable"))
        out["decorations by target, descending"] = lambda: annotations(
            np.argsort(-target, kind="stable"))
        out["decorations reversed"] = lambda: annotations(np.arange(ann.size)[::-1])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("module", type=Path)
    ap.add_argument("--env", default="vulkan1.2")
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args(argv)
    data = args.module.read_bytes()
    t0 = time.perf_counter()
    validate(data, args.env)
    first = time.perf_counter() - t0
    forms = {name: make() for name, make in variants(read(data)).items()}
    times: dict[str, list[float]] = {k: [] for k in forms}
    for _ in range(args.repeat):
        for name, blob in forms.items():
            t0 = time.perf_counter()
            validate(blob, args.env)
            times[name].append(time.perf_counter() - t0)
    proc = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([str(tool_path("spirv-val")), "--target-env", args.env,
                        str(args.module)], check=True)
        proc.append(time.perf_counter() - t0)
    print(f"{args.module} ({len(data)} bytes), {args.repeat} alternating runs each")
    print(f"first call (library load, context): {first * 1e3:.1f} ms; spirv-val process: "
          f"{statistics.median(proc) * 1e3:.1f} ms")
    print("| form | median ms | min ms |\n|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts) * 1e3:.1f} | {min(ts) * 1e3:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
