"""Small vectorised helpers of the data representation, against numpy's own."""

from __future__ import annotations

import numpy as np
import pytest

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
