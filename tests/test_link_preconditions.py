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


def edited(text: str, name: str, edit: object, new_ids: int = 1) -> Module:
    """`text` assembled, its instructions edited by `edit(list of word lists)`, rebuilt
    as a module named `name` (what a producer's bug or a corrupted file would give), its
    bound raised by `new_ids`."""
    m = asm(text)
    insts = [m.inst_words(i) for i in range(len(m))]
    edit(insts)  # type: ignore[operator]
    return Module.from_instructions(insts, version=m.version, bound=m.bound + new_ids,
                                    source=name)


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


def test_an_unnamed_input_is_named_as_merge_names_it() -> None:
    """A module built in Python has no file name: the error names it by its place, as
    merge's own errors do (`merge.input_name`: "input #2"), whichever check finds it."""
    def no_end(insts: list[list[int]]) -> None:
        del insts[index_of(insts, 56)]  # OpFunctionEnd
    bad = edited(LIB, "noend.spv", no_end)
    unnamed = Module.from_instructions([bad.inst_words(i) for i in range(len(bad))],
                                       version=bad.version, bound=bad.bound)
    assert unnamed.source is None
    with pytest.raises(LinkError, match=r"^input #2: malformed module: the function begun"):
        link([asm(USER, "user.spv"), unnamed], LinkOptions())


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


TWO_FUNCTIONS = LIB.replace("OpFunctionEnd\n", """OpFunctionEnd
%g = OpFunction %void None %fn
%l2 = OpLabel
OpReturn
OpFunctionEnd
""")


def _move_after(opcode: int, anchor: int, nth_anchor: int = 0) -> object:
    def edit(insts: list[list[int]]) -> None:
        moved = insts.pop(index_of(insts, opcode))
        insts.insert(index_of(insts, anchor, nth_anchor) + 1, moved)
    return edit


def _insert_after(anchor: int, nth_anchor: int, words: list[int]) -> object:
    def edit(insts: list[list[int]]) -> None:
        insts.insert(index_of(insts, anchor, nth_anchor) + 1, words)
    return edit


@pytest.mark.parametrize("edit, message", [
    # OpDecorate (71) after the first function: merge would sort it away from it.
    (_move_after(71, 56), r"instruction \d+ \(OpDecorate\) is out of the Logical Layout's "
                          r"order"),
    # OpIAdd (128) among the declarations, before the first function.
    (_insert_after(21, 0, [(5 << 16) | 128, 3, 90, 3, 3]),
     r"instruction 7 \(OpIAdd\) stands outside every function"),
    # OpIAdd between the two functions.
    (_insert_after(56, 0, [(5 << 16) | 128, 3, 90, 3, 3]),
     r"instruction \d+ \(OpIAdd\) stands between functions"),
    # A type after the last function.
    (_insert_after(56, 1, [(4 << 16) | 21, 90, 64, 0]),
     r"instruction \d+ \(OpTypeInt\) stands between functions"),
])
def test_instructions_out_of_their_region(edit: object, message: str) -> None:
    """The Logical Layout (SPIR-V 2.4): capabilities to annotations first, then types,
    constants and global variables, then functions; between functions only debug lines
    (glslang -g writes an OpLine there) and extended instructions. spirv-val refuses each
    of these modules too; spvlink refuses them before merging, alone and among ten inputs
    (checked together, in one numpy pass), naming the instruction."""
    bad = edited(TWO_FUNCTIONS, "bad.spv", edit, new_ids=100)
    assert spirv_val(write(bad), "spv1.5") is not None
    with pytest.raises(LinkError, match=r"^bad\.spv: malformed module: " + message):
        check_link_inputs([bad])
    good = write(asm(TWO_FUNCTIONS))
    many = read_many([good] * 9 + [write(bad)], [f"m{k}.spv" for k in range(9)] + ["bad.spv"])
    with pytest.raises(LinkError, match=r"^bad\.spv: malformed module: " + message):
        check_link_inputs(many)


def test_debug_lines_between_functions_pass() -> None:
    """glslang -g writes an OpLine after an OpFunctionEnd: that module links as before."""
    line = edited(TWO_FUNCTIONS, "line.spv", lambda insts: insts.insert(
        index_of(insts, 56) + 1, [(1 << 16) | 317]))  # OpNoLine
    check_link_inputs([line])
    assert spirv_val(write(link([line], LinkOptions(create_library=True)).module),
                     "spv1.5") is None
