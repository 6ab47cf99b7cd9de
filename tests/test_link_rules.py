"""Deduplication, DCE roots, interfaces, splitting, metadata and finishing rules."""

from __future__ import annotations

from helpers import asm, assert_valid, body, dis, link_asm
from spvlink.binary import write
from spvlink.link import LinkOptions, link
from spvlink.link.split import file_stem, file_stems

HEAD = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
"""


def _count(text: str, needle: str) -> int:
    return sum(1 for line in body(text) if needle in line)


def test_types_dedup_respects_decorations() -> None:
    a = HEAD + """
OpDecorate %s Block
OpMemberDecorate %s 0 Offset 0
OpDecorate %arr ArrayStride 4
OpDecorate %va LinkageAttributes "va" Export
OpDecorate %vb LinkageAttributes "vb" Export
OpDecorate %vc LinkageAttributes "vc" Export
%uint = OpTypeInt 32 0
%uint_4 = OpConstant %uint 4
%arr = OpTypeArray %uint %uint_4
%s = OpTypeStruct %arr
%plain = OpTypeStruct %arr
%p = OpTypePointer Private %s
%pp = OpTypePointer Private %plain
%va = OpVariable %p Private
%vb = OpVariable %pp Private
%arr16 = OpTypeArray %uint %uint_4
%parr = OpTypePointer Private %arr16
%vc = OpVariable %parr Private
"""
    b = HEAD.replace("", "") + """
OpDecorate %arr ArrayStride 16
OpDecorate %vd LinkageAttributes "vd" Export
%uint = OpTypeInt 32 0
%uint_4 = OpConstant %uint 4
%arr = OpTypeArray %uint %uint_4
%p = OpTypePointer Private %arr
%vd = OpVariable %p Private
"""
    r = link_asm(a, b, create_library=True, spirv_metadata="full")
    text = dis(r.module)  # type: ignore[arg-type]
    # A struct with Block and one without stay apart; arrays with different strides too.
    assert _count(text, "OpTypeStruct") == 2
    assert _count(text, "OpTypeArray %uint %uint_4") == 3  # stride 4, none, stride 16
    assert _count(text, "OpTypeInt 32 0") == 1
    assert _count(text, "OpConstant %uint 4") == 1
    assert_valid(r.module, "spv1.5")  # type: ignore[arg-type]


def test_constants_and_spec_constants() -> None:
    a = HEAD + """
OpDecorate %sc SpecId 1
OpDecorate %fa LinkageAttributes "fa" Export
%uint = OpTypeInt 32 0
%v2 = OpTypeVector %uint 2
%c1 = OpConstant %uint 1
%cc = OpConstantComposite %v2 %c1 %c1
%cn = OpConstantNull %v2
%sc = OpSpecConstant %uint 7
%fn = OpTypeFunction %uint
%fa = OpFunction %uint None %fn
%l = OpLabel
%x = OpCompositeExtract %uint %cc 0
%y = OpCompositeExtract %uint %cn 1
%z = OpIAdd %uint %x %y
%w = OpIAdd %uint %z %sc
OpReturnValue %w
OpFunctionEnd
"""
    b = a.replace('"fa"', '"fb"').replace("SpecId 1", "SpecId 2")
    c = a.replace('"fa"', '"fc"')
    r = link_asm(a, b, c, create_library=True, spirv_metadata="full")
    text = dis(r.module)  # type: ignore[arg-type]
    assert _count(text, "OpConstant %uint 1") == 1
    assert _count(text, "OpConstantComposite") == 1
    assert _count(text, "OpConstantNull") == 1
    # SpecId 1 twice merges; SpecId 2 stays apart.
    assert _count(text, "OpSpecConstant %uint 7") == 2
    assert _count(text, "SpecId 1") == 1
    assert_valid(r.module, "spv1.5")  # type: ignore[arg-type]


BUILTIN_USER = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %gid BuiltIn GlobalInvocationId
OpDecorate %f LinkageAttributes "NAME" Export
%uint = OpTypeInt 32 0
%v3 = OpTypeVector %uint 3
%pin = OpTypePointer Input %v3
%gid = OpVariable %pin Input
%fn = OpTypeFunction %uint
%f = OpFunction %uint None %fn
%l = OpLabel
%g = OpLoad %v3 %gid
%x = OpCompositeExtract %uint %g 0
OpReturnValue %x
OpFunctionEnd
"""


