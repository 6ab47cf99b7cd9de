"""Linker behaviour: assembly in, assembly out, one test per rule and per error."""

from __future__ import annotations

import pytest

from helpers import asm, assert_valid, body, dis, link_asm
from spvlink.binary import write
from spvlink.errors import (
    DecorationMismatch,
    DuplicateExport,
    LinkError,
    ModelMismatch,
    TypeMismatch,
    UnresolvedSymbol,
    VersionMismatch,
)
from spvlink.link import LinkOptions, link, link_consuming

HEAD = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
"""

LIB = HEAD + """
OpName %scale "scale"
OpName %unused "unused"
OpDecorate %scale LinkageAttributes "scale" Export
OpDecorate %unused LinkageAttributes "unused" Export
%uint = OpTypeInt 32 0
%uint_3 = OpConstant %uint 3
%fn = OpTypeFunction %uint %uint
%scale = OpFunction %uint None %fn
%x = OpFunctionParameter %uint
%l = OpLabel
%r = OpIMul %uint %x %uint_3
%dead = OpIAdd %uint %x %uint_3
OpReturnValue %r
OpFunctionEnd
%unused = OpFunction %uint None %fn
%y = OpFunctionParameter %uint
%l2 = OpLabel
OpReturnValue %y
OpFunctionEnd
"""

MAIN = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 64 1 1
OpName %scale "scale"
OpName %data "data"
OpName %p "p"
OpDecorate %scale LinkageAttributes "scale" Import
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
%fn = OpTypeFunction %uint %uint
%vfn = OpTypeFunction %void
%scale = OpFunction %uint None %fn
%p = OpFunctionParameter %uint
OpFunctionEnd
%main = OpFunction %void None %vfn
%e = OpLabel
%g = OpLoad %v3uint %gid
%i = OpCompositeExtract %uint %g 0
%pe = OpAccessChain %ptr_u %data %uint_0 %i
%v = OpLoad %uint %pe
%s = OpFunctionCall %uint %scale %v
OpStore %pe %s
OpReturn
OpFunctionEnd
"""


def test_import_binds_to_export_and_dead_code_goes() -> None:
    r = link_asm(MAIN, LIB, spirv_metadata="full")
    assert r.module is not None
    assert_valid(r.module)
    text = dis(r.module)
    lines = body(text)
    # The import's declaration, its names and decorations are gone; the call targets the export.
    assert sum(1 for x in lines if "OpFunction " in x) == 2
    assert "OpFunctionCall %uint %scale" in text
    assert not any("LinkageAttributes" in x for x in lines)
    assert "OpCapability Linkage" not in text
    assert '"p"' not in text  # the import parameter's name
    assert '"unused"' not in text  # an export no entry point reaches
    assert "OpIAdd" not in text  # an unused pure instruction in a live function
    # Types and constants repeated by both inputs appear once.
    assert sum(1 for x in lines if x.endswith("OpTypeInt 32 0")) == 1
    assert sum(1 for x in lines if "OpTypeFunction %uint %uint" in x) == 1
    # The interface is recomputed: 1.5 lists every global the entry point uses.
    assert any(x.startswith("OpEntryPoint GLCompute") and
               x.endswith('"main" %gl_GlobalInvocationID %data') for x in lines)


def test_capabilities_and_extensions_appear_once_in_first_order() -> None:
    """Each capability and extension once, in the order the inputs first declare them
    (spirv-link's linker.cpp merges them the same way: a capability already present is
    not added again); a repeated extended-instruction import becomes the first one."""
    lib = LIB.replace("OpCapability Linkage\n", "OpCapability Linkage\nOpCapability ImageQuery\n"
                      "OpCapability Shader\nOpExtension \"SPV_KHR_storage_buffer_storage_class\"\n"
                      "%glsl = OpExtInstImport \"GLSL.std.450\"\n", 1)
    main = MAIN.replace("OpCapability Linkage\n", "OpCapability Linkage\nOpCapability ImageQuery\n"
                        "OpExtension \"SPV_KHR_storage_buffer_storage_class\"\n"
                        "%glsl2 = OpExtInstImport \"GLSL.std.450\"\n", 1)
    r = link_asm(main, lib, dce=False)
    assert r.module is not None
    assert_valid(r.module)
    head = [x for x in body(dis(r.module))
            if "OpCapability" in x or "OpExtension" in x or "OpExtInstImport" in x]
    assert head == ["OpCapability Shader", "OpCapability ImageQuery",
                    'OpExtension "SPV_KHR_storage_buffer_storage_class"',
                    '%1 = OpExtInstImport "GLSL.std.450"']


