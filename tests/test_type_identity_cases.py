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
    Parameter Attributes are taken from the function definition"). The function-control
    difference is a warning naming the symbol."""
    r = link([asm(KERNEL_DECL, "decl.spv", "spv1.0"), asm(KERNEL_DEF, "def.spv", "spv1.0")],
             LinkOptions(create_library=True))
    assert r.module is not None
    assert spirv_val(write(r.module), "opencl1.2") is None
    text = dis(r.module)
    assert "FuncParamAttr Sext" in text and "Zext" not in text
    assert "OpFunction %void Inline" in text
    assert any('"foo"' in w.message and "control" in w.message for w in r.warnings), \
        [w.message for w in r.warnings]


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
