"""spvlink.tools: locating SPIRV-Tools, in-process validation, spirv-opt."""

from __future__ import annotations

import ctypes
import re
import stat
from pathlib import Path

import pytest

from spvlink import tools
from spvlink.errors import ToolError, ValidationError
from spvlink.tools import (
    TARGET_ENVS,
    ValidatorOptions,
    canonical_target_env,
    optimize,
    optimizer_passes,
    prefix,
    run_tool,
    tool_path,
    validate,
)

COMPUTE = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 1 1 1
OpName %main "main"
OpName %dead "dead_function"
OpName %x "x"
%void = OpTypeVoid
%fn = OpTypeFunction %void
%uint = OpTypeInt 32 0
%ptr = OpTypePointer Function %uint
%c1 = OpConstant %uint 1
%c2 = OpConstant %uint 2
%c3 = OpConstant %uint 3
%main = OpFunction %void None %fn
%l = OpLabel
%x = OpVariable %ptr Function
OpStore %x %c1
%v = OpLoad %uint %x
%w = OpIAdd %uint %v %c2
OpStore %x %w
OpReturn
OpFunctionEnd
%dead = OpFunction %void None %fn
%l2 = OpLabel
%y = OpIMul %uint %c3 %c3
OpReturn
OpFunctionEnd
"""

LINKAGE = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %f LinkageAttributes "f" Export
%void = OpTypeVoid
%fn = OpTypeFunction %void
%f = OpFunction %void None %fn
%l = OpLabel
OpReturn
OpFunctionEnd
"""

