#!/usr/bin/env python3
"""`make demo`: build the examples, link them into validated modules, run them on Vulkan.

    .venv/bin/python tools/demo.py [--out DIR] [--no-run]

1. examples/build.py compiles the sources in examples/ (GLSL library, assembly libraries and
   shaders, OpenCL C library and kernels) and archives two libraries into libhash.rlib.
2. spvlink links them, through the command line and through the Python API (spvlink.stage):
   - hash_main.spv + libhash.rlib -> hash.spv (Vulkan 1.1), and again at -O 2;
   - multi_entry.spv, per entry point -> multi.spvs/<entry>.spv + multi.spv.json;
   - kernels.spv + vecmath.spv (OpenCL), per entry point -> opencl.spvs/*.spv.
   Every output is validated in-process by SPIRV-Tools.
3. Where Vulkan is available (lavapipe, or a GPU driver), each compute shader runs through
   tools/vkrun.py and its buffer is compared with values computed here in Python.

Exits nonzero if anything is wrong.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "tools"))

N = 256  # invocations: 4 groups of 64
MASK = 0xFFFFFFFF


def hash_u32(x: int) -> int:
    x ^= x >> 16
    x = (x * 0x7FEB352D) & MASK
    x ^= x >> 15
    x = (x * 0x846CA68B) & MASK
    x ^= x >> 16
    return x


def expected_hash(i: int) -> int:
    s = (hash_u32(i) * 3 + 7) & MASK  # scale_add(hash_u32(i), 3)
    return s ^ ((i * 0x9E3779B9) & MASK)  # mix_u32(s, i)


MULTI: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "double_it": lambda a: a * 2,
    "square": lambda a: a * a,
    "add_index": lambda a: a + np.arange(a.size, dtype=np.uint32),
}


class Demo:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.problems: list[str] = []
        self.ran = 0
        self.export: Path | None = None

    def say(self, text: str) -> None:
        print(text, flush=True)

    def fail(self, text: str) -> None:
        self.problems.append(text)
        print(f"  FAILED: {text}", flush=True)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "spvlink", *args]
        self.say("  $ spvlink " + " ".join(_short(a, self.out) for a in args))
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.out)
        for line in (proc.stdout + proc.stderr).splitlines():
            self.say(f"    {line}")
        if proc.returncode != 0:
            self.fail(f"spvlink {' '.join(args)} exited {proc.returncode}")
        return proc


def _short(arg: str, base: Path) -> str:
    try:
        return str(Path(arg).relative_to(base))
    except ValueError:
        return arg


def run(out: Path, *, execute: bool = True, export: Path | None = None) -> int:
    from build import BuildError, build

    from spvlink.errors import SpvError
    from spvlink.stage import StageOptions, run_stage

    demo = Demo(out)
    demo.export = export
    out.mkdir(parents=True, exist_ok=True)
    demo.say(f"== building examples/ into {out / 'build'}")
    try:
        objs = build(out / "build", log=True)
    except BuildError as exc:
        demo.fail(f"building the examples: {exc}")
        return 1

    shaders: list[tuple[str, Path, str, list[np.ndarray], list[np.ndarray]]] = []

    # 1. GLSL library + assembly library in an rlib, imported by an assembly shader (CLI).
    demo.say("== linking hash_main.spv with libhash.rlib (command line)")
    demo.cli("archive", "--list", str(objs["libhash"]))
    proc = demo.cli("link", str(objs["hash_main"]), str(objs["libhash"]),
                    "--use-highest-version", "--target-env", "vulkan1.1", "-o", "hash.spv",
                    "--json", "hash.json")
    if proc.returncode == 0:
        demo.say(f"    compile result: {(out / 'hash.json').read_text()}")
        want = np.array([expected_hash(i) for i in range(N)], dtype=np.uint32)
        shaders.append(("hash.spv main", out / "hash.spv", "main",
                        [np.zeros(N, np.uint32)], [want]))

    # 2. The same through the Python API, optimised.
    demo.say("== linking the same at -O 2 (Python API: spvlink.stage.run_stage)")
    try:
        res = run_stage([objs["hash_main"], objs["libhash"]], StageOptions(
            output=out / "hash-O2.spv", use_highest_version=True, target_env="vulkan1.1",
            opt_level="2"))
        for w in res.warnings:
            demo.say(f"    warning: {w}")
        assert isinstance(res.module, Path)
        demo.say(f"    {_short(str(res.module), out)}: entry points {res.entry_points}, "
                 f"{res.module.stat().st_size} bytes (unoptimised "
                 f"{(out / 'hash.spv').stat().st_size if (out / 'hash.spv').exists() else '?'})")
        want = np.array([expected_hash(i) for i in range(N)], dtype=np.uint32)
        shaders.append(("hash-O2.spv main", res.module, "main", [np.zeros(N, np.uint32)],
                        [want]))
    except SpvError as exc:
        demo.fail(f"run_stage hash -O 2: {exc}")

    # 3. Several entry points, one module per entry point.
    demo.say("== linking multi_entry.spv per entry point (Python API)")
    try:
        res = run_stage([objs["multi_entry"]], StageOptions(
            output=out / "multi.spv", module_output="per-entry-point", target_env="vulkan1.1"))
        assert isinstance(res.module, dict) and res.json_path is not None
        demo.say(f"    {_short(str(res.json_path), out)}: {res.json_path.read_text()}")
        data = json.loads(res.json_path.read_text())
        if data["entry_points"] != sorted(MULTI):  # link.rs: a BTreeMap's keys, so sorted
            demo.fail(f"multi.spv.json entry points {data['entry_points']}")
        src = (np.arange(N, dtype=np.uint32) + 1)
        for entry, path in res.module.items():
            shaders.append((f"{_short(str(path), out)} {entry}", path, entry, [src.copy()],
                            [MULTI[entry](src.copy()).astype(np.uint32)]))
    except SpvError as exc:
        demo.fail(f"run_stage multi_entry: {exc}")

    # 4. OpenCL C library and kernels, per entry point (CLI), validated for OpenCL 1.2.
    demo.say("== linking OpenCL kernels.spv with vecmath.spv per entry point (command line)")
    proc = demo.cli("link", str(objs["kernels"]), str(objs["vecmath"]), "--module-output",
                    "per-entry-point", "--target-env", "opencl1.2", "-o", "opencl.spv")
    if proc.returncode == 0:
        demo.say(f"    opencl.spv.json: {(out / 'opencl.spv.json').read_text()}")
        demo.cli("info", "opencl.spvs/blend.spv")
        demo.say("    (OpenCL modules are validated, not run: no SPIR-V OpenCL runtime is used)")

    # 5. Run the compute shaders.
    if execute:
        _execute(demo, shaders)
    if demo.problems:
        demo.say(f"== demo FAILED: {len(demo.problems)} problem(s)")
        for p in demo.problems:
            demo.say(f"  - {p}")
        return 1
    demo.say(f"== demo OK: all modules linked and validated; {demo.ran} compute run(s) checked")
    return 0


def export_cases(out: Path, shaders: list[tuple[str, Path, str, list[np.ndarray],
                                               list[np.ndarray]]]) -> None:
    """Write the linked shaders, their inputs and expected buffers for tools/gpu_check.py,
    so they can be run on another machine (a real GPU) without the compilers."""
    import json
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for k, (label, path, entry, buffers, wants) in enumerate(shaders):
        name = f"case{k}"
        shutil.copyfile(path, out / f"{name}.spv")
        np.savez(out / f"{name}.npz", *buffers, *wants)
        cases.append({"label": label, "spv": f"{name}.spv", "entry": entry,
                      "groups": [N // 64, 1, 1], "data": f"{name}.npz",
                      "buffers": len(buffers)})
    (out / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")


def _execute(demo: Demo, shaders: list[tuple[str, Path, str, list[np.ndarray],
                                            list[np.ndarray]]]) -> None:
    import vkrun

    if demo.export is not None:
        export_cases(demo.export, shaders)
        demo.say(f"== exported {len(shaders)} compute case(s) to {demo.export}")

    if not vkrun.vulkan_available():
        demo.say("== Vulkan is not available here: the compute shaders were not run")
        return
    demo.say(f"== running compute shaders on {vkrun.device_name()}")
    for label, path, entry, buffers, wants in shaders:
        try:
            outs = vkrun.run_compute(path.read_bytes(), entry, buffers, (N // 64, 1, 1))
        except Exception as exc:
            demo.fail(f"{label}: Vulkan run failed: {exc}")
            continue
        demo.ran += 1
        for k, (raw, want) in enumerate(zip(outs, wants, strict=True)):
            got = np.frombuffer(raw, dtype=np.uint32)
            if got.shape == want.shape and bool(np.all(got == want)):
                demo.say(f"  {label}: buffer {k} matches Python ({N} values, first "
                         f"{', '.join(str(int(v)) for v in got[:3])}, ...)")
            else:
                bad = int(np.flatnonzero(got != want)[0]) if got.shape == want.shape else -1
                demo.fail(f"{label}: buffer {k} differs from Python"
                          + (f" first at [{bad}]: {int(got[bad])} != {int(want[bad])}"
                             if bad >= 0 else f" (shape {got.shape})"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "demo-out",
                    help="where to build and link (default demo-out/)")
    ap.add_argument("--no-run", action="store_true", help="do not run on Vulkan")
    ap.add_argument("--export", type=Path, default=None,
                    help="also write the compute cases there, for tools/gpu_check.py")
    args = ap.parse_args(argv)
    return run(args.out.resolve(), execute=not args.no_run,
               export=args.export.resolve() if args.export else None)


if __name__ == "__main__":
    sys.exit(main())