def test_builtin_variables_merge() -> None:
    r = link_asm(BUILTIN_USER.replace("NAME", "a"), BUILTIN_USER.replace("NAME", "b"),
                 create_library=True)
    text = dis(r.module)  # type: ignore[arg-type]
    assert _count(text, "OpVariable %_ptr_Input_v3uint Input") == 1
    assert _count(text, "BuiltIn GlobalInvocationId") == 1
    assert_valid(r.module, "spv1.5")  # type: ignore[arg-type]


def test_builtin_import_variables_are_left_alone() -> None:
    # llvm-spirv marks its builtin variables as imports: they are not symbols to resolve.
    kernel = """
OpCapability Addresses
OpCapability Kernel
OpCapability Linkage
OpCapability Int64
OpMemoryModel Physical64 OpenCL
OpEntryPoint Kernel %k "k" %gid
OpDecorate %gid BuiltIn GlobalInvocationId
OpDecorate %gid Constant
OpDecorate %gid LinkageAttributes "__spirv_BuiltInGlobalInvocationId" Import
%ulong = OpTypeInt 64 0
%v3 = OpTypeVector %ulong 3
%p = OpTypePointer Input %v3
%gid = OpVariable %p Input
%void = OpTypeVoid
%fn = OpTypeFunction %void
%k = OpFunction %void None %fn
%l = OpLabel
%g = OpLoad %v3 %gid Aligned 32
OpReturn
OpFunctionEnd
"""
    r = link_asm(kernel, env="spv1.0")
    text = dis(r.module)  # type: ignore[arg-type]
    assert "BuiltIn GlobalInvocationId" in text
    assert "LinkageAttributes" not in text
    assert "OpCapability Linkage" not in text
    assert_valid(r.module, "opencl1.2")  # type: ignore[arg-type]


def test_linkage_through_decoration_group() -> None:
    lib = HEAD + """
%g = OpDecorationGroup
OpDecorate %g LinkageAttributes "shared" Export
OpGroupDecorate %g %f
%uint = OpTypeInt 32 0
%c = OpConstant %uint 9
%fn = OpTypeFunction %uint
%f = OpFunction %uint None %fn
%l = OpLabel
OpReturnValue %c
OpFunctionEnd
"""
    user = HEAD + """
OpDecorate %h LinkageAttributes "shared" Import
OpDecorate %u LinkageAttributes "user" Export
%uint = OpTypeInt 32 0
%fn = OpTypeFunction %uint
%h = OpFunction %uint None %fn
OpFunctionEnd
%u = OpFunction %uint None %fn
%l = OpLabel
%x = OpFunctionCall %uint %h
OpReturnValue %x
OpFunctionEnd
"""
    r = link_asm(user, lib, create_library=True, spirv_metadata="full")
    text = dis(r.module)  # type: ignore[arg-type]
    assert "OpDecorationGroup" not in text
    assert 'LinkageAttributes "shared" Export' in text
    assert '"shared" Import' not in text
    assert_valid(r.module, "spv1.5")  # type: ignore[arg-type]