# A storage buffer whose vec4 member sits at offset 4 (straddling 16 bytes, so even relaxed
# block layout rejects it): fine under scalar block layout only.
SCALAR_LAYOUT = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main" %buf
OpExecutionMode %main LocalSize 1 1 1
OpDecorate %S Block
OpMemberDecorate %S 0 Offset 0
OpMemberDecorate %S 1 Offset 4
OpDecorate %buf DescriptorSet 0
OpDecorate %buf Binding 0
%void = OpTypeVoid
%fn = OpTypeFunction %void
%float = OpTypeFloat 32
%v4 = OpTypeVector %float 4
%S = OpTypeStruct %float %v4
%ptr = OpTypePointer StorageBuffer %S
%buf = OpVariable %ptr StorageBuffer
%main = OpFunction %void None %fn
%l = OpLabel
OpReturn
OpFunctionEnd
"""


def assemble(tmp_path: Path, text: str, env: str = "spv1.5", name: str = "m") -> Path:
    src = tmp_path / f"{name}.spvasm"
    out = tmp_path / f"{name}.spv"
    src.write_text(text)
    proc = run_tool("spirv-as", ["--target-env", env, str(src), "-o", str(out)])
    assert proc.returncode == 0, proc.stderr.decode()
    return out


# --- locating -----------------------------------------------------------------------------


def test_prefix_and_tool_paths() -> None:
    p = prefix()
    assert (p / "bin").is_dir()
    assert p.name == "cmeel.prefix"
    for name in tools.TOOL_NAMES:
        path = tool_path(name)
        assert path == p / "bin" / name
        assert path.is_file()
    assert tools.library_path().is_file()


def test_missing_tool() -> None:
    with pytest.raises(ToolError, match="not found"):
        tool_path("spirv-nonexistent")
    with pytest.raises(ToolError):
        tool_path("ls")


# --- target environments ------------------------------------------------------------------


def test_target_envs_match_header_and_library() -> None:
    header = (prefix() / "include" / "spirv-tools" / "libspirv.h").read_text()
    body = re.search(r"typedef enum \{(.*?)\} spv_target_env;", header, re.S)
    assert body is not None
    names = re.findall(r"^\s*(SPV_ENV_\w+)", body.group(1), re.M)
    enum = {n: i for i, n in enumerate(names)}
    assert TARGET_ENVS["spv1.0"] == enum["SPV_ENV_UNIVERSAL_1_0"]
    assert TARGET_ENVS["universal1.6"] == enum["SPV_ENV_UNIVERSAL_1_6"]
    assert TARGET_ENVS["universal"] == TARGET_ENVS["spv1.6"]
    assert TARGET_ENVS["vulkan1.2"] == enum["SPV_ENV_VULKAN_1_2"]
    assert TARGET_ENVS["vulkan1.4"] == enum["SPV_ENV_VULKAN_1_4"]
    assert TARGET_ENVS["vulkan1.1spv1.4"] == enum["SPV_ENV_VULKAN_1_1_SPIRV_1_4"]
    assert TARGET_ENVS["opencl1.2"] == enum["SPV_ENV_OPENCL_1_2"]
    assert TARGET_ENVS["opencl2.0embedded"] == enum["SPV_ENV_OPENCL_EMBEDDED_2_0"]
    assert TARGET_ENVS["opengl4.5"] == enum["SPV_ENV_OPENGL_4_5"]
    # The library parses every canonical name to the same value.
    lib = tools._library()
    for name, value in TARGET_ENVS.items():
        canon = canonical_target_env(name)
        out = ctypes.c_int(-1)
        assert lib.spvParseTargetEnv(canon.encode(), ctypes.byref(out)), canon
        assert out.value == value, name


def test_unknown_target_env() -> None:
    with pytest.raises(ToolError, match="unknown target environment 'vulkan9'") as info:
        validate(b"", "vulkan9")
    assert any("vulkan1.2" in n for n in info.value.notes)
    with pytest.raises(ToolError, match="unknown target environment"):
        optimize(b"", ["-O"], target_env="nope")


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["spv1.6", "vulkan1.2", "universal1.5", "universal", "spv1.5"])
def test_validate_good(tmp_path: Path, env: str) -> None:
    binary = assemble(tmp_path, COMPUTE).read_bytes()
    validate(binary, env)
    validate(binary, env, ValidatorOptions(relax_struct_store=True, relax_logical_pointer=True,
                                      relax_block_layout=True, uniform_buffer_standard_layout=True,
                                      scalar_block_layout=True, skip_block_layout=True))


def test_validate_linkage_rejected_by_vulkan(tmp_path: Path) -> None:
    path = assemble(tmp_path, LINKAGE)
    binary = path.read_bytes()
    validate(binary, "spv1.5")
    with pytest.raises(ValidationError) as info:
        validate(binary, "vulkan1.2")
    message = str(info.value)
    assert message.startswith("error: line ")
    assert "Linkage" in message
    assert "Vulkan 1.2" in message
    # Same text as the spirv-val binary prints.
    proc = run_tool("spirv-val", ["--target-env", "vulkan1.2", str(path)])
    assert proc.returncode != 0
    assert proc.stderr.decode().strip() == message


def test_validate_message_matches_spirv_val(tmp_path: Path) -> None:
    text = COMPUTE.replace("%w = OpIAdd %uint %v %c2", "%w = OpIAdd %uint %v %void")
    path = assemble(tmp_path, text)
    with pytest.raises(ValidationError) as info:
        validate(path.read_bytes())
    proc = run_tool("spirv-val", [str(path)])
    assert proc.stderr.decode().strip() == str(info.value)
    assert "cannot be a type" in str(info.value)
    assert isinstance(info.value, ToolError)


def test_relax_options_make_a_difference(tmp_path: Path) -> None:
    path = assemble(tmp_path, SCALAR_LAYOUT)
    binary = path.read_bytes()
    with pytest.raises(ValidationError, match="layout|Offset") as info:
        validate(binary, "vulkan1.2")
    proc = run_tool("spirv-val", ["--target-env", "vulkan1.2", str(path)])
    assert proc.stderr.decode().strip() == str(info.value)
    validate(binary, "vulkan1.2", ValidatorOptions(scalar_block_layout=True))
    validate(binary, "vulkan1.2", ValidatorOptions(skip_block_layout=True))
    # and the in-process result agrees with spirv-val given the same flags
    flags = ValidatorOptions(scalar_block_layout=True).spirv_val_flags()
    assert flags == ["--scalar-block-layout"]
    assert run_tool("spirv-val", ["--target-env", "vulkan1.2", *flags, str(path)]).returncode == 0


def test_validator_option_flags() -> None:
    """spirv-opt forwards all but --uniform-buffer-standard-layout to its validator."""
    every = ValidatorOptions(relax_struct_store=True, relax_logical_pointer=True,
                                      relax_block_layout=True, uniform_buffer_standard_layout=True,
                                      scalar_block_layout=True, skip_block_layout=True)
    assert every.spirv_opt_flags() is None
    assert ValidatorOptions(scalar_block_layout=True).spirv_opt_flags() == [
        "--scalar-block-layout"]
    assert every.spirv_val_flags() == [
        "--relax-struct-store",
        "--relax-logical-pointer",
        "--relax-block-layout",
        "--uniform-buffer-standard-layout",
        "--scalar-block-layout",
        "--skip-block-layout",
    ]
    assert ValidatorOptions().spirv_val_flags() == []


@pytest.mark.parametrize(
    "data",
    [b"", b"\x03\x02\x23", b"\x00" * 20, b"\x03\x02\x23\x07" + b"\x00" * 8],
)
def test_validate_garbage(data: bytes) -> None:
    with pytest.raises(ValidationError, match="^error: line "):
        validate(data)


def test_validate_big_endian(tmp_path: Path) -> None:
    binary = assemble(tmp_path, COMPUTE).read_bytes()
    swapped = b"".join(binary[i : i + 4][::-1] for i in range(0, len(binary), 4))
    validate(swapped)


# --- spirv-opt ----------------------------------------------------------------------------


def test_optimize_shrinks(tmp_path: Path) -> None:
    binary = assemble(tmp_path, COMPUTE).read_bytes()
    out = optimize(binary, ["-O"])
    assert out[:4] == binary[:4]
    assert len(out) < len(binary)
    validate(out)
    out2 = optimize(binary, ["-Os"], target_env="vulkan1.2", preserve_bindings=True)
    validate(out2, "vulkan1.2")
    stripped = optimize(binary, optimizer_passes("0", strip=True))
    assert len(stripped) < len(binary)
    assert b"dead_function" in binary and b"dead_function" not in stripped
    validate(stripped)


def test_optimize_bad_flag(tmp_path: Path) -> None:
    binary = assemble(tmp_path, COMPUTE).read_bytes()
    with pytest.raises(ToolError, match="spirv-opt failed.*--no-such-pass") as info:
        optimize(binary, ["--no-such-pass"])
    assert not isinstance(info.value, ValidationError)


def test_optimize_invalid_input() -> None:
    with pytest.raises(ToolError, match="spirv-opt failed"):
        optimize(b"\x03\x02\x23\x07" + b"\x00" * 4, ["-O"])


def test_optimize_signal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "spirv-opt"
    fake.write_text("#!/bin/sh\necho dying >&2\nkill -SEGV $$\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(tools, "tool_path", lambda name: fake)
    with pytest.raises(ToolError, match="killed by SIGSEGV: dying"):
        optimize(b"\x03\x02\x23\x07", ["-O"])


def test_optimize_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "spirv-opt"
    fake.write_text("#!/bin/sh\nexec sleep 10\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(tools, "tool_path", lambda name: fake)
    with pytest.raises(ToolError, match="timed out"):
        optimize(b"\x03\x02\x23\x07", ["-O"], timeout=0.2)


def test_optimizer_passes() -> None:
    assert optimizer_passes("0", strip=False) == []
    for level in "123":
        assert optimizer_passes(level, strip=False) == ["-O"]
    for level in "sz":
        assert optimizer_passes(level, strip=False) == ["-Os"]
    # link.rs registers EliminateDeadConstant, then StripDebugInfo.
    assert optimizer_passes("2", strip=True) == ["-O", "--eliminate-dead-const", "--strip-debug"]
    with pytest.raises(ToolError, match="unknown optimisation level"):
        optimizer_passes("4", strip=False)
    # every flag we emit is one spirv-opt accepts
    help_text = run_tool("spirv-opt", ["--help"]).stdout.decode()
    for flag in optimizer_passes("s", strip=True) + optimizer_passes("3", strip=True):
        assert re.search(rf"^\s+{re.escape(flag)}\b", help_text, re.M), flag


# A Uniform block whose float array has ArrayStride 4: std140 wants 16, so it is valid only
# with --uniform-buffer-standard-layout, which spirv-opt's command line cannot forward.
UBSL = SCALAR_LAYOUT.replace("OpMemberDecorate %S 1 Offset 4", """OpMemberDecorate %S 1 Offset 16
OpDecorate %arr ArrayStride 4""").replace("%v4 = OpTypeVector %float 4", """%uint = OpTypeInt 32 0
%uint_4 = OpConstant %uint 4
%arr = OpTypeArray %float %uint_4""").replace("%S = OpTypeStruct %float %v4",
                                              "%S = OpTypeStruct %float %arr").replace(
    "StorageBuffer", "Uniform")


def test_optimize_takes_the_validator_options(tmp_path: Path) -> None:
    """link.rs hands its ValidatorOptions to the optimiser (`validator_options:
    Some(val_options.clone())`): forwarded as flags where spirv-opt has them, else checked
    in-process first and spirv-opt told --skip-validation."""
    for text, options in ((SCALAR_LAYOUT, ValidatorOptions(scalar_block_layout=True)),
                          (UBSL, ValidatorOptions(uniform_buffer_standard_layout=True))):
        binary = assemble(tmp_path, text, "spv1.5").read_bytes()
        with pytest.raises(ToolError, match="spirv-opt failed"):
            optimize(binary, ["-O"], target_env="vulkan1.2")
        out = optimize(binary, ["-O"], target_env="vulkan1.2", validator=options)
        validate(out, "vulkan1.2", options)
        with pytest.raises(ValidationError):
            validate(out, "vulkan1.2")
    assert ValidatorOptions(uniform_buffer_standard_layout=True).spirv_opt_flags() is None
    # Options spirv-opt cannot forward, without the one this module needs: the in-process
    # check refuses it, as spirv-opt's own would.
    with pytest.raises(ValidationError):
        optimize(assemble(tmp_path, UBSL, "spv1.5").read_bytes(), ["-O"],
                 target_env="vulkan1.2", validator=ValidatorOptions(allow_localsizeid=True))
