"""Finishing passes: metadata stripping, id compaction, decoration-group flattening."""

from __future__ import annotations

import numpy as np

from ..grammar import DEBUG_INFO_SETS
from ..ir import Instruction, Module, Operand, Section, decode_string
from ..ir.layout import EXT_INST_OPCODES, LINE_OPCODES
from ..ir.module import is_in
from ..spec import Op


def _debug_info_imports(m: Module) -> set[int]:
    out = set()
    for i in m.indices(Section.EXT_INST_IMPORT).tolist():
        ws = m.inst_words(i)
        if decode_string(ws[2:]) in DEBUG_INFO_SETS:
            out.add(ws[1])
    return out


def metadata_keep(m: Module, keep: np.ndarray, *, spirv_metadata: str = "none",
                  debuginfo: bool = False) -> np.ndarray:
    """`keep` (a keep-mask over m) less the metadata to strip. `none`: names, and debug
    information unless `debuginfo`; `name-variables`: all names but those of global
    variables; `full`: nothing."""
    if spirv_metadata == "full":
        return keep
    keep = keep.copy()
    names = np.flatnonzero(is_in(m.opcodes, [Op.Name, Op.MemberName]))
    if spirv_metadata == "name-variables":
        glob_vars = m.result_ids[(m.opcodes == Op.Variable) & (m.sections == int(Section.GLOBAL))]
        targets = m.words[m.starts[names] + 1].astype(np.int64)
        keep[names] &= is_in(targets, glob_vars) & (m.opcodes[names] == Op.Name)
    else:
        keep[names] = False
    if not debuginfo:
        debug_ops = [Op.String, Op.Source, Op.SourceContinued, Op.SourceExtension,
                     Op.ModuleProcessed, *LINE_OPCODES]
        dropped_strings = (m.opcodes == Op.String) & keep
        keep[is_in(m.opcodes, debug_ops)] = False
        sets = _debug_info_imports(m)
        if sets:
            ext = np.flatnonzero(is_in(m.opcodes, list(EXT_INST_OPCODES)))
            set_ids = m.words[m.starts[ext] + 3].astype(np.int64)
            keep[ext[is_in(set_ids, list(sets))]] = False
            imports = m.indices(Section.EXT_INST_IMPORT)
            keep[imports[is_in(m.result_ids[imports], list(sets))]] = False
            # NonSemantic debug info needs its extension only while some remains.
            if not _other_nonsemantic(m, sets, keep):
                for i in m.indices(Section.EXTENSION).tolist():
                    if decode_string(m.inst_words(i)[1:]) == "SPV_KHR_non_semantic_info":
                        keep[i] = False
        # An OpString that something kept still names (a DebugPrintf format, another
        # non-semantic set's operand) stays.
        strings = np.flatnonzero(dropped_strings)
        if strings.size:
            uses = keep[m.id_inst] & ~m.id_is_result
            used = np.zeros(m.bound, dtype=bool)
            used[m.words[m.id_pos[uses]]] = True
            keep[strings] = used[m.result_ids[strings]]
    return keep


def _other_nonsemantic(m: Module, stripped: set[int], keep: np.ndarray) -> bool:
    for i in m.indices(Section.EXT_INST_IMPORT).tolist():
        if not keep[i]:
            continue
        ws = m.inst_words(i)
        if ws[1] not in stripped and decode_string(ws[2:]).startswith("NonSemantic."):
            return True
    return False


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
