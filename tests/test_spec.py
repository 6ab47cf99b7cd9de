"""spec.py agrees with the installed grammar, and the grammar's special cases hold."""

from __future__ import annotations

import gen_spec
from spvlink import spec
from spvlink.grammar import ext_inst_set, grammar
from spvlink.grammar.walk import WalkContext, walk


def test_spec_module_is_current() -> None:
    assert gen_spec.OUT.read_text() == gen_spec.render()


def test_spec_names_match_grammar() -> None:
    g = grammar()
    assert spec.Op.IAdd == g.by_name["OpIAdd"].opcode
    assert spec.Op.EntryPoint == 15
    assert spec.Decoration.LinkageAttributes == g.operand_kinds["Decoration"].by_name["LinkageAttributes"].value
    assert spec.LinkageType.LinkOnceODR == 2
    assert spec.StorageClass.StorageBuffer == 12
    assert spec.ExecutionModel.GLCompute == 5
    assert spec.Capability.Linkage == 5
    for opcode, info in list(g.instructions.items())[:200]:
        assert getattr(spec.Op, info.opname[2:]) == opcode


def ctx(widths: dict[int, int] | None = None, values: dict[int, int] | None = None,
        sets: dict[int, str] | None = None) -> WalkContext:
    w = widths or {}
    v = values or {}
    return WalkContext(type_width=w.get, value_width=lambda x: w.get(v.get(x, 0)),
                       ext_set_name=(sets or {}).get)


def kinds(words: list[int], c: WalkContext) -> list[tuple[str, int, int]]:
    return [(s.kind, s.start, s.end) for s in walk(words, c).operands]


def test_constant_width_from_result_type() -> None:
    c = ctx({1: 32, 2: 64})
    assert kinds([(4 << 16) | 43, 1, 5, 7], c)[-1] == ("LiteralContextDependentNumber", 3, 4)
    assert kinds([(5 << 16) | 43, 2, 5, 7, 0], c)[-1] == ("LiteralContextDependentNumber", 3, 5)


def test_switch_literal_width_from_selector() -> None:
    c = ctx({2: 64}, {9: 2})
    ops = kinds([(9 << 16) | 251, 9, 10, 1, 0, 11, 2, 0, 12], c)
    assert ops[2:] == [("LiteralContextDependentNumber", 3, 5), ("IdRef", 5, 6),
                       ("LiteralContextDependentNumber", 6, 8), ("IdRef", 8, 9)]
    c32 = ctx({2: 32}, {9: 2})
    assert kinds([(5 << 16) | 251, 9, 10, 1, 11], c32)[2:] == [
        ("LiteralContextDependentNumber", 3, 4), ("IdRef", 4, 5)]


def test_spec_constant_op_embeds_opcode() -> None:
    # OpSpecConstantOp %type %res IAdd %a %b
    ops = kinds([(6 << 16) | 52, 1, 2, 128, 3, 4], ctx())
    assert [k for k, _, _ in ops] == ["IdResultType", "IdResult", "LiteralSpecConstantOpInteger",
                                      "IdRef", "IdRef"]


def test_enum_parameters() -> None:
    # OpDecorate %x BuiltIn GlobalInvocationId; OpLoad with Aligned 4; ExecutionMode LocalSize
    assert [k for k, _, _ in kinds([(4 << 16) | 71, 5, 11, 28], ctx())] == ["IdRef", "Decoration", "BuiltIn"]
    assert kinds([(6 << 16) | 61, 1, 2, 3, 2, 4], ctx())[-1] == ("LiteralInteger", 5, 6)
    assert [k for k, _, _ in kinds([(6 << 16) | 16, 1, 17, 64, 1, 1], ctx())] == \
        ["IdRef", "ExecutionMode", "LiteralInteger", "LiteralInteger", "LiteralInteger"]


def test_ext_inst_operands_from_set_grammar_and_nonsemantic_without_grammar() -> None:
    assert ext_inst_set("GLSL.std.450") is not None
    c = ctx(sets={7: "GLSL.std.450", 8: "NonSemantic.Unknown.1"})
    # %r = OpExtInst %t %7 FMix %a %b %c (FMix = 46)
    ops = kinds([(8 << 16) | 12, 1, 2, 7, 46, 3, 4, 5], c)
    assert [k for k, _, _ in ops][-3:] == ["IdRef", "IdRef", "IdRef"]
    ops = kinds([(7 << 16) | 12, 1, 2, 8, 3, 9, 10], c)
    assert [k for k, _, _ in ops][-2:] == ["IdRef", "IdRef"]