def test_link_consuming_frees_the_inputs_once_merged() -> None:
    """The stage hands the linker its only references to the inputs (`link_consuming`):
    when the merged module exists (the post-merge dump sees it), the list is empty and the
    inputs' arrays are freed, so a big link's peak memory does not hold the inputs beside
    the merged module. `link` leaves its caller's list and modules alone, and both give
    the same bytes."""
    import weakref

    def inputs() -> list:
        return [asm(MAIN, "main.spv"), asm(LIB, "lib.spv")]

    handed = inputs()
    arrays = [weakref.ref(m.words) for m in handed]
    freed_at_merge: list[bool] = []

    def dump(stage: str, _m: object) -> None:
        if stage == "post-merge":
            freed_at_merge.append(not handed and all(a() is None for a in arrays))

    consumed = link_consuming(handed, LinkOptions(dump=dump, verify=True))
    assert freed_at_merge == [True]
    kept = inputs()
    before = [m.words.copy() for m in kept]
    plain = link(kept, LinkOptions(verify=True))
    assert len(kept) == 2 and all((m.words == b).all() for m, b in zip(kept, before, strict=True))
    assert consumed.module is not None and plain.module is not None
    assert write(consumed.module) == write(plain.module)
    # A tuple cannot be emptied: it is linked as a copy, not refused with a TypeError
    # (only SpvError subclasses leave the API).
    as_tuple = link_consuming(tuple(inputs()), LinkOptions())  # type: ignore[arg-type]
    assert as_tuple.module is not None and write(as_tuple.module) == write(plain.module)


def test_merge_frees_inputs_read_together_before_the_sort() -> None:
    """Inputs read together are views of one batch (`read_many`): merge with `consume`
    must drop every reference to them once they are laid end to end, or the whole batch
    stays alive through the sort. (A loop variable naming the last input did that: the
    traced peak grew by 2.3 times the inputs' size instead of 1.7.) Measured with
    tracemalloc, which counts numpy's arrays: the peak during the merge, over what was
    held before it, stays within the merged copy and the sorted one (plus their index
    temporaries), without a third copy of the inputs."""
    import tracemalloc

    from spvlink.binary import read_many
    from spvlink.link.merge import merge

    # Modules of thousands of instructions, so that their arrays, not the Python objects
    # around them, are what the inputs weigh.
    consts = "".join(f"%c{k} = OpConstant %uint {k}\n" for k in range(3000))
    big = LIB.replace("%uint_3 = OpConstant %uint 3\n", "%uint_3 = OpConstant %uint 3\n" + consts)
    datas = [write(asm(MAIN, "main.spv")), *[write(asm(big, "lib.spv"))] * 20]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        mods = read_many(datas)
        held = tracemalloc.get_traced_memory()[0]
        inputs_size = held - before
        tracemalloc.reset_peak()
        merged, _shifts = merge(mods, use_highest_version=False, generator=0, consume=True)
        growth = tracemalloc.get_traced_memory()[1] - held
    finally:
        tracemalloc.stop()
    assert not mods and len(merged) > 20 * 3000
    assert growth < 2.0 * inputs_size, (growth, inputs_size)


def test_output_is_deterministic() -> None:
    a = write(link_asm(MAIN, LIB).module)  # type: ignore[arg-type]
    b = write(link_asm(MAIN, LIB).module)  # type: ignore[arg-type]
    assert a == b


