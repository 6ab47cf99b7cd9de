"""Issue 9, the edges of the rules, each in a few lines of assembly, with spirv-link's verdict
beside spvlink's where they differ on purpose.

Deliberate differences from spirv-link (SPIRV-Tools 2025.5) shown here:
- An array length is compared by the constant's value: `uint 3` and `ulong 3` give one
  `float[3]`. spirv-link's TypeManager compares the length's words, so a 64-bit length is
  another type there ("Type mismatch on symbol").
- Partial links keep function declarations before definitions whatever the input order;
  spirv-link writes the declarations of a module that is not first after the definitions
  before it ("Function declarations must appear before function definitions").
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import asm, dis, spirv_as, spirv_val, tool
from spvlink.binary import write
from spvlink.errors import LinkError, TypeMismatch
from spvlink.link import LinkOptions, link


def spirv_link(texts: list[str], *flags: str, env: str = "spv1.5") -> tuple[bytes | None, str]:
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for k, text in enumerate(texts):
            p = Path(d) / f"m{k}.spv"
            p.write_bytes(spirv_as(text, env))
            paths.append(str(p))
        r = subprocess.run([tool("spirv-link"), *flags, *paths, "-o", f"{d}/out.spv"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode:
            return None, r.stderr
        return (Path(d) / "out.spv").read_bytes(), ""


def private_array(linkage: str, length: str, extra: str = "") -> str:
    """A module exporting or importing `v`, a Private float[n] for the `length` lines."""
    return f"""
