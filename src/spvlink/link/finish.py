"""Finishing passes: metadata stripping, id compaction, decoration-group flattening."""

from __future__ import annotations

import numpy as np

from ..ir import Instruction, Module, Operand, Section
from ..ir.module import is_in
from ..spec import Op


def metadata_keep(m: Module, keep: np.ndarray, *, spirv_metadata: str = "none") -> np.ndarray:
    """`keep` (a keep-mask over m) less what the linker itself strips at a metadata level,
    as Rust-GPU's linker does: only `name-variables` strips here (its `name_variables_pass`:
    every OpName/OpMemberName but the OpNames of global variables, and every OpLine).

    `none` and `full` keep everything: at `none` (without `-g`) the *stage* strips names and
    debug info afterwards, by spirv-opt's EliminateDeadConstant + StripDebugInfo
    (`choices.strips_debug`); `-g` keeps them.

    Needs: nothing. Guarantees: the kept names name kept ids when `keep` kept them."""
    if spirv_metadata != "name-variables":
        return keep
    keep = keep.copy()
    names = np.flatnonzero(is_in(m.opcodes, [Op.Name, Op.MemberName]))
    glob_vars = m.result_ids[(m.opcodes == Op.Variable) & (m.sections == int(Section.GLOBAL))]
    targets = m.words[m.starts[names] + 1].astype(np.int64)
    keep[names] &= is_in(targets, glob_vars) & (m.opcodes[names] == Op.Name)
    keep[m.opcodes == Op.Line] = False
    return keep


def compact_ids(m: Module) -> Module:
    """Renumber ids 1..n in order of first appearance in the word stream."""
    if not m.id_pos.size:
        return m.with_header(bound=1)
    ids = m.words[m.id_pos]
    uniq, first = np.unique(ids, return_index=True)
    order = np.argsort(first, kind="stable")
    remap = np.zeros(max(m.bound, int(uniq[-1]) + 1), dtype=np.uint32)
    remap[uniq[order]] = np.arange(1, uniq.size + 1, dtype=np.uint32)
    return m.select(None, remap=remap, bound=int(uniq.size) + 1)


def flatten_decoration_groups(m: Module) -> Module:
    """Replace OpDecorationGroup/OpGroupDecorate/OpGroupMemberDecorate by the direct
    decorations they stand for, so every later pass sees one decoration per target."""
    groups = m.indices_of(Op.DecorationGroup)
    if not groups.size:
        return m
    group_ids = {int(m.result_ids[i]) for i in groups.tolist()}
    group_decos: dict[int, list[Instruction]] = {}
    replace: dict[int, list[Instruction]] = {}
    for i in m.indices(Section.ANNOTATION).tolist():
        op = int(m.opcodes[i])
        if op in (Op.Decorate, Op.DecorateId, Op.DecorateString):
            inst = m.instruction(i)
            target = inst.operands[0].value
            if target in group_ids:
                group_decos.setdefault(target, []).append(inst)
                replace[i] = []
        elif op == Op.DecorationGroup:
            replace[i] = []
    for i in m.indices(Section.DEBUG_NAME).tolist():
        if int(m.words[m.starts[i] + 1]) in group_ids:
            replace[i] = []  # names of the groups themselves
    for i in m.indices(Section.ANNOTATION).tolist():
        op = int(m.opcodes[i])
        if op == Op.GroupDecorate:
            inst = m.instruction(i)
            group = inst.operands[0].value
            out = []
            for t in inst.operands[1:]:
                for d in group_decos.get(group, []):
                    out.append(Instruction(d.opcode, None, None,
                                           [Operand("IdRef", (t.value,)), *d.operands[1:]]))
            replace[i] = out
        elif op == Op.GroupMemberDecorate:
            inst = m.instruction(i)
            group = inst.operands[0].value
            out = []
            pairs = inst.operands[1:]
            for k in range(0, len(pairs) - 1, 2):
                target, member = pairs[k].value, pairs[k + 1].value
                for d in group_decos.get(group, []):
                    member_op = Op.MemberDecorate if d.opcode == Op.Decorate else \
                        Op.MemberDecorateString if d.opcode == Op.DecorateString else None
                    if member_op is None:
                        continue
                    out.append(Instruction(member_op, None, None,
                                           [Operand("IdRef", (target,)),
                                            Operand("LiteralInteger", (member,)),
                                            *d.operands[1:]]))
            replace[i] = out
    return m.splice(replace)
