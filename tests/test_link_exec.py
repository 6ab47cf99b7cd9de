"""Executed results and differential tests against spirv-link, with real compilers."""

from __future__ import annotations

import collections
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import vkrun
from helpers import (
    CORPUS,
    PREFIX,
    asm,
    assert_valid,
    body,
    dis,
    spirv_as,
    spirv_dis,
    spirv_val,
    tool,
)
from spvlink.binary import read, write
from spvlink.link import LinkOptions, link

needs_vulkan = pytest.mark.skipif(not vkrun.vulkan_available(), reason="no Vulkan device")
needs_opencl_tools = pytest.mark.skipif(
    not (shutil.which("clang-14") and shutil.which("llvm-spirv-14")), reason="clang-14/llvm-spirv-14")

INPUT = np.array([(i * 2654435761) & 0xFFFFFFFF for i in range(256)], dtype=np.uint32)


def u32(x: int) -> int:
    return x & 0xFFFFFFFF


# -- (a) OpenCL C: a function defined in one file and called from another ------------


@needs_opencl_tools
def test_opencl_two_files_link_and_validate(tmp_path: Path) -> None:
    sources = CORPUS / "src" / "opencl"
    mods = []
    for name in ("kernel_user.cl", "lib_math.cl"):
        bc = tmp_path / (name + ".bc")
        spv = tmp_path / (name + ".spv")
        subprocess.run(["clang-14", "-c", "-target", "spir64", "-cl-std=CL1.2", "-O0",
                        "-emit-llvm", str(sources / name), "-o", str(bc)], check=True)
        subprocess.run(["llvm-spirv-14", "--spirv-max-version=1.0", str(bc), "-o", str(spv)],
                       check=True)
        mods.append(read(spv.read_bytes(), source=name))
    r = link(mods)
    assert r.module is not None
    assert_valid(r.module, "opencl1.2")
    text = dis(r.module)
    assert "LinkageAttributes" not in text and "OpCapability Linkage" not in text
    assert r.entry_points  # the kernels of kernel_user.cl


# -- (b) a GLSL library from glslang --no-link, imported by a shader in assembly -----

GLSL_LIB = """#version 450
uint mix_bits(uint x) { return (x ^ (x >> 3u)) * 2654435761u + 7u; }
uint twice(uint x) { return x + x; }
uint never_called(uint x) { return x * 3u; }
"""

