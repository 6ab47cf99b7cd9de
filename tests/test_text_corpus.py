"""The text codec against spirv-dis / spirv-as over every module of the corpus."""

from __future__ import annotations

import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import CORPUS, tool
from spvlink.binary import read, write
from spvlink.text import SPVLINK_GENERATOR, assemble, disassemble

FILES = sorted((CORPUS / "spv").glob("*.spv"))


def _dis(path: Path, *extra: str) -> bytes:
    return subprocess.run([tool("spirv-dis"), str(path), *extra], capture_output=True,
                          check=True).stdout


def _as(text: bytes, env: str) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "in.spvasm", Path(d) / "out.spv"
        src.write_bytes(text)
        subprocess.run([tool("spirv-as"), "--target-env", env, str(src), "-o", str(out)],
                       check=True, capture_output=True)
        return out.read_bytes()


def _words(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def test_corpus_present() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_disassemble_equals_spirv_dis_raw_id(path: Path) -> None:
    m = read(path.read_bytes())
    assert disassemble(m, raw_id=True) == _text(_dis(path, "--raw-id"))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_assemble_equals_spirv_as(path: Path) -> None:
    m = read(path.read_bytes())
    text = _dis(path, "--raw-id")
    major, minor = m.version_tuple
    ref = _words(_as(text, f"spv{major}.{minor}"))
    mine = _words(write(assemble(_text(text))))
    assert mine[2] == SPVLINK_GENERATOR
    ref[2] = mine[2]
    assert mine == ref


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_round_trip_through_text(path: Path) -> None:
    m = read(path.read_bytes())
    again = assemble(disassemble(m, raw_id=True), keep_header=True)
    assert write(again) == write(m)  # big-endian inputs come back little-endian


def test_friendly_names_share(capsys: pytest.CaptureFixture[str]) -> None:
    same = []
    for path in FILES:
        m = read(path.read_bytes())
        same.append(disassemble(m) == _text(_dis(path)))
    share = sum(same) / len(same)
    with capsys.disabled():
        print(f"\nfriendly-name disassembly equal to plain spirv-dis: {sum(same)}/{len(same)} "
              f"({share:.0%})")
        for path, ok in zip(FILES, same, strict=True):
            if not ok:
                print(f"  differs: {path.name}")
    # The README quotes this figure: every corpus module (all 134).
    differs = [p.name for p, ok in zip(FILES, same, strict=True) if not ok]
    assert not differs, f"friendly names differ from spirv-dis: {differs}"
    assert FILES, "no corpus modules found"