def test_unresolved_symbols_are_all_reported() -> None:
    main2 = MAIN.replace('OpDecorate %scale LinkageAttributes "scale" Import',
                         'OpDecorate %scale LinkageAttributes "scale_add" Import')
    other = HEAD + """
OpDecorate %f LinkageAttributes "missing_too" Import
%uint = OpTypeInt 32 0
%fn = OpTypeFunction %uint %uint
%f = OpFunction %uint None %fn
%a = OpFunctionParameter %uint
OpFunctionEnd
"""
    with pytest.raises(LinkError) as info:
        link_asm(main2, LIB, other)
    errs = info.value.errors
    assert [type(e) for e in errs] == [UnresolvedSymbol, UnresolvedSymbol]
    assert errs[0].message == 'unresolved symbol "scale_add"'
    assert errs[0].notes == ["imported by m0.spv"]
    assert errs[1].notes == ["imported by m2.spv"]


def test_partial_linkage_keeps_unresolved_imports() -> None:
    main2 = MAIN.replace('"scale" Import', '"elsewhere" Import')
    r = link_asm(main2, LIB, allow_partial_linkage=True)
    text = dis(r.module)  # type: ignore[arg-type]
    assert "OpCapability Linkage" in text
    assert 'LinkageAttributes "elsewhere" Import' in text
    assert '"scale" Export' not in text  # exports are not kept without create_library
    assert_valid(r.module, "spv1.5")  # type: ignore[arg-type]


def test_identical_exports_are_one_definition() -> None:
    """Issue 9's rule: several exports of one name whose definitions are the same (type,
    body after id identity) are merged as if LinkOnceODR (clang-14 -cl-std=clc++ at -O0
    exports every inline function from each unit that uses it; spirv-link links them)."""
    r = link_asm(MAIN, LIB, LIB)
    text = dis(r.module)  # type: ignore[arg-type]
    assert text.count("OpFunction ") == 2  # main and one scale
    assert r.warnings == []
    assert_valid(r.module, "vulkan1.2")  # type: ignore[arg-type]


def test_same_name_different_bodies() -> None:
    """One name, one type, different bodies: an error naming both files when something
    imports it; when nothing does, both are kept with a warning (spirv-link keeps both
    silently)."""
    other = LIB.replace("%r = OpIMul %uint %x %uint_3", "%r = OpIAdd %uint %x %uint_3")
    with pytest.raises(DuplicateExport) as info:
        link_asm(MAIN, LIB, other)
    assert info.value.message == ('symbol "scale" is exported more than once with different '
                                  'definitions')
    assert info.value.notes == ["imported by m0.spv", "defined by m1.spv", "defined by m2.spv"]
    lone = MAIN.replace('"scale" Import', '"scale_elsewhere" Import')
    r = link_asm(lone, LIB, other.replace('"unused"', '"unused2"'), allow_partial_linkage=True)
    assert [w.message for w in r.warnings] == [
        'symbol "scale" is exported more than once with different definitions; nothing '
        'imports it, so all are kept']
    assert r.warnings[0].notes == ["defined by m1.spv", "defined by m2.spv"]
    assert str(r.warnings[0]).startswith("warning: symbol \"scale\"")


def test_type_mismatch_prints_both_types() -> None:
    lib_int = LIB.replace("%uint = OpTypeInt 32 0", "%uint = OpTypeInt 32 0\n%int = OpTypeInt 32 1") \
        .replace("%fn = OpTypeFunction %uint %uint", "%fn = OpTypeFunction %uint %int") \
        .replace("%x = OpFunctionParameter %uint", "%x = OpFunctionParameter %int") \
        .replace("%r = OpIMul %uint %x %uint_3", "%r = OpIMul %uint %uint_3 %uint_3") \
        .replace("%dead = OpIAdd %uint %x %uint_3\n", "") \
        .replace("%y = OpFunctionParameter %uint", "%y = OpFunctionParameter %int") \
        .replace("OpReturnValue %y", "OpReturnValue %uint_3")
    with pytest.raises(TypeMismatch) as info:
        link_asm(MAIN, lib_int)
    assert info.value.message == 'type mismatch for symbol "scale"'
    assert info.value.notes == ["imported by m0.spv: fn(uint) -> uint",
                                "defined by m1.spv: fn(int) -> uint",
                                "parameter 0: uint in m0.spv, int in m1.spv"]