IMPORTER = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main" %gid %data
OpExecutionMode %main LocalSize 64 1 1
OpDecorate %mix LinkageAttributes "mix_bits" Import
OpDecorate %twice LinkageAttributes "twice" Import
OpDecorate %gid BuiltIn GlobalInvocationId
OpDecorate %rta ArrayStride 4
OpMemberDecorate %buf 0 Offset 0
OpDecorate %buf Block
OpDecorate %data DescriptorSet 0
OpDecorate %data Binding 0
%void = OpTypeVoid
%uint = OpTypeInt 32 0
%uint_0 = OpConstant %uint 0
%v3uint = OpTypeVector %uint 3
%ptr_in = OpTypePointer Input %v3uint
%gid = OpVariable %ptr_in Input
%rta = OpTypeRuntimeArray %uint
%buf = OpTypeStruct %rta
%ptr_sb = OpTypePointer StorageBuffer %buf
%ptr_u = OpTypePointer StorageBuffer %uint
%data = OpVariable %ptr_sb StorageBuffer
%ptr_f = OpTypePointer Function %uint
%fn = OpTypeFunction %uint %ptr_f
%vfn = OpTypeFunction %void
%mix = OpFunction %uint None %fn
%mp = OpFunctionParameter %ptr_f
OpFunctionEnd
%twice = OpFunction %uint None %fn
%tp = OpFunctionParameter %ptr_f
OpFunctionEnd
%main = OpFunction %void None %vfn
%e = OpLabel
%tmp = OpVariable %ptr_f Function
%g = OpLoad %v3uint %gid
%i = OpCompositeExtract %uint %g 0
%pe = OpAccessChain %ptr_u %data %uint_0 %i
%v = OpLoad %uint %pe
OpStore %tmp %v
%r1 = OpFunctionCall %uint %mix %tmp
OpStore %tmp %r1
%r2 = OpFunctionCall %uint %twice %tmp
OpStore %pe %r2
OpReturn
OpFunctionEnd
"""


def glslang_library(tmp_path: Path) -> bytes:
    src = tmp_path / "lib.comp"
    out = tmp_path / "lib.spv"
    src.write_text(GLSL_LIB)
    env = {"LD_LIBRARY_PATH": str(PREFIX / "lib")}
    subprocess.run([str(PREFIX / "bin" / "glslang"), "-V", "--no-link", "--target-env",
                    "vulkan1.2", "-S", "comp", str(src), "-o", str(out)],
                   check=True, capture_output=True, env=env)
    return out.read_bytes()


def test_glslang_library_links(tmp_path: Path) -> None:
    lib = read(glslang_library(tmp_path), source="lib.spv")
    r = link([asm(IMPORTER, "main.spv"), lib])
    assert r.module is not None
    assert_valid(r.module, "vulkan1.2")
    assert "never_called" not in dis(r.module)


@needs_vulkan
def test_glslang_library_runs(tmp_path: Path) -> None:
    lib = read(glslang_library(tmp_path), source="lib.spv")
    r = link([asm(IMPORTER, "main.spv"), lib])
    out = vkrun.run_compute(write(r.module), "main", [INPUT.copy()], groups=(4, 1, 1))  # type: ignore[arg-type]
    got = np.frombuffer(out[0], dtype=np.uint32)
    expected = [u32(2 * u32(u32((x ^ (x >> 3)) * 2654435761) + 7)) for x in INPUT.tolist()]
    assert got.tolist() == expected


# -- (d) three entry points, split, each run -----------------------------------------


@needs_vulkan
def test_split_entry_points_run() -> None:
    from test_link_rules import THREE_ENTRIES

    r = link([asm(THREE_ENTRIES, "three.spv")], LinkOptions(module_output="per-entry-point"))
    ops = {"add::one": lambda x: x + 1, "add::two": lambda x: x + 2, "times/three": lambda x: x * 3}
    for name, m in r.modules.items():
        data = np.array([10, 20, 30, 40], dtype=np.uint32)
        out = vkrun.run_compute(write(m), name, [data], groups=(1, 1, 1))
        got = np.frombuffer(out[0], dtype=np.uint32).tolist()
        assert got[0] == ops[name](10) and got[1:] == [20, 30, 40]


# -- differential: spvlink and spirv-link describe the same module --------------------


def spirv_link(datas: list[bytes], *extra: str) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        paths = []
        for k, data in enumerate(datas):
            p = Path(d) / f"in{k}.spv"
            p.write_bytes(data)
            paths.append(str(p))
        out = Path(d) / "out.spv"
        subprocess.run([tool("spirv-link"), *extra, *paths, "-o", str(out)], check=True,
                       capture_output=True)
        return out.read_bytes()


def shape(data: bytes) -> collections.Counter[str]:
    """The multiset of instructions with ids erased: equal shapes, same module up to ids."""
    text = spirv_dis(data, "--raw-id", "--no-header")
    out: collections.Counter[str] = collections.Counter()
    for line in body(text):
        words = line.split()
        if "=" in words:
            words = words[2:]
        out[" ".join("%" if w.startswith("%") else w for w in words)] += 1
    # spirv-link records itself; spvlink adds no OpModuleProcessed of its own.
    out.pop('OpModuleProcessed "Linked by SPIR-V Tools Linker"', None)
    return out


def test_same_module_as_spirv_link_without_dce(tmp_path: Path) -> None:
    """Without DCE and with metadata kept, spvlink and spirv-link agree up to ids.

    Deliberate differences this test does not cover: spvlink removes unused exports
    (DCE), unused pure instructions, and recomputes interfaces.
    """
    from test_link import LIB, MAIN

    a, b = spirv_as(MAIN), spirv_as(LIB)
    ours = write(link([read(a), read(b)], LinkOptions(dce=False, spirv_metadata="full")).module)  # type: ignore[arg-type]
    theirs = spirv_link([a, b])
    assert spirv_val(ours) is None and spirv_val(theirs) is None
    assert shape(ours) == shape(theirs)


def test_glslang_library_same_as_spirv_link(tmp_path: Path) -> None:
    lib = glslang_library(tmp_path)
    main = spirv_as(IMPORTER)
    ours = write(link([read(main), read(lib)], LinkOptions(dce=False, spirv_metadata="full")).module)  # type: ignore[arg-type]
    theirs = spirv_link([main, lib])
    assert spirv_val(ours) is None and spirv_val(theirs) is None
    assert shape(ours) == shape(theirs)


# -- (c) a generated program of 200 modules chained through imports -------------------


def test_chain_of_200_modules_links_validates_and_runs(tmp_path: Path) -> None:
    from spvlink.binary import read_many
    from workloads import generate

    w = generate("chain", 200, tmp_path / "chain")
    mods = read_many([p.read_bytes() for p in w.inputs], [p.name for p in w.inputs])
    r = link(mods)
    assert r.module is not None
    assert_valid(r.module, "vulkan1.2")
    text = dis(r.module)
    assert text.count("OpTypeInt 32 0") == 1
    # Only f_k_0 of each module is reachable: 200 of the 1000 exports survive, plus main.
    assert sum(1 for line in body(text) if " OpFunction " in line) == 201
    if not vkrun.vulkan_available():
        pytest.skip("no Vulkan device")
    out = vkrun.run_compute(write(r.module), "main", [np.array(w.input, dtype=np.uint32)],
                            groups=(w.buffer_words // 64, 1, 1))
    assert np.frombuffer(out[0], dtype=np.uint32).tolist() == w.expected