SHADER_13 = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main" %unused_in
OpExecutionMode %main LocalSize 1 1 1
OpDecorate %gid BuiltIn GlobalInvocationId
OpDecorate %unused_in BuiltIn LocalInvocationId
%void = OpTypeVoid
%uint = OpTypeInt 32 0
%v3 = OpTypeVector %uint 3
%pin = OpTypePointer Input %v3
%gid = OpVariable %pin Input
%unused_in = OpVariable %pin Input
%pw = OpTypePointer Workgroup %uint
%shared = OpVariable %pw Workgroup
%vfn = OpTypeFunction %void
%main = OpFunction %void None %vfn
%e = OpLabel
%x = OpFunctionCall %void %helper
OpReturn
OpFunctionEnd
%helper = OpFunction %void None %vfn
%e2 = OpLabel
%g = OpLoad %v3 %gid
%c = OpCompositeExtract %uint %g 0
OpStore %shared %c
OpReturn
OpFunctionEnd
"""


def test_interface_before_1_4_lists_input_output_through_calls() -> None:
    r = link([asm(SHADER_13, "a.spv", "spv1.3")], LinkOptions(spirv_metadata="full"))
    text = dis(r.module)  # type: ignore[arg-type]
    ep = [x for x in body(text) if x.startswith("OpEntryPoint")][0]
    # The unused input is dropped, the one used by the callee added, Workgroup not listed.
    assert ep.endswith('"main" %gl_GlobalInvocationID')
    assert_valid(r.module, "vulkan1.1")  # type: ignore[arg-type]


def test_interface_from_1_4_lists_every_global_used() -> None:
    named = SHADER_13.replace("OpDecorate %gid", 'OpName %shared "shared"\nOpDecorate %gid')
    r = link([asm(named, "a.spv", "spv1.5")], LinkOptions(spirv_metadata="full"))
    text = dis(r.module)  # type: ignore[arg-type]
    ep = [x for x in body(text) if x.startswith("OpEntryPoint")][0]
    assert ep.split('"main"')[1].split() == ["%gl_GlobalInvocationID", "%shared"]
    assert_valid(r.module, "vulkan1.2")  # type: ignore[arg-type]


THREE_ENTRIES = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %a "add::one" %buf
OpEntryPoint GLCompute %b "add::two" %buf
OpEntryPoint GLCompute %c "times/three" %buf
OpExecutionMode %a LocalSize 1 1 1
OpExecutionMode %b LocalSize 2 1 1
OpExecutionMode %c LocalSize 3 1 1
OpDecorate %rta ArrayStride 4
OpMemberDecorate %s 0 Offset 0
OpDecorate %s Block
OpDecorate %buf DescriptorSet 0
OpDecorate %buf Binding 0
%void = OpTypeVoid
%uint = OpTypeInt 32 0
%uint_0 = OpConstant %uint 0
%uint_1 = OpConstant %uint 1
%uint_2 = OpConstant %uint 2
%uint_3 = OpConstant %uint 3
%rta = OpTypeRuntimeArray %uint
%s = OpTypeStruct %rta
%ps = OpTypePointer StorageBuffer %s
%pu = OpTypePointer StorageBuffer %uint
%buf = OpVariable %ps StorageBuffer
%vfn = OpTypeFunction %void
%a = OpFunction %void None %vfn
%la = OpLabel
%pa = OpAccessChain %pu %buf %uint_0 %uint_0
%va = OpLoad %uint %pa
%ra = OpIAdd %uint %va %uint_1
OpStore %pa %ra
OpReturn
OpFunctionEnd
%b = OpFunction %void None %vfn
%lb = OpLabel
%pb = OpAccessChain %pu %buf %uint_0 %uint_0
%vb = OpLoad %uint %pb
%rb = OpIAdd %uint %vb %uint_2
OpStore %pb %rb
OpReturn
OpFunctionEnd
%c = OpFunction %void None %vfn
%lc = OpLabel
%pc = OpAccessChain %pu %buf %uint_0 %uint_0
%vc = OpLoad %uint %pc
%rc = OpIMul %uint %vc %uint_3
OpStore %pc %rc
OpReturn
OpFunctionEnd
"""


def test_split_per_entry_point() -> None:
    r = link_asm(THREE_ENTRIES, module_output="per-entry-point")
    assert r.module is None
    assert r.entry_points == ["add::one", "add::two", "times/three"]
    assert r.stems == {"add::one": "add-one", "add::two": "add-two", "times/three": "times-three"}
    for name, m in r.modules.items():
        assert_valid(m)
        text = dis(m)
        assert _count(text, "OpEntryPoint") == 1 and f'"{name}"' in text
        assert _count(text, "OpExecutionMode") == 1
        assert _count(text, "OpFunction ") == 1
    assert "OpIMul" in dis(r.modules["times/three"])
    assert "OpIMul" not in dis(r.modules["add::one"])
    assert "%uint_2" not in dis(r.modules["add::one"])


def test_file_stems_like_rust_gpu() -> None:
    assert file_stem("a::b") == "a-b"
    assert file_stem("x<y>z") == "x-y-z"
    assert file_stem('x<y>:"z"') == "x-y--z-"  # one pass of `--` -> `-`, as str::replace
    assert file_stems(["a::b", "a/b", "a-b"]) == {"a::b": "a-b", "a/b": "a-b.1", "a-b": "a-b.2"}
    assert file_stems(["m", "m", "m.1"])["m.1"] == "m.1.2"