def test_variable_type_mismatch_reads_as_pointer() -> None:
    a = HEAD + """
OpDecorate %v LinkageAttributes "v" Import
%uint = OpTypeInt 32 0
%rta = OpTypeRuntimeArray %uint
%s = OpTypeStruct %rta
%p = OpTypePointer StorageBuffer %s
%v = OpVariable %p StorageBuffer
"""
    b = HEAD + """
OpDecorate %v LinkageAttributes "v" Export
%float = OpTypeFloat 32
%rta = OpTypeRuntimeArray %float
%s = OpTypeStruct %rta
%p = OpTypePointer StorageBuffer %s
%v = OpVariable %p StorageBuffer
"""
    with pytest.raises(TypeMismatch) as info:
        link_asm(a, b)
    assert info.value.notes == [
        "imported by m0.spv: pointer(StorageBuffer, struct{uint[]})",
        "defined by m1.spv: pointer(StorageBuffer, struct{float[]})",
        "pointee, member 0, element: uint in m0.spv, float in m1.spv",
    ]


def test_function_decoration_difference_warns() -> None:
    """SPIR-V 2.13: "When resolving imported functions, the Function Control and all
    Function Parameter Attributes are taken from the function definition, and not from the
    function declaration" (llvm-spirv's declarations differ from its definitions); neither
    spirv-link nor Rust-GPU rejects such a link: a warning, the definition's are kept."""
    lib2 = LIB.replace('OpDecorate %scale LinkageAttributes "scale" Export',
                       'OpDecorate %scale LinkageAttributes "scale" Export\nOpDecorate %scale RelaxedPrecision')
    r = link_asm(MAIN, lib2)
    assert [str(w) for w in r.warnings] == [
        'warning: decorations of symbol "scale" differ between declaration and definition; '
        "the definition's are used\n"
        "  = note: imported by m0.spv: no decorations\n"
        "  = note: defined by m1.spv: RelaxedPrecision"]
    assert_valid(r.module, "vulkan1.2")  # type: ignore[arg-type]


def test_parameter_decoration_difference_warns() -> None:
    """As above, for a parameter: `Restrict` on the declaration, `Aliased` on the
    definition links, with a warning naming the parameter."""
    main2 = MAIN.replace('OpDecorate %gid BuiltIn', 'OpDecorate %p Restrict\nOpDecorate %gid BuiltIn')
    lib2 = LIB.replace('%uint = OpTypeInt 32 0', 'OpDecorate %x Aliased\n%uint = OpTypeInt 32 0')
    r = link_asm(main2, lib2)
    assert [w.message for w in r.warnings] == [
        'decorations of symbol "scale" (parameter 0) differ between declaration and '
        "definition; the definition's are used"]
    assert r.warnings[0].notes == ["imported by m0.spv: Restrict",
                                   "defined by m1.spv: Aliased"]


def test_function_control_difference_warns() -> None:
    """Function control is the definition's (SPIR-V 2.13). A Pure or Const the declaration
    promises and the definition does not make is a warning; inlining hints differ
    silently (llvm-spirv-14's definitions carry DontInline at -O0, its declarations
    None: every OpenCL link would warn)."""
    hint = LIB.replace("%scale = OpFunction %uint None %fn", "%scale = OpFunction %uint DontInline %fn")
    assert link_asm(MAIN, hint).warnings == []
    main2 = MAIN.replace("%scale = OpFunction %uint None %fn", "%scale = OpFunction %uint Pure %fn")
    r = link_asm(main2, hint)
    assert [w.notes for w in r.warnings] == [["imported by m0.spv: Pure",
                                              "defined by m1.spv: DontInline"]]


def test_variable_decoration_mismatch() -> None:
    """A variable's decorations must match (spirv-link's HaveTheSameDecorations)."""
    a = HEAD + """
OpDecorate %v LinkageAttributes "v" Import
OpDecorate %v NonWritable
%uint = OpTypeInt 32 0
%p = OpTypePointer Private %uint
%v = OpVariable %p Private
"""
    b = HEAD + """
OpDecorate %v LinkageAttributes "v" Export
%uint = OpTypeInt 32 0
%p = OpTypePointer Private %uint
%v = OpVariable %p Private
"""
    with pytest.raises(DecorationMismatch) as info:
        link_asm(a, b, create_library=True)
    assert info.value.notes == ["imported by m0.spv: NonWritable",
                                "defined by m1.spv: no decorations"]


