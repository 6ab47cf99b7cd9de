"""Run exported compute cases (tools/demo.py --export DIR, bench chain) on a Vulkan device.

    python tools/gpu_check.py DIR [DIR...]

Each DIR holds cases.json: label, spv, entry, groups, data (an .npz of the input buffers
followed by the expected buffers) and the number of buffers. Prints one line per case and
exits 1 if any buffer differs. Needs only numpy and the `vulkan` binding, so it runs on a
machine without the compilers (a real GPU).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vkrun  # noqa: E402


def check(directory: Path) -> tuple[int, int]:
    cases = json.loads((directory / "cases.json").read_text())
    ok = bad = 0
    for case in cases:
        arrays = np.load(directory / case["data"])
        items = [arrays[f"arr_{k}"] for k in range(len(arrays.files))]
        n = int(case["buffers"])
        buffers, wants = items[:n], items[n:]
        outs = vkrun.run_compute((directory / case["spv"]).read_bytes(), case["entry"],
                                 [b.copy() for b in buffers], tuple(case["groups"]))
        same = all(np.array_equal(np.frombuffer(o, dtype=w.dtype)[: w.size], w)
                   for o, w in zip(outs, wants, strict=False))
        print(f"{'ok  ' if same else 'FAIL'} {case['label']} ({case['entry']})")
        ok += same
        bad += not same
    return ok, bad


def main(argv: list[str]) -> int:
    if not vkrun.vulkan_available():
        print("no Vulkan device", file=sys.stderr)
        return 1
    print(f"device: {vkrun.device_name()}")
    total_ok = total_bad = 0
    for d in argv:
        ok, bad = check(Path(d))
        total_ok += ok
        total_bad += bad
    print(f"{total_ok} case(s) matched, {total_bad} differed")
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
