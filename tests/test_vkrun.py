"""Tests for tools/vkrun.py, the Vulkan compute runner."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

_TOOLS = Path(__file__).resolve().parent.parent / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))

import vkrun  # noqa: E402
from vkrun import VulkanError, run_compute, vulkan_available  # noqa: E402

_SPIRV_AS_CANDIDATES = [
    Path(sys.prefix) / "lib/python3.11/site-packages/cmeel.prefix/bin/spirv-as",
    Path(__file__).resolve().parent.parent
    / ".venv/lib/python3.11/site-packages/cmeel.prefix/bin/spirv-as",
]


def _spirv_as() -> str | None:
    for c in _SPIRV_AS_CANDIDATES:
        if c.is_file():
            return str(c)
    return shutil.which("spirv-as")


needs_vulkan = pytest.mark.skipif(not vulkan_available(), reason="no Vulkan device")
needs_glslc = pytest.mark.skipif(shutil.which("glslc") is None, reason="glslc not installed")


def glsl(tmp_path: Path, source: str, *extra: str) -> bytes:
    src = tmp_path / "shader.comp"
    out = tmp_path / "shader.spv"
    src.write_text(source)
    subprocess.run(
        ["glslc", "--target-env=vulkan1.1", *extra, str(src), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


DOUBLE = """#version 450
layout(local_size_x = 1) in;
layout(std430, set = 0, binding = 0) buffer Data { uint v[]; };
void main() {
    for (uint i = 0; i < v.length(); ++i) v[i] *= 2u;
}
"""


@needs_vulkan
def test_device_name() -> None:
    name = vkrun.device_name()
    assert isinstance(name, str) and name


@needs_vulkan
@needs_glslc
def test_double_in_place(tmp_path: Path) -> None:
    spv = glsl(tmp_path, DOUBLE)
    data = np.arange(10, dtype=np.uint32)
    (out,) = run_compute(spv, buffers=[data])
    assert np.array_equal(np.frombuffer(out, dtype=np.uint32), data * 2)
    # bytes input works too, and the context is reused across runs
    (out2,) = run_compute(spv, buffers=[data.tobytes()])
    assert out2 == out


@needs_vulkan
@needs_glslc
def test_two_buffers_many_groups(tmp_path: Path) -> None:
    spv = glsl(
        tmp_path,
        """#version 450
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer In { float a[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Out { float b[]; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    b[i] = a[i] * a[i] + 1.0;
}
""",
    )
    a = np.linspace(-3, 3, 256, dtype=np.float32)
    out_in, out_out = run_compute(spv, buffers=[a, np.zeros(256, np.float32)], groups=(4, 1, 1))
    assert out_in == a.tobytes()
    np.testing.assert_allclose(np.frombuffer(out_out, np.float32), a * a + 1.0, rtol=1e-6)


@needs_vulkan
@needs_glslc
def test_push_constants(tmp_path: Path) -> None:
    spv = glsl(
        tmp_path,
        """#version 450
layout(local_size_x = 8) in;
layout(push_constant) uniform PC { uint mul; uint add; } pc;
layout(std430, set = 0, binding = 0) buffer Data { uint v[]; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    v[i] = v[i] * pc.mul + pc.add;
}
""",
    )
    data = np.arange(16, dtype=np.uint32)
    (out,) = run_compute(
        spv, buffers=[data], groups=(2, 1, 1), push_constants=struct.pack("<II", 3, 7)
    )
    assert np.array_equal(np.frombuffer(out, np.uint32), data * 3 + 7)


@needs_vulkan
@needs_glslc
def test_specialization_constant(tmp_path: Path) -> None:
    spv = glsl(
        tmp_path,
        """#version 450
layout(local_size_x = 4) in;
layout(constant_id = 3) const uint K = 1u;
layout(constant_id = 5) const int NEG = 0;
layout(std430, set = 0, binding = 0) buffer Data { int v[]; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    v[i] = v[i] * int(K) + NEG;
}
""",
    )
    data = np.arange(4, dtype=np.int32)
    (default,) = run_compute(spv, buffers=[data])
    assert np.array_equal(np.frombuffer(default, np.int32), data)
    (out,) = run_compute(spv, buffers=[data], specialization={3: 10, 5: -2})
    assert np.array_equal(np.frombuffer(out, np.int32), data * 10 - 2)


SPIRV_ASM_ENTRY = """
               OpCapability Shader
               OpMemoryModel Logical GLSL450
               OpEntryPoint GLCompute %fn "triple_it" %gid
               OpExecutionMode %fn LocalSize 4 1 1
               OpDecorate %gid BuiltIn GlobalInvocationId
               OpDecorate %rta ArrayStride 4
               OpMemberDecorate %blk 0 Offset 0
               OpDecorate %blk Block
               OpDecorate %buf DescriptorSet 0
               OpDecorate %buf Binding 0
       %void = OpTypeVoid
     %fnty   = OpTypeFunction %void
       %uint = OpTypeInt 32 0
      %v3uint = OpTypeVector %uint 3
    %p_in_v3 = OpTypePointer Input %v3uint
        %gid = OpVariable %p_in_v3 Input
        %rta = OpTypeRuntimeArray %uint
        %blk = OpTypeStruct %rta
      %p_blk = OpTypePointer StorageBuffer %blk
        %buf = OpVariable %p_blk StorageBuffer
     %p_uint = OpTypePointer StorageBuffer %uint
      %int_0 = OpConstant %uint 0
      %three = OpConstant %uint 3
         %fn = OpFunction %void None %fnty
      %entry = OpLabel
         %g3 = OpLoad %v3uint %gid
          %x = OpCompositeExtract %uint %g3 0
         %pe = OpAccessChain %p_uint %buf %int_0 %x
          %v = OpLoad %uint %pe
          %w = OpIMul %uint %v %three
               OpStore %pe %w
               OpReturn
               OpFunctionEnd
"""


@needs_vulkan
def test_named_entry_point_from_assembly(tmp_path: Path) -> None:
    tool = _spirv_as()
    if tool is None:
        pytest.skip("spirv-as not found")
    src = tmp_path / "t.spvasm"
    out = tmp_path / "t.spv"
    src.write_text(SPIRV_ASM_ENTRY)
    subprocess.run(
        [tool, "--target-env", "vulkan1.1", str(src), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    spv = out.read_bytes()
    assert vkrun.entry_points(spv) == [(5, "triple_it")]
    data = np.arange(8, dtype=np.uint32)
    (res,) = run_compute(spv, entry="triple_it", buffers=[data], groups=(2, 1, 1))
    assert np.array_equal(np.frombuffer(res, np.uint32), data * 3)
    with pytest.raises(VulkanError, match="no GLCompute entry point named 'main'"):
        run_compute(spv, buffers=[data])


@needs_vulkan
@needs_glslc
def test_glslc_hlsl_entry_point_name(tmp_path: Path) -> None:
    # glslc honours -fentry-point only for HLSL sources (GLSL always yields "main").
    src = tmp_path / "d.hlsl"
    out = tmp_path / "d.spv"
    src.write_text(
        "RWStructuredBuffer<uint> data : register(u0);\n"
        "[numthreads(4, 1, 1)]\n"
        "void doubler(uint3 id : SV_DispatchThreadID) { data[id.x] = data[id.x] * 2; }\n"
    )
    subprocess.run(
        [
            "glslc",
            "-x",
            "hlsl",
            "-fshader-stage=compute",
            "-fentry-point=doubler",
            str(src),
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    (res,) = run_compute(
        out.read_bytes(), entry="doubler", buffers=[np.array([1, 2, 3, 4], np.uint32)]
    )
    assert np.frombuffer(res, np.uint32).tolist() == [2, 4, 6, 8]


@needs_vulkan
@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x00" * 3,
        b"garbage!" * 8,
        struct.pack("<5I", 0x07230203, 0x10000, 0, 10, 0) + b"\x01\x02",
        # valid header, then an instruction whose word count runs past the end
        struct.pack("<6I", 0x07230203, 0x10000, 0, 10, 0, (9 << 16) | 17),
        # valid header, zero word count
        struct.pack("<6I", 0x07230203, 0x10000, 0, 10, 0, 0),
    ],
)
def test_bad_spirv_raises(blob: bytes) -> None:
    with pytest.raises(VulkanError):
        run_compute(blob, buffers=[np.zeros(4, np.uint32)])


INVALID_ASM = """
               OpCapability Shader
               OpMemoryModel Logical GLSL450
               OpEntryPoint GLCompute %fn "main"
               OpExecutionMode %fn LocalSize 1 1 1
       %void = OpTypeVoid
       %fnty = OpTypeFunction %void
       %uint = OpTypeInt 32 0
         %fn = OpFunction %void None %fnty
      %entry = OpLabel
          %x = OpIAdd %uint %void %fnty
               OpReturn
               OpFunctionEnd
"""


@needs_vulkan
def test_driver_rejects_invalid_module(tmp_path: Path) -> None:
    # Well-formed words, invalid semantics: the driver must refuse it, not crash.
    tool = _spirv_as()
    if tool is None:
        pytest.skip("spirv-as not found")
    src = tmp_path / "bad.spvasm"
    out = tmp_path / "bad.spv"
    src.write_text(INVALID_ASM)
    subprocess.run(
        [tool, "--target-env", "vulkan1.1", str(src), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(VulkanError, match="rejected"):
        run_compute(out.read_bytes(), buffers=[np.zeros(4, np.uint32)])
    # and the runner still works afterwards
    assert vkrun.device_name()


@needs_vulkan
def test_bad_arguments_raise() -> None:
    spv = struct.pack("<5I", 0x07230203, 0x10000, 0, 10, 0)
    with pytest.raises(VulkanError):
        run_compute(spv, buffers=["not a buffer"])  # type: ignore[list-item]
    with pytest.raises(VulkanError):
        run_compute(spv, groups=(1, 1))  # type: ignore[arg-type]