def test_library_mode_keeps_exports() -> None:
    r = link_asm(MAIN, LIB, create_library=True, spirv_metadata="full")
    text = dis(r.module)  # type: ignore[arg-type]
    assert "OpCapability Linkage" in text
    assert 'LinkageAttributes "scale" Export' in text
    assert 'LinkageAttributes "unused" Export' in text
    assert "%unused = OpFunction" in text  # exports are roots
    assert '"scale" Import' not in text
    assert_valid(r.module, "spv1.5")  # type: ignore[arg-type]


def test_linkonce_odr_first_definition_wins() -> None:
    def odr(k: int) -> str:
        return """
OpCapability Shader
OpCapability Linkage
OpExtension "SPV_KHR_linkonce_odr"
OpMemoryModel Logical GLSL450
OpDecorate %scale LinkageAttributes "scale" LinkOnceODR
%uint = OpTypeInt 32 0
%k = OpConstant %uint """ + str(k) + """
%fn = OpTypeFunction %uint %uint
%scale = OpFunction %uint None %fn
%x = OpFunctionParameter %uint
%l = OpLabel
%r = OpIMul %uint %x %k
OpReturnValue %r
OpFunctionEnd
"""
    r = link_asm(MAIN, odr(5), odr(7))
    text = dis(r.module)  # type: ignore[arg-type]
    assert "%uint_5 = OpConstant %uint 5" in text
    assert "OpConstant %uint 7" not in text
    assert "SPV_KHR_linkonce_odr" not in text
    assert sum(1 for x in body(text) if "OpFunction " in x) == 2
    assert_valid(r.module)  # type: ignore[arg-type]


def test_version_mismatch_and_highest_version() -> None:
    with pytest.raises(VersionMismatch) as info:
        link([asm(MAIN, "a.spv", "spv1.5"), asm(LIB, "b.spv", "spv1.3")])
    assert info.value.notes == ["a.spv is SPIR-V 1.5", "b.spv is SPIR-V 1.3"]
    r = link([asm(MAIN, "a.spv", "spv1.5"), asm(LIB, "b.spv", "spv1.3")],
             LinkOptions(use_highest_version=True))
    assert r.module is not None and r.module.version_tuple == (1, 5)


def test_memory_model_mismatch_and_missing() -> None:
    physical = LIB.replace("OpMemoryModel Logical GLSL450", "OpMemoryModel Logical Simple")
    with pytest.raises(ModelMismatch) as info:
        link_asm(MAIN, physical)
    assert info.value.notes == ["m0.spv: Logical GLSL450", "m1.spv: Logical Simple"]


def test_missing_memory_model_names_the_file() -> None:
    from spvlink.ir import Module

    m = asm(LIB, "nomodel.spv")
    keep = [i for i in range(len(m)) if int(m.opcodes[i]) != 14]
    bad = m.select(keep)
    assert isinstance(bad, Module)
    with pytest.raises(LinkError, match="nomodel.spv has no OpMemoryModel"):
        link([asm(MAIN, "a.spv"), bad])