OpCapability Shader
OpCapability Linkage
OpCapability Int64
OpMemoryModel Logical GLSL450
OpDecorate %v LinkageAttributes "v" {linkage}
{extra}
%f = OpTypeFloat 32
{length}
%a = OpTypeArray %f %n
%p = OpTypePointer Private %a
%v = OpVariable %p Private
"""


UINT3 = "%t = OpTypeInt 32 0\n%n = OpConstant %t 3"
INT3 = "%t = OpTypeInt 32 1\n%n = OpConstant %t 3"
ULONG3 = "%t = OpTypeInt 64 0\n%n = OpConstant %t 3"
SPEC3 = "%t = OpTypeInt 32 0\n%n = OpSpecConstant %t 3"


@pytest.mark.parametrize(("imported", "spirv_link_agrees"),
                         [(UINT3, True), (INT3, True), (ULONG3, False)],
                         ids=["uint", "int", "ulong"])
def test_array_length_compared_by_value(imported: str, spirv_link_agrees: bool) -> None:
    """float[uint 3], float[int 3] and float[ulong 3] are one type: the import resolves and
    one array type is left. spirv-link agrees for 32-bit lengths and refuses the 64-bit
    one (the first deliberate difference above)."""
    texts = [private_array("Export", UINT3), private_array("Import", imported)]
    r = link([asm(t, f"m{k}.spv") for k, t in enumerate(texts)],
             LinkOptions(create_library=True))
    assert r.module is not None
    assert spirv_val(write(r.module), "spv1.5") is None
    assert dis(r.module).count("OpTypeArray") == 1
    theirs, why = spirv_link(texts, "--create-library")
    assert (theirs is not None) == spirv_link_agrees, why


@pytest.mark.parametrize(("exported", "imported", "note"), [
    # The same SpecId: one specialization constant, so one array type.
    (("OpDecorate %n SpecId 7", SPEC3), ("OpDecorate %n SpecId 7", SPEC3), None),
    (("OpDecorate %n SpecId 7", SPEC3), ("OpDecorate %n SpecId 8", SPEC3), "SpecId 8"),
], ids=["same-SpecId", "other-SpecId"])
def test_spec_constant_lengths_by_identity(exported: tuple[str, str],
                                           imported: tuple[str, str], note: str | None) -> None:
    """A length given by a specialization constant is that constant: equal when the two
    constants are (same SpecId, default and type), a TypeMismatch naming the SpecId that
    differs otherwise. spirv-link gives the same verdicts."""
    texts = [private_array("Export", exported[1], exported[0]),
             private_array("Import", imported[1], imported[0])]
    theirs, _why = spirv_link(texts, "--create-library")
    modules = [asm(t, f"m{k}.spv") for k, t in enumerate(texts)]
    if note is None:
        r = link(modules, LinkOptions(create_library=True))
        assert r.module is not None and dis(r.module).count("OpTypeArray") == 1
        assert theirs is not None
        return
    with pytest.raises(TypeMismatch) as info:
        link(modules, LinkOptions(create_library=True))
    assert note in "\n".join(info.value.notes), info.value.notes
    assert theirs is None


KERNEL_DECL = """
OpCapability Addresses
OpCapability Kernel
OpCapability Linkage
OpMemoryModel Physical64 OpenCL
OpDecorate %1 LinkageAttributes "foo" Import
OpDecorate %2 FuncParamAttr Zext
%3 = OpTypeVoid
%4 = OpTypeInt 32 0
%5 = OpTypeFunction %3 %4
%1 = OpFunction %3 None %5
%2 = OpFunctionParameter %4
OpFunctionEnd
"""
KERNEL_DEF = """
OpCapability Addresses
OpCapability Kernel
OpCapability Linkage
OpMemoryModel Physical64 OpenCL
OpDecorate %1 LinkageAttributes "foo" Export
OpDecorate %2 FuncParamAttr Sext
%3 = OpTypeVoid
%4 = OpTypeInt 32 0
%5 = OpTypeFunction %3 %4
%1 = OpFunction %3 Inline %5
%2 = OpFunctionParameter %4
%6 = OpLabel
OpReturn
OpFunctionEnd
"""


def test_parameter_attributes_and_function_control_from_the_definition() -> None:
    """SPIRV-Tools matching_imports_to_exports_test.cpp, FuncParamAttrDifferButStillMatch-
    ExportToImport and FunctionCtrl: the link succeeds and keeps the definition's
    `FuncParamAttr Sext` and `Inline` (SPIR-V 2.13: "the Function Control and all Function
    Parameter Attributes are taken from the function definition"). An inlining hint that
    differs is silent (llvm-spirv-14 writes DontInline on every -O0 definition and None
    on declarations); only a Pure/Const promise the definition lacks warns (test_link)."""
    r = link([asm(KERNEL_DECL, "decl.spv", "spv1.0"), asm(KERNEL_DEF, "def.spv", "spv1.0")],
             LinkOptions(create_library=True))
    assert r.module is not None
    assert spirv_val(write(r.module), "opencl1.2") is None
    text = dis(r.module)
    assert "FuncParamAttr Sext" in text and "Zext" not in text
    assert "OpFunction %void Inline" in text
    assert not any("control" in w.message for w in r.warnings), [w.message for w in r.warnings]


SHADER_DECL = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %f LinkageAttributes "f" Import
OpDecorate %p Restrict
%void = OpTypeVoid
%u = OpTypeInt 32 0
%pu = OpTypePointer Function %u
%fn = OpTypeFunction %void %pu
%f = OpFunction %void None %fn
%p = OpFunctionParameter %pu
OpFunctionEnd
"""
SHADER_DEF = SHADER_DECL.replace("Import", "Export").replace("Restrict", "Aliased").replace(
    "OpFunctionEnd", "%l = OpLabel\nOpReturn\nOpFunctionEnd")


def test_parameter_decoration_difference_is_a_warning() -> None:
    """`Restrict` on the declaration's parameter, `Aliased` on the definition's: a warning
    naming the symbol and the parameter, not an error (issue 9; spirv-link accepts it too);
    the definition's decoration stays."""
    r = link([asm(SHADER_DECL, "decl.spv"), asm(SHADER_DEF, "def.spv")],
             LinkOptions(create_library=True))
    assert r.module is not None
    text = dis(r.module)
    assert "Aliased" in text and "Restrict" not in text
    assert any('"f"' in w.message and "parameter 0" in w.message for w in r.warnings), \
        [w.message for w in r.warnings]
    theirs, why = spirv_link([SHADER_DECL, SHADER_DEF], "--create-library")
    assert theirs is not None, why


def test_parameter_decoration_warning_on_the_command_line(tmp_path: Path) -> None:
    """The CLI prints the warning as a `warning:` line on stderr and links (exit 0)."""
    import sys

    paths = []
    for name, text in (("decl", SHADER_DECL), ("def", SHADER_DEF)):
        p = tmp_path / f"{name}.spv"
        p.write_bytes(spirv_as(text))
        paths.append(str(p))
    out = tmp_path / "out.spv"
    r = subprocess.run([sys.executable, "-m", "spvlink", "link", "--create-library",
                        "--target-env", "spv1.5", *paths, "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert warnings and '"f"' in warnings[0], r.stderr
    assert out.exists()


DEFINES_H = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %h LinkageAttributes "h" Export
%u = OpTypeInt 32 0
%fn = OpTypeFunction %u %u
%h = OpFunction %u None %fn
%x = OpFunctionParameter %u
%l = OpLabel
OpReturnValue %x
OpFunctionEnd
"""
CALLS_MISSING_G = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %g LinkageAttributes "g" Import
OpDecorate %f LinkageAttributes "f" Export
%u = OpTypeInt 32 0
%fn = OpTypeFunction %u %u
%g = OpFunction %u None %fn
%y = OpFunctionParameter %u
OpFunctionEnd
%f = OpFunction %u None %fn
%x = OpFunctionParameter %u
%l = OpLabel
%r = OpFunctionCall %u %g %x
OpReturnValue %r
OpFunctionEnd
"""


@pytest.mark.parametrize("library", [True, False])
def test_partial_link_declarations_before_definitions(library: bool) -> None:
    """The module with the unresolved import comes second: its declaration of `g` still
    precedes every definition in the output, which validates. spirv-link's output does
    not (the second deliberate difference above)."""
    r = link([asm(DEFINES_H, "h.spv"), asm(CALLS_MISSING_G, "f.spv")],
             LinkOptions(allow_partial_linkage=True, create_library=library))
    assert r.module is not None
    out = write(r.module)
    assert spirv_val(out, "spv1.5") is None, dis(r.module)
    flags = ["--allow-partial-linkage"] + (["--create-library"] if library else [])
    theirs, why = spirv_link([DEFINES_H, CALLS_MISSING_G], *flags)
    assert theirs is not None, why
    assert "Function declarations must appear before function definitions" in (
        spirv_val(theirs, "spv1.5") or "")


def test_same_inputs_same_bytes() -> None:
    """Overload resolution, merging and the fixpoint do not depend on set or dict order
    between runs: the same inputs give the same bytes."""
    from test_link_producers import ARRAY_LIB, ARRAY_USER

    outs = set()
    for _ in range(3):
        r = link([asm(ARRAY_USER, "user.spv"), asm(ARRAY_LIB, "lib.spv"),
                  asm(private_array("Import", INT3), "v.spv"),
                  asm(private_array("Export", UINT3), "w.spv")])
        assert r.module is not None
        outs.add(write(r.module))
    assert len(outs) == 1


def test_mismatch_is_one_error_per_import() -> None:
    """Two imports of a mistyped symbol from two files: both are reported, each naming its
    importer (the linker collects every problem before it fails)."""
    exporter = private_array("Export", UINT3)
    importer = private_array("Import", "%t = OpTypeInt 32 0\n%n = OpConstant %t 4")
    with pytest.raises(LinkError) as info:
        link([asm(exporter, "lib.spv"), asm(importer, "a.spv"), asm(importer, "b.spv")],
             LinkOptions(create_library=True))
    found = [e for e in [info.value, *info.value.errors] if isinstance(e, TypeMismatch)]
    text = "\n".join("\n".join([e.message, *e.notes]) for e in found)
    assert len(found) == 2 and "a.spv" in text and "b.spv" in text, str(info.value)


# -- --allow-pointer-mismatch beyond parameters ---------------------------------------------

PHYSICAL = """
OpCapability Addresses
OpCapability Kernel
OpCapability Linkage
OpCapability Int8
OpMemoryModel Physical64 OpenCL
"""
# float* get(float* p) { return p; }
RETURNS_POINTER = PHYSICAL + """
OpDecorate %get LinkageAttributes "get" Export
%f = OpTypeFloat 32
%pf = OpTypePointer CrossWorkgroup %f
%fn = OpTypeFunction %pf %pf
%get = OpFunction %pf None %fn
%p = OpFunctionParameter %pf
%l = OpLabel
OpReturnValue %p
OpFunctionEnd
"""
def calls_with_i8(name: str, returns_pointer: bool) -> str:
    """A kernel calling the import `name(uchar*)`, declared to return `uchar*` (its result
    loaded as a uchar) or void."""
    ret = "%pc" if returns_pointer else "%void"
    kernel_type = "%kfn = OpTypeFunction %void %pc" if returns_pointer else ""
    use = "%v = OpLoad %c %r\nOpStore %a %v" if returns_pointer else ""
    return PHYSICAL + f"""
OpEntryPoint Kernel %k "k"
OpDecorate %{name} LinkageAttributes "{name}" Import
%void = OpTypeVoid
%c = OpTypeInt 8 0
%pc = OpTypePointer CrossWorkgroup %c
%fn = OpTypeFunction {ret} %pc
{kernel_type}
%{name} = OpFunction {ret} None %fn
%q = OpFunctionParameter %pc
OpFunctionEnd
%k = OpFunction %void None {"%kfn" if returns_pointer else "%fn"}
%a = OpFunctionParameter %pc
%l = OpLabel
%r = OpFunctionCall {ret} %{name} %a
{use}
OpReturn
OpFunctionEnd
"""


CALLS_WITH_I8 = calls_with_i8("get", returns_pointer=True)
EXPORTS_FLOAT = PHYSICAL + """
OpDecorate %g LinkageAttributes "g" Export
%f = OpTypeFloat 32
%pf = OpTypePointer CrossWorkgroup %f
%z = OpConstantNull %f
%g = OpVariable %pf CrossWorkgroup %z
"""
IMPORTS_AS_I8 = PHYSICAL + """
OpEntryPoint Kernel %k "k"
OpDecorate %g LinkageAttributes "g" Import
%void = OpTypeVoid
%c = OpTypeInt 8 0
%pc = OpTypePointer CrossWorkgroup %c
%kfn = OpTypeFunction %void %pc
%g = OpVariable %pc CrossWorkgroup
%k = OpFunction %void None %kfn
%a = OpFunctionParameter %pc
%l = OpLabel
%v = OpLoad %c %g
OpStore %a %v
OpReturn
OpFunctionEnd
"""


@pytest.mark.parametrize(("user", "definer", "name"), [
    (CALLS_WITH_I8, RETURNS_POINTER, "get"), (IMPORTS_AS_I8, EXPORTS_FLOAT, "g")],
    ids=["result", "variable"])
def test_allow_pointer_mismatch_covers_results_and_variables(user: str, definer: str,
                                                            name: str) -> None:
    """Issue 9: under Physical addressing the option binds an import whose pointer
    parameters, *result or variable type* differ from the export's only in pointee type,
    with OpBitcast where the use needs the other type: both links validate for OpenCL 2.0.
    Without the option: TypeMismatch. spirv-link's option covers parameters only: it
    refuses the variable and writes an invalid call for the result (deliberate
    difference 7 in test_type_identity_property.py)."""
    mods = [asm(user, "user.spv", "spv1.0"), asm(definer, "lib.spv", "spv1.0")]
    with pytest.raises(TypeMismatch):
        link(mods)
    r = link(mods, LinkOptions(allow_pointer_mismatch=True))
    assert r.module is not None
    assert spirv_val(write(r.module), "opencl2.0") is None, dis(r.module)
    assert "OpBitcast" in dis(r.module)
    theirs, _why = spirv_link([user, definer], "--allow-pointer-mismatch", env="spv1.0")
    assert theirs is None or spirv_val(theirs, "opencl2.0") is not None


LOGICAL_DEF = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %f LinkageAttributes "f" Export
%void = OpTypeVoid
%fl = OpTypeFloat 32
%p = OpTypePointer Function %fl
%fn = OpTypeFunction %void %p
%f = OpFunction %void None %fn
%x = OpFunctionParameter %p
%l = OpLabel
OpReturn
OpFunctionEnd
"""
LOGICAL_DECL = LOGICAL_DEF.replace("Export", "Import").replace(
    "OpTypeFloat 32", "OpTypeInt 32 0").replace("%l = OpLabel\nOpReturn\n", "")


def test_allow_pointer_mismatch_not_under_logical_addressing() -> None:
    """Logical addressing has no OpBitcast between pointers to different types: the option
    does not bind `f(uint*)` to `f(float*)` there (spirv-link binds it; deliberate
    difference 8)."""
    with pytest.raises(TypeMismatch):
        link([asm(LOGICAL_DECL, "decl.spv"), asm(LOGICAL_DEF, "def.spv")],
             LinkOptions(allow_pointer_mismatch=True, create_library=True))
    theirs, why = spirv_link([LOGICAL_DECL, LOGICAL_DEF], "--allow-pointer-mismatch",
                             "--create-library")
    assert theirs is not None, why


# -- "same body" ----------------------------------------------------------------------------


def counter(initial: int) -> str:
    """`inc()` increments the module's own (not exported) Private counter."""
    return f"""
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %inc LinkageAttributes "inc" Export
%u = OpTypeInt 32 0
%c0 = OpConstant %u {initial}
%c1 = OpConstant %u 1
%pp = OpTypePointer Private %u
%counter = OpVariable %pp Private %c0
%fn = OpTypeFunction %u
%inc = OpFunction %u None %fn
%l = OpLabel
%v = OpLoad %u %counter
%w = OpIAdd %u %v %c1
OpStore %counter %w
OpReturnValue %w
OpFunctionEnd
"""


def multiply_add(decoration: str) -> str:
    return f"""
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %mad LinkageAttributes "mad" Export
{decoration}
%f = OpTypeFloat 32
%fn = OpTypeFunction %f %f %f
%mad = OpFunction %f None %fn
%a = OpFunctionParameter %f
%b = OpFunctionParameter %f
%l = OpLabel
%m = OpFMul %f %a %b
%r = OpFAdd %f %m %a
OpReturnValue %r
OpFunctionEnd
"""


@pytest.mark.parametrize(("first", "second"), [
    (counter(0), counter(0)),
    (multiply_add(""), multiply_add("OpDecorate %m NoContraction")),
    (multiply_add("OpDecorate %m NoContraction"), multiply_add("")),
], ids=["own-private-variables", "NoContraction-second", "NoContraction-first"])
def test_bodies_differ_by_what_they_use_and_their_decorations(first: str, second: str) -> None:
    """Two exports of one name and type whose code reads alike but differs in meaning:
    each uses its own module's private variable, or one multiply is NoContraction. They are
    different bodies: nothing imports them, so both are kept with a warning naming the
    symbol, never one silently dropped."""
    r = link([asm(first, "a.spv"), asm(second, "b.spv")], LinkOptions(create_library=True))
    assert r.module is not None
    assert dis(r.module).count(" OpFunction ") == 2, dis(r.module)
    assert r.warnings and all('"' in w.message for w in r.warnings)


def test_names_and_debug_lines_are_not_the_body() -> None:
    """OpName differences do not make bodies different: merged silently."""
    a = multiply_add("").replace("OpDecorate %mad", 'OpName %m "product"\nOpDecorate %mad')
    b = multiply_add("").replace("OpDecorate %mad", 'OpName %m "p"\nOpDecorate %mad')
    r = link([asm(a, "a.spv"), asm(b, "b.spv")], LinkOptions(create_library=True))
    assert r.module is not None
    assert dis(r.module).count(" OpFunction ") == 1 and r.warnings == []


def takes_pointer_to(pointee: str) -> str:
    """Exports `void f(T*)` for the `pointee` declaration of %t (Physical64)."""
    return PHYSICAL + f"""
OpDecorate %f LinkageAttributes "f" Export
%void = OpTypeVoid
{pointee}
%p = OpTypePointer CrossWorkgroup %t
%fn = OpTypeFunction %void %p
%f = OpFunction %void None %fn
%x = OpFunctionParameter %p
%l = OpLabel
OpReturn
OpFunctionEnd
"""


CALLS_F_WITH_I8 = calls_with_i8("f", returns_pointer=False)
TAKES_FLOAT = takes_pointer_to("%t = OpTypeFloat 32")
TAKES_UINT = takes_pointer_to("%t = OpTypeInt 32 0")
TAKES_UCHAR = takes_pointer_to("%t = OpTypeInt 8 0")


@pytest.mark.parametrize("exact_first", [True, False])
def test_overload_of_the_exact_type_wins_over_a_pointer_mismatch(exact_first: bool) -> None:
    """Overloads `f(float*)` and `f(uchar*)`, an import `f(uchar*)`, with
    allow_pointer_mismatch: the exact overload binds (no OpBitcast), in either order."""
    libs = [asm(TAKES_UCHAR, "uchar.spv", "spv1.0"), asm(TAKES_FLOAT, "float.spv", "spv1.0")]
    r = link([asm(CALLS_F_WITH_I8, "user.spv", "spv1.0"), *(libs if exact_first else libs[::-1])],
             LinkOptions(allow_pointer_mismatch=True))
    assert r.module is not None
    assert spirv_val(write(r.module), "opencl2.0") is None
    text = dis(r.module)
    assert "OpBitcast" not in text and text.count(" OpFunction ") == 2, text


def test_no_exact_overload_and_several_pointer_mismatches_is_refused() -> None:
    """Overloads `f(float*)` and `f(uint*)`, an import `f(uchar*)`: neither is its type and
    both differ only in pointee, so even with allow_pointer_mismatch there is no one to
    pick: an error naming both candidates and their files."""
    with pytest.raises(LinkError) as info:
        link([asm(CALLS_F_WITH_I8, "user.spv", "spv1.0"), asm(TAKES_FLOAT, "float.spv", "spv1.0"),
              asm(TAKES_UINT, "uint.spv", "spv1.0")], LinkOptions(allow_pointer_mismatch=True))
    text = "\n".join("\n".join([e.message, *e.notes]) for e in [info.value, *info.value.errors])
    assert '"f"' in text and "float.spv" in text and "uint.spv" in text, text


def storage_buffer_block(linkage: str, offset: int, use: bool) -> str:
    """A PhysicalStorageBuffer64 shader module with a StorageBuffer variable `v` of a Block
    {Node*, uint} whose member 1 is at `offset`; with `use`, an entry point that reads and
    writes member 1 through its own types."""
    entry = ('OpEntryPoint GLCompute %main "main" %v\nOpExecutionMode %main LocalSize 1 1 1'
             if use else "")
    code = """
%void = OpTypeVoid
%vfn = OpTypeFunction %void
%c1 = OpConstant %u 1
%pu = OpTypePointer StorageBuffer %u
%main = OpFunction %void None %vfn
%l = OpLabel
%a = OpAccessChain %pu %v %c1
%x = OpLoad %u %a
%y = OpIAdd %u %x %c1
OpStore %a %y
OpReturn
OpFunctionEnd""" if use else ""
    return f"""
OpCapability Shader
OpCapability Linkage
OpCapability PhysicalStorageBufferAddresses
OpMemoryModel PhysicalStorageBuffer64 GLSL450
{entry}
OpDecorate %v LinkageAttributes "v" {linkage}
OpDecorate %v DescriptorSet 0
OpDecorate %v Binding 0
OpMemberDecorate %node 0 Offset 0
OpMemberDecorate %node 1 Offset 4
OpMemberDecorate %B 0 Offset 0
OpMemberDecorate %B 1 Offset {offset}
OpDecorate %B Block
%u = OpTypeInt 32 0
%node = OpTypeStruct %u %u
%pn = OpTypePointer PhysicalStorageBuffer %node
%B = OpTypeStruct %pn %u
%p = OpTypePointer StorageBuffer %B
%v = OpVariable %p StorageBuffer
{code}
"""


def test_allow_pointer_mismatch_never_bitcasts_a_logical_pointer() -> None:
    """Under PhysicalStorageBuffer64 only PhysicalStorageBuffer pointers are physical: a
    StorageBuffer variable whose Block differs (Offset 16 against 8) is a layout mismatch
    that no OpBitcast can bridge (spirv-val: "Instruction may not have a logical pointer
    operand"). With or without allow_pointer_mismatch: TypeMismatch naming the Offset, and
    no suggestion that the option would bind it. (spirv-link refuses too.)"""
    user = storage_buffer_block("Import", 16, use=True)
    lib = storage_buffer_block("Export", 8, use=False)
    for allow in (False, True):
        with pytest.raises(TypeMismatch) as info:
            link([asm(user, "user.spv"), asm(lib, "lib.spv")],
                 LinkOptions(allow_pointer_mismatch=allow))
        notes = "\n".join(info.value.notes)
        assert "Offset 16" in notes and "allow_pointer_mismatch" not in notes, notes
    theirs, why = spirv_link([user, lib], "--allow-pointer-mismatch")
    assert theirs is None, why
