"""Small vectorised helpers of the data representation, against numpy's own."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spvlink.ir.module import is_in, unique


@pytest.mark.parametrize("top", [10, 70_000, 1 << 31])
def test_is_in_matches_numpy(top: int) -> None:
    """Both ways is_in works (table for a narrow range, binary search for a wide one)."""
    rng = np.random.default_rng(top)
    values = rng.integers(0, top, 5000).astype(np.uint32)
    wanted = np.concatenate([rng.integers(0, top, 40), values[:7]])
    assert np.array_equal(is_in(values, wanted), np.isin(values, wanted))
    assert np.array_equal(is_in(values, list(wanted.tolist())), np.isin(values, wanted))


def test_is_in_empty() -> None:
    assert is_in(np.arange(5), []).tolist() == [False] * 5
    assert is_in(np.zeros(0, np.int32), [1, 2]).size == 0


def test_unique_matches_numpy() -> None:
    values = np.random.default_rng(1).integers(0, 50, 1000)
    assert np.array_equal(unique(values), np.unique(values))


SWITCH64 = """
OpCapability Shader
OpCapability Int64
OpCapability Linkage
OpMemoryModel Logical GLSL450
%void = OpTypeVoid
%fn = OpTypeFunction %void
%ulong = OpTypeInt 64 0
%sel = OpConstant %ulong 5
%f = OpFunction %void None %fn
%entry = OpLabel
OpSelectionMerge %merge None
OpSwitch %sel %merge 4294967296 %a 7 %merge
%a = OpLabel
OpBranch %merge
%merge = OpLabel
OpReturn
OpFunctionEnd
"""


def test_instruction_view_reads_switch_literals_at_the_selector_width() -> None:
    """Module.instruction finds the selector's type (64-bit: two-word literals)."""
    from helpers import spirv_as
    from spvlink.binary import read
    from spvlink.spec import Op

    m = read(spirv_as(SWITCH64, "spv1.0"))
    (i,) = m.indices_of(Op.Switch).tolist()
    inst = m.instruction(i)
    literals = [op.words for op in inst.operands if op.kind == "LiteralContextDependentNumber"]
    assert literals == [(0, 1), (7, 0)]
    assert inst.words() == m.inst_words(i)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=14).map(lambda b: b.replace(b"\0", b"")),
                          st.binary(max_size=2).map(lambda b: b.replace(b"\0", b"x")),
                          st.integers(0, 2)), min_size=1, max_size=8))
def test_linkage_names_decoded_at_once_as_one_by_one(names: list[tuple[bytes, bytes, int]]
                                                     ) -> None:
    """`facts.linkage_entries` finds every name's end (its first NUL) for all names at once
    and decodes an ASCII buffer in one go: the same as decoding each instruction's string
    alone (`decode_string`), for empty names, names with non-UTF-8 bytes, and bytes after
    the NUL in its word (what the reader lets through: a string ends with the first word
    holding a NUL)."""
    from spvlink._words import decode_string
    from spvlink.ir import Module
    from spvlink.ir.facts import linkage_entries
    from spvlink.spec import Capability, Decoration, Op

    def inst(op: int, *operands: int) -> list[int]:
        return [(len(operands) + 1) << 16 | op, *operands]

    insts = [inst(Op.Capability, Capability.Shader), inst(Op.Capability, Capability.Linkage),
             inst(Op.MemoryModel, 0, 1)]
    strings = []
    for k, (raw, after, kind) in enumerate(names):
        raw += b"\0"
        if len(after) < -len(raw) % 4:
            raw += after  # junk after the terminator, in its word
        raw += b"\0" * (-len(raw) % 4)
        words = np.frombuffer(raw, dtype="<u4").tolist()
        strings.append(words)
        insts.append(inst(Op.Decorate, k + 1, Decoration.LinkageAttributes, *words, kind))
    m = Module.from_instructions(insts, bound=len(names) + 1)
    assert [(t, name, kind) for _i, t, name, kind in linkage_entries(m)] == [
        (k + 1, decode_string(words), kind)
        for k, (words, (_raw, _after, kind)) in enumerate(zip(strings, names, strict=True))]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 3), min_size=3, max_size=3), min_size=1, max_size=60))
def test_first_equal_row_as_a_python_scan(rows: list[list[int]]) -> None:
    """Type identity's `_first_equal_row` (keys folded into integers, the first of each
    class by one pass): per row, the index of the first row equal to it."""
    from spvlink.ir.types import _first_equal_row

    first: dict[tuple[int, ...], int] = {}
    expected = [first.setdefault(tuple(r), k) for k, r in enumerate(rows)]
    assert _first_equal_row(np.array(rows, dtype=np.int64)).tolist() == expected


def test_compact_ids_numbers_ids_in_order_of_first_appearance() -> None:
    """`compact_ids_remap`, on every corpus module: each id becomes the rank of its first
    appearance in the word stream, and the bound the count of ids + 1 (a Python scan is
    the reference)."""
    from spvlink.link.finish import compact_ids_remap
    from test_module_ops import NAMES, corpus_module

    for name in NAMES:
        m = corpus_module(name)
        ids = m.words[m.id_pos].tolist()
        rank: dict[int, int] = {}
        for i in ids:
            rank.setdefault(i, len(rank) + 1)
        out, remap = compact_ids_remap(m)
        assert out.words[out.id_pos].tolist() == [rank[i] for i in ids], name
        assert out.bound == len(rank) + 1
        assert all(int(remap[i]) == r for i, r in rank.items())
