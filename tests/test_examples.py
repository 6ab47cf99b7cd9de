"""`make demo`: build the examples, link them, and (where Vulkan is available) run them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

NEEDED = ("clang-14", "llvm-spirv-14")


def _missing() -> list[str]:
    return [t for t in NEEDED if shutil.which(t) is None]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str],
                                                             Path]:
    if _missing():
        pytest.skip(f"missing compilers: {', '.join(_missing())}")
    out = tmp_path_factory.mktemp("demo")
    sys.path.insert(0, str(ROOT / "tools"))
    import vkrun

    args = [] if vkrun.vulkan_available() else ["--no-run"]
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py"), "--out", str(out),
                           *args], capture_output=True, text=True, timeout=300)
    return proc, out


def test_demo_succeeds(demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = demo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "== demo OK" in proc.stdout
    assert "FAILED" not in proc.stdout


def test_demo_outputs(demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = demo
    assert (out / "hash.json").read_text() == '{"entry_points":["main"],"module":"hash.spv"}'
    multi = json.loads((out / "multi.spv.json").read_text())
    assert multi["entry_points"] == ["add_index", "double_it", "square"]  # sorted, as link.rs
    assert sorted(multi["module"]) == ["add_index", "double_it", "square"]
    opencl = json.loads((out / "opencl.spv.json").read_text())
    assert opencl["entry_points"] == ["bits", "blend", "hash64"]  # sorted, as link.rs
    for name in ("libhash.rlib", "hashlib.spv", "mixlib.spv", "kernels.spv", "vecmath.spv"):
        assert (out / "build" / name).exists()
    # Nothing is written into the repository's examples/.
    assert not list((ROOT / "examples").rglob("*.spv"))


def test_demo_runs_on_vulkan(demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, _ = demo
    if "--no-run" in proc.args:
        pytest.skip("Vulkan is not available")
    assert proc.stdout.count("matches Python") == 5, proc.stdout
    assert "5 compute run(s) checked" in proc.stdout


def test_build_script_cli(tmp_path: Path) -> None:
    if _missing():
        pytest.skip(f"missing compilers: {', '.join(_missing())}")
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "build.py"), str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "built 7 files" in r.stdout
