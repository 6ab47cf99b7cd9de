"""Link benchmark workloads with spvlink and export them as compute cases for
tools/gpu_check.py (run on lavapipe here, or on a real GPU elsewhere).

    python bench/export_gpu_cases.py OUT_DIR [--chain 200] [--wide 50] [--arrays]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spvlink.binary import read_many, write  # noqa: E402
from spvlink.link import LinkOptions, link  # noqa: E402
from workloads import generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--chain", type=int, default=200)
    ap.add_argument("--wide", type=int, default=50)
    ap.add_argument("--arrays", action="store_true",
                    help="the -arrays variants (each module declares its own arrays)")
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        suffix = "-arrays" if args.arrays else ""
        for kind, n, per_entry in ((f"chain{suffix}", args.chain, False),
                                   (f"wide{suffix}", args.wide, True)):
            w = generate(kind, n, Path(tmp) / f"{kind}{n}")
            mods = read_many([p.read_bytes() for p in w.inputs], [p.name for p in w.inputs])
            opts = LinkOptions(module_output="per-entry-point" if per_entry else "single")
            r = link(mods, opts)
            results = r.modules if per_entry else {w.entry_points[0]: r.module}
            inp = np.array(w.input, dtype=np.uint32)
            for entry, m in results.items():
                assert m is not None
                want = w.expected_per_entry[entry] if per_entry else w.expected
                name = f"{kind}{n}_{entry}"
                (out / f"{name}.spv").write_bytes(write(m))
                np.savez(out / f"{name}.npz", inp, np.array(want, dtype=np.uint32))
                cases.append({"label": f"{kind} {n} linked by spvlink", "spv": f"{name}.spv",
                              "entry": entry, "groups": [w.buffer_words // 64, 1, 1],
                              "data": f"{name}.npz", "buffers": 1})
    (out / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
    print(f"exported {len(cases)} case(s) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