def test_metadata_levels() -> None:
    src = THREE_ENTRIES.replace("OpDecorate %rta ArrayStride 4", """OpName %buf "buf"
OpName %a "one"
OpMemberName %s 0 "data"
OpDecorate %rta ArrayStride 4""")
    # Rust-GPU's linker strips no names at level none (spirv-opt does, in the stage);
    # name-variables is its `name_variables_pass`: OpNames of global variables only.
    none = dis(link_asm(src).module)  # type: ignore[arg-type]
    assert 'OpName %buf "buf"' in none and '0 "data"' in none
    some = dis(link_asm(src, spirv_metadata="name-variables").module)  # type: ignore[arg-type]
    assert 'OpName %buf "buf"' in some
    assert '"one"' not in some and "OpMemberName" not in some
    full = dis(link_asm(src, spirv_metadata="full").module)  # type: ignore[arg-type]
    assert '"one"' in full and 'OpMemberName' in full and '0 "data"' in full


def test_no_dce_keeps_unused_exports_and_no_compaction_keeps_ids() -> None:
    from test_link import LIB, MAIN

    r = link_asm(MAIN, LIB, dce=False, spirv_metadata="full")
    assert '"unused"' in dis(r.module)  # type: ignore[arg-type]
    assert_valid(r.module)  # type: ignore[arg-type]
    r2 = link_asm(MAIN, LIB, compact_ids=False)
    assert r2.module is not None
    assert r2.module.bound > r2.module.max_id() + 1  # ids kept as merged, gaps and all
    assert_valid(r2.module)


def test_forward_pointer_recursive_types_link() -> None:
    rec = """
OpCapability Shader
OpCapability PhysicalStorageBufferAddresses
OpCapability Linkage
OpExtension "SPV_KHR_physical_storage_buffer"
OpMemoryModel PhysicalStorageBuffer64 GLSL450
OpDecorate %f LinkageAttributes "NAME" Export
OpMemberDecorate %node 0 Offset 0
OpMemberDecorate %node 1 Offset 8
OpTypeForwardPointer %pnode PhysicalStorageBuffer
%uint = OpTypeInt 32 0
%node = OpTypeStruct %pnode %uint
%pnode = OpTypePointer PhysicalStorageBuffer %node
%fn = OpTypeFunction %uint %pnode
%f = OpFunction %uint None %fn
%n = OpFunctionParameter %pnode
%l = OpLabel
OpReturnValue %uint_0
OpFunctionEnd
""".replace("%uint = OpTypeInt 32 0", "%uint = OpTypeInt 32 0\n%uint_0 = OpConstant %uint 0")
    r = link_asm(rec.replace("NAME", "a"), rec.replace("NAME", "b"), create_library=True)
    assert_valid(r.module, "spv1.5")  # type: ignore[arg-type]
    assert _count(dis(r.module), "OpTypeInt 32 0") == 1  # type: ignore[arg-type]


def test_debug_info_ids_are_remapped() -> None:
    import json

    from helpers import CORPUS

    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    gvs = [e for e in manifest if e["file"].endswith(".gVS.spv") and e["source"].endswith(".comp")][:2]
    assert len(gvs) == 2
    mods = [asm_file(CORPUS / "spv" / e["file"]) for e in gvs]
    from test_link import LIB

    # A library first, so every id of the debug-info module is shifted when merged.
    r = link([asm(LIB, "lib.spv", "spv1.3"), mods[0]],
             LinkOptions(spirv_metadata="full", debuginfo=True, compact_ids=False))
    out = write(r.module)  # type: ignore[arg-type]
    from helpers import spirv_val

    assert spirv_val(out, "vulkan1.1") is None
    assert "NonSemantic.Shader.DebugInfo.100" in dis(r.module)  # type: ignore[arg-type]
    # The linker itself strips nothing at metadata level none (link.rs leaves that to
    # spirv-opt's StripDebugInfo in the stage), so the default link keeps it too.
    kept = link([mods[0]])
    assert "NonSemantic.Shader.DebugInfo.100" in dis(kept.module)  # type: ignore[arg-type]
    assert spirv_val(write(kept.module), "vulkan1.1") is None  # type: ignore[arg-type]


def asm_file(path: object) -> object:
    from pathlib import Path

    from spvlink.binary import read

    p = Path(str(path))
    return read(p.read_bytes(), source=p.name)
