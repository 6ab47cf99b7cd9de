"""The stage after the link (issue 14): spirv-opt's strip work done natively at `-O 0`, and
per-entry-point outputs optimised and validated on a thread pool."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers import ROOT, spirv_as, spirv_dis, spirv_val, tool
from spvlink._cores import usable_cores
from spvlink.binary import read, write
from spvlink.errors import ValidationError
from spvlink.link.finish import compact_ids
from spvlink.link.strip_debug import NATIVE_STEP
from spvlink.postprocess import map_parallel
from spvlink.stage import InvalidModules, StageOptions, run_stage
from spvlink.tools import validate

MULTI = ROOT / "examples" / "asm" / "multi_entry.spvasm"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    import workloads

    return workloads.generate("chain", 12, tmp_path_factory.mktemp("chain"), seed=5).inputs


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    import workloads

    return workloads.generate("wide", 6, tmp_path_factory.mktemp("wide"), seed=5).inputs


def _names(res: object) -> list[str]:
    return [n for n, _ in res.timings]  # type: ignore[attr-defined]


def test_defaults_strip_natively_as_spirv_opt_would(tmp_path: Path, chain: list[Path]) -> None:
    """link.rs: at `-O 0` with debug info off and metadata `none`, spirv-opt runs only
    EliminateDeadConstant + StripDebugInfo. The stage does those natively (no spirv-opt in
    the timings) and its module equals spirv-opt's on the unstripped link, ids compacted."""
    out = tmp_path / "n.spv"
    res = run_stage(chain, StageOptions(output=out, target_env="vulkan1.2"))
    assert NATIVE_STEP in _names(res) and "spirv-opt" not in _names(res)
    assert res.warnings == []
    raw = run_stage(chain, StageOptions(output=tmp_path / "raw.spv", spirv_opt=False,
                                        validate=False))
    assert raw.binary is not None and "OpName" in spirv_dis(raw.binary)
    r = subprocess.run([tool("spirv-opt"), "--eliminate-dead-const", "--strip-debug",
                        "-", "-o", "-"], input=raw.binary, capture_output=True, check=True)
    assert write(compact_ids(read(r.stdout))) == out.read_bytes()
    assert spirv_val(out.read_bytes(), "vulkan1.2") is None


def test_optimising_levels_and_debug_info_still_run_spirv_opt(tmp_path: Path,
                                                            chain: list[Path]) -> None:
    """`-O 2` asks spirv-opt for its performance passes: the process runs (with the strip
    passes), the native step does not; with `-g` nothing strips at `-O 0`."""
    res = run_stage(chain, StageOptions(output=tmp_path / "o.spv", opt_level="2",
                                        target_env="vulkan1.2"))
    assert "spirv-opt" in _names(res) and NATIVE_STEP not in _names(res)
    res = run_stage(chain, StageOptions(output=tmp_path / "g.spv", debuginfo=True,
                                        target_env="vulkan1.2"))
    assert "spirv-opt" not in _names(res) and NATIVE_STEP not in _names(res)
    assert "OpName" in spirv_dis((tmp_path / "g.spv").read_bytes())


def test_time_passes_names_the_native_step(tmp_path: Path, chain: list[Path]) -> None:
    spvlink = Path(sys.executable).parent / "spvlink"
    r = subprocess.run([str(spvlink), "link", *map(str, chain), "-o", str(tmp_path / "t.spv"),
                        "--time-passes"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert NATIVE_STEP in r.stderr + r.stdout
    assert "spirv-opt" not in (r.stderr + r.stdout).replace(NATIVE_STEP, "")


@pytest.mark.parametrize("opt_level", ["0", "2"])
def test_per_entry_point_outputs_same_bytes_every_run(tmp_path: Path, wide: list[Path],
                                                      opt_level: str) -> None:
    """Outputs processed on the thread pool are the same bytes on every run and equal to
    processing each module alone, and each validates."""
    runs = [run_stage(wide, StageOptions(output=tmp_path / f"{k}.spv", opt_level=opt_level,
                                         module_output="per-entry-point",
                                         target_env="vulkan1.2"))
            for k in range(2)]
    assert runs[0].binaries == runs[1].binaries and len(runs[0].binaries) == 8
    for name, data in runs[0].binaries.items():
        assert spirv_val(data, "vulkan1.2") is None, name
    # One core for this process: the pool has one worker, the outputs are the same.
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        assert usable_cores() == 1
        alone = run_stage(wide, StageOptions(output=tmp_path / "one.spv", opt_level=opt_level,
                                             module_output="per-entry-point",
                                             target_env="vulkan1.2"))
    finally:
        os.sched_setaffinity(0, cores)
    assert alone.binaries == runs[0].binaries


def test_map_parallel_keeps_order_and_uses_threads() -> None:
    seen: set[int] = set()

    def work(x: int) -> int:
        seen.add(threading.get_ident())
        return x * x

    assert map_parallel(work, list(range(50))) == [x * x for x in range(50)]
    assert map_parallel(work, []) == []
    assert len(seen) <= max(usable_cores(), 1)


def test_validation_runs_concurrently_with_the_same_answers(multi_binaries: list[bytes]) -> None:
    """spvValidateWithOptions copies the context (validate.cpp), so one shared context may
    serve several threads: the answers equal one-by-one validation, invalid ones included."""
    def check(data: bytes) -> str | None:
        try:
            validate(data, "vulkan1.2")
        except ValidationError as exc:
            return exc.message
        return None

    items = multi_binaries * 8
    sequential = [check(d) for d in items]
    assert map_parallel(check, items) == sequential
    assert sequential.count(None) == len(items) - 8 and None in sequential


@pytest.fixture(scope="module")
def multi_binaries(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Valid per-entry-point modules and one invalid module (OpIAdd on a label)."""
    d = tmp_path_factory.mktemp("multi")
    src = d / "multi.spv"
    src.write_bytes(spirv_as(MULTI.read_text(), "spv1.3"))
    good = run_stage([src], StageOptions(output=d / "o.spv", module_output="per-entry-point",
                                         target_env="vulkan1.2"))
    bad = spirv_as(BAD, "spv1.5")
    return [*good.binaries.values(), bad]


BAD = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 1 1 1
%void = OpTypeVoid
%u = OpTypeInt 32 0
%fn = OpTypeFunction %void
%main = OpFunction %void None %fn
%l = OpLabel
%x = OpIAdd %u %l %l
OpReturn
OpFunctionEnd
"""


def test_invalid_per_entry_outputs_reported_in_module_order(tmp_path: Path) -> None:
    """Validation errors come back in the order of the outputs (by file stem, as link.rs's
    BTreeMap), whatever thread finished first."""
    src = tmp_path / "m.spv"
    src.write_bytes(spirv_as(MULTI.read_text(), "spv1.3"))
    with pytest.raises((InvalidModules, ValidationError)) as info:
        # vulkan1.0 rejects SPIR-V 1.3 modules: every output fails.
        run_stage([src], StageOptions(output=tmp_path / "o.spv", target_env="vulkan1.0",
                                      module_output="per-entry-point"))
    exc = info.value
    assert isinstance(exc, InvalidModules)
    order = [e.message.split(":", 1)[0] for e in exc.errors]
    assert [Path(p).stem for p in order] == ["add_index", "double_it", "square"]