EMPTY_COMPUTE_MAIN = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 1 1 1
%void = OpTypeVoid
%vfn = OpTypeFunction %void
%main = OpFunction %void None %vfn
%e = OpLabel
OpReturn
OpFunctionEnd
"""


def test_duplicate_entry_point_same_model_is_an_error() -> None:
    ep = EMPTY_COMPUTE_MAIN
    with pytest.raises(LinkError, match='entry point "main" \\(GLCompute\\) is defined more than once'):
        link_asm(ep, ep)
    frag = ep.replace("GLCompute", "Fragment").replace("LocalSize 1 1 1", "OriginUpperLeft")
    r = link_asm(ep, frag)
    assert r.entry_points == ["main", "main"]
    assert_valid(r.module)  # type: ignore[arg-type]


def test_input_problems_are_reported_together_in_order() -> None:
    """Every disagreement between the inputs is reported at once: versions, missing
    memory models, duplicate entry points, then differing memory models."""
    ep = EMPTY_COMPUTE_MAIN
    simple = ep.replace("OpMemoryModel Logical GLSL450", "OpMemoryModel Logical Simple")
    m = asm(LIB, "nomodel.spv")
    no_model = m.select([i for i in range(len(m)) if int(m.opcodes[i]) != 14])
    with pytest.raises(LinkError) as info:
        link([asm(ep, "a.spv", "spv1.5"), asm(simple, "b.spv", "spv1.3"), no_model])
    assert [type(e).__name__ for e in info.value.errors] == [
        "VersionMismatch", "LinkError", "LinkError", "ModelMismatch"]
    assert "nomodel.spv has no OpMemoryModel" in str(info.value.errors[1])
    assert "defined more than once" in str(info.value.errors[2])


def test_sparse_ids_are_renumbered_densely() -> None:
    """Ids spread far beyond a module's size (here 0x90000000, twice) are renumbered
    densely at merge: the link neither overflows 32 bits nor allocates by the ids'
    values (issue 11: memory follows the input)."""
    from spvlink.ir import Module
    from spvlink.spec import Op

    m = Module.from_instructions([[(2 << 16) | Op.Capability, 1],
                                  [(3 << 16) | Op.MemoryModel, 0, 1],
                                  [(4 << 16) | Op.TypeInt, 0x90000000, 32, 0]])
    r = link([m, m], LinkOptions(compact_ids=False, dce=False))
    assert r.module is not None and r.module.bound < 16


def test_func_param_attr_is_ignored_when_comparing() -> None:
    def kernel_lib(attr: str) -> str:
        return f"""
OpCapability Addresses
OpCapability Kernel
OpCapability Linkage
OpMemoryModel Physical64 OpenCL
OpDecorate %f LinkageAttributes "f" Export
{attr}
%uint = OpTypeInt 32 0
%fn = OpTypeFunction %uint %uint
%f = OpFunction %uint None %fn
%x = OpFunctionParameter %uint
%l = OpLabel
OpReturnValue %x
OpFunctionEnd
"""
    user = """
OpCapability Addresses
OpCapability Kernel
OpCapability Linkage
OpMemoryModel Physical64 OpenCL
OpEntryPoint Kernel %k "k"
OpDecorate %f LinkageAttributes "f" Import
OpDecorate %y FuncParamAttr Zext
%uint = OpTypeInt 32 0
%c = OpConstant %uint 1
%void = OpTypeVoid
%fn = OpTypeFunction %uint %uint
%kfn = OpTypeFunction %void
%f = OpFunction %uint None %fn
%y = OpFunctionParameter %uint
OpFunctionEnd
%k = OpFunction %void None %kfn
%l = OpLabel
%r = OpFunctionCall %uint %f %c
OpReturn
OpFunctionEnd
"""
    r = link_asm(user, kernel_lib(""), env="spv1.0")
    assert_valid(r.module, "opencl1.2")  # type: ignore[arg-type]
    r = link_asm(user, kernel_lib("OpDecorate %x FuncParamAttr Sext"), env="spv1.0")
    text = dis(r.module)  # type: ignore[arg-type]
    assert "FuncParamAttr Sext" in text and "Zext" not in text  # the export keeps its own


def test_time_passes_reports_each_pass() -> None:
    r = link_asm(MAIN, LIB, time_passes=True)
    names = [name for name, _ in r.timings]
    for step in ("merge", "deduplicate", "resolve imports", "dead-code elimination",
                 "entry-point interfaces", "compact ids"):
        assert step in names
    assert all(seconds >= 0 for _, seconds in r.timings)
    assert link_asm(MAIN, LIB).timings == []



def test_merge_sizes_ids_by_use_not_header_bound() -> None:
    """Issue 11: memory follows the input, not a number it claims. A module whose header
    bound is far above its ids gets a merged bound from the ids it uses."""
    lib = asm(LIB, "lib.spv")
    claims = lib.with_header(bound=4_000_000)
    r = link([asm(MAIN, "main.spv"), claims], LinkOptions(compact_ids=False))
    assert r.module is not None and r.module.bound < 100
