"""Helpers for tests: the real SPIRV-Tools binaries, assembly in, assembly out."""

from __future__ import annotations

import subprocess
import sysconfig
import tempfile
from pathlib import Path

from spvlink.binary import read, write
from spvlink.ir import Module
from spvlink.link import LinkOptions, LinkResult, link

PREFIX = Path(sysconfig.get_paths()["purelib"]) / "cmeel.prefix"
BIN = PREFIX / "bin"
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"


def tool(name: str) -> str:
    return str(BIN / name)


def spirv_as(text: str, env: str = "spv1.5") -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in.spvasm"
        out = Path(d) / "out.spv"
        src.write_text(text)
        subprocess.run([tool("spirv-as"), "--target-env", env, str(src), "-o", str(out)],
                       check=True, capture_output=True, text=True)
        return out.read_bytes()


def spirv_dis(data: bytes, *extra: str) -> str:
    r = subprocess.run([tool("spirv-dis"), "-", *extra], input=data, capture_output=True,
                       check=True)
    return r.stdout.decode()


def spirv_val(data: bytes, env: str = "vulkan1.2") -> str | None:
    """None when valid, else spirv-val's message."""
    r = subprocess.run([tool("spirv-val"), "--target-env", env, "-"], input=data,
                       capture_output=True)
    if r.returncode == 0:
        return None
    return (r.stderr + r.stdout).decode()


def asm(text: str, name: str = "input.spv", env: str = "spv1.5") -> Module:
    return read(spirv_as(text, env), source=name)


def body(text: str) -> list[str]:
    """The instruction lines of a disassembly, without header comments, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith(";")]


def link_asm(*texts: str, env: str = "spv1.5", **options: object) -> LinkResult:
    modules = [asm(t, f"m{k}.spv", env) for k, t in enumerate(texts)]
    options.setdefault("verify", True)  # the Module's invariants after every pass
    return link(modules, LinkOptions(**options))  # type: ignore[arg-type]


def dis(m: Module) -> str:
    """Friendly disassembly of a result, for reading and for pasting into tests."""
    return spirv_dis(write(m))


def assert_valid(m: Module, env: str = "vulkan1.2") -> None:
    msg = spirv_val(write(m), env)
    assert msg is None, msg + "\n" + dis(m)
