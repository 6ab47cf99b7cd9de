"""What the link passes assume of their inputs, checked before merging (issue 11, root
causes 2 and 5): each result id defined once, OpFunction/OpFunctionEnd paired, ids between
1 and the bound - 1. The rules are spirv-val's: "ID ... has already been defined",
"Missing OpFunctionEnd at end of module.", "Function inside function",
"OpFunctionEnd without corresponding OpFunction"."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import CORPUS, asm, spirv_val
from spvlink.binary import read, read_many, write
from spvlink.errors import LinkError
from spvlink.ir import Module
from spvlink.link import LinkOptions, link
from spvlink.link.preconditions import check_link_inputs

LIB = """OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %f LinkageAttributes "f" Export
%void = OpTypeVoid
%fn = OpTypeFunction %void
%uint = OpTypeInt 32 0
%f = OpFunction %void None %fn
%l = OpLabel
OpReturn
OpFunctionEnd
"""
USER = """OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %f LinkageAttributes "f" Import
%void = OpTypeVoid
%fn = OpTypeFunction %void
%f = OpFunction %void None %fn
OpFunctionEnd
"""


def edited(text: str, name: str, edit: object) -> Module:
    """`text` assembled, its instructions edited by `edit(list of word lists)`, rebuilt
    as a module named `name` (what a producer's bug or a corrupted file would give)."""
    m = asm(text)
    insts = [m.inst_words(i) for i in range(len(m))]
    edit(insts)  # type: ignore[operator]
    return Module.from_instructions(insts, version=m.version, bound=m.bound + 1, source=name)


def index_of(insts: list[list[int]], opcode: int, nth: int = 0) -> int:
    return [k for k, ws in enumerate(insts) if ws[0] & 0xFFFF == opcode][nth]


def test_valid_real_modules_pass() -> None:
    """No false alarm on any module of the corpus (all valid per spirv-val)."""
    paths = sorted((CORPUS / "spv").glob("*.spv"))
    check_link_inputs(read_many([p.read_bytes() for p in paths], [p.name for p in paths]))


def test_id_defined_twice_is_a_clean_error_not_a_hang() -> None:
    """Root cause 5: deduplication's fixpoint never settled on this; now the link stops
    before it, naming the file, the id and both definitions."""
    def twice(insts: list[list[int]]) -> None:
        k = index_of(insts, 21)  # OpTypeInt %uint
        insts.insert(k + 1, [insts[k][0], insts[k][1], 16, 0])
    bad = edited(LIB, "twice.spv", twice)
    with pytest.raises(LinkError, match=r"^twice\.spv: malformed module: id 4 is defined "
                                        r"twice \(instructions 6 and 7\)$"):
        link([asm(USER, "user.spv"), bad], LinkOptions())


def test_exported_function_without_end_is_a_clean_error() -> None:
    """Root cause 2: `params_of` indexed past the module's end."""
    def no_end(insts: list[list[int]]) -> None:
        del insts[index_of(insts, 56)]  # OpFunctionEnd
    bad = edited(LIB, "noend.spv", no_end)
    with pytest.raises(LinkError, match=r"noend\.spv: malformed module: the function begun "
                                        r"at instruction 7 has no OpFunctionEnd"):
        link([bad, asm(USER, "user.spv")], LinkOptions())


def test_function_inside_function_and_stray_end() -> None:
    def nested(insts: list[list[int]]) -> None:
        k = index_of(insts, 54)  # OpFunction
        fresh = 6  # LIB's bound: the one id `edited` leaves room for
        insts.insert(k + 1, [insts[k][0], insts[k][1], fresh, insts[k][3], insts[k][4]])
    with pytest.raises(LinkError, match="OpFunction at instruction 8 begins inside the "
                                        "function begun at instruction 7"):
        check_link_inputs([edited(LIB, "nested.spv", nested)])

    def stray(insts: list[list[int]]) -> None:
        insts.insert(index_of(insts, 54), [1 << 16 | 56])
    with pytest.raises(LinkError, match="OpFunctionEnd at instruction 7 has no OpFunction"):
        check_link_inputs([edited(LIB, "stray.spv", stray)])


def test_id_at_or_past_the_bound() -> None:
    low = read(write(asm(LIB)), source="low.spv").with_header(bound=5)
    with pytest.raises(LinkError, match=r"low\.spv: malformed module: instruction 8 defines "
                                        r"id 5, which is not between 1 and the bound 5 - 1"):
        check_link_inputs([low])


def test_the_first_bad_module_is_named_among_many(tmp_path: Path) -> None:
    """All inputs are checked together; the error names the first bad one in input order
    (a module read by `read_many` with the others, as the stage reads them)."""
    def twice(insts: list[list[int]]) -> None:
        k = index_of(insts, 21)
        insts.insert(k + 1, list(insts[k]))
    good = write(asm(LIB))
    bad = write(edited(LIB, "x", twice))
    mods = read_many([good, good, bad, bad], ["a.spv", "b.spv", "c.spv", "d.spv"])
    with pytest.raises(LinkError, match=r"^c\.spv: "):
        check_link_inputs(mods)
    assert spirv_val(bad, "spv1.5") is not None  # spirv-val rejects it too
    check_link_inputs([read(good, source="a.spv")])
