"""Finishing passes: metadata stripping, id compaction, decoration-group flattening."""

from __future__ import annotations

import numpy as np

from ..ir import Instruction, Module, Operand, Section
from ..ir.layout import Word
from ..ir.module import first_positions, is_in
from ..spec import Capability, Decoration, Op, StorageClass


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
    targets = m.operand(names, Word.NAME_TARGET).astype(np.int64)
    keep[names] &= is_in(targets, glob_vars) & (m.opcodes[names] == Op.Name)
    keep[m.opcodes == Op.Line] = False
    return keep


# Rust-GPU's `remove_unused_type_capabilities`: these go when no type needs them.
_TYPE_CAPABILITIES = {  # capability -> (type opcode, width)
    Capability.Int8: (Op.TypeInt, 8), Capability.Int16: (Op.TypeInt, 16),
    Capability.Int64: (Op.TypeInt, 64), Capability.Float16: (Op.TypeFloat, 16),
    Capability.Float64: (Op.TypeFloat, 64),
}
_EXPLICIT_LAYOUT = (Decoration.Offset, Decoration.ArrayStride, Decoration.MatrixStride)
# Storage classes whose types may not carry an explicit layout (VUID-StandaloneSpirv-None-10684).
_NO_LAYOUT_CLASSES = (StorageClass.Function, StorageClass.Private)


def cleanup_keep(m: Module, keep: np.ndarray) -> np.ndarray:
    """`keep` less what Rust-GPU's linker cleans up after its dead-code elimination:

    - `remove_unused_type_capabilities`: Int8, Int16, Int64, Float16 and Float64 when no
      kept OpTypeInt/OpTypeFloat has that width (every other capability stays);
    - `remove_non_uniform_decorations`: every `OpDecorate ... NonUniform` when the module
      does not declare ShaderNonUniform;
    - `explicit_layout::erase_when_invalid`, for the case it can do without new types:
      Offset/ArrayStride/MatrixStride on a struct or array only Function or Private
      pointers reach (spirv-val rejects those in Vulkan environments, VUID-...-10684).

    Needs: `keep` from dead-code elimination (what it keeps decides which types remain).
    Guarantees: the capabilities, NonUniform and layout decorations kept are ones a kept
    instruction needs or may carry."""
    keep = keep.copy()
    ops = m.opcodes
    caps = np.flatnonzero((ops == Op.Capability) & keep)
    cap_of = m.operand(caps, Word.CAPABILITY)
    types = np.flatnonzero(is_in(ops, [Op.TypeInt, Op.TypeFloat]) & keep)
    widths = set(zip(ops[types].tolist(), m.operand(types, Word.TYPE_WIDTH).tolist(), strict=True))
    for i, cap in zip(caps.tolist(), cap_of.tolist(), strict=True):
        need = _TYPE_CAPABILITIES.get(cap)
        if need is not None and need not in widths:
            keep[i] = False
    decos = np.flatnonzero((ops == Op.Decorate) & keep)
    kinds = m.operand(decos, Word.DECORATION)
    if Capability.ShaderNonUniform not in set(cap_of.tolist()):
        keep[decos[kinds == Decoration.NonUniform]] = False
    unlaid = _types_without_layout(m, keep)
    if unlaid:
        members = np.flatnonzero((ops == Op.MemberDecorate) & keep)
        for idx, at in ((decos, Word.DECORATION), (members, Word.MEMBER_DECORATION)):
            kind = m.operand(idx, at)
            target = m.operand(idx, Word.NAME_TARGET)
            drop = is_in(kind, list(_EXPLICIT_LAYOUT)) & is_in(target, sorted(unlaid))
            keep[idx[drop]] = False
    return keep


def _types_without_layout(m: Module, keep: np.ndarray) -> set[int]:
    """The struct and array types that only Function/Private pointers reach (through
    members and elements, not through other pointers)."""
    ops = m.opcodes
    ptrs = np.flatnonzero((ops == Op.TypePointer) & keep)
    if not ptrs.size:
        return set()
    aggregates = np.flatnonzero(is_in(ops, [Op.TypeStruct, Op.TypeArray, Op.TypeRuntimeArray])
                                & keep)
    parts: dict[int, list[int]] = {}
    for i in aggregates.tolist():
        ws = m.inst_words(i)
        parts[ws[1]] = ws[2:] if ops[i] == Op.TypeStruct else ws[2:3]

    def reach(roots: list[int]) -> set[int]:
        seen: set[int] = set()
        work = [t for t in roots if t in parts]
        while work:
            t = work.pop()
            if t not in seen:
                seen.add(t)
                work.extend(p for p in parts[t] if p in parts)
        return seen

    sc = m.operand(ptrs, Word.POINTER_STORAGE)
    pointee = m.operand(ptrs, Word.POINTER_TYPE).tolist()
    private = is_in(sc, list(_NO_LAYOUT_CLASSES)).tolist()
    inside = reach([t for t, p in zip(pointee, private, strict=True) if p])
    if not inside:
        return set()
    return inside - reach([t for t, p in zip(pointee, private, strict=True) if not p])


def compact_ids(m: Module) -> Module:
    """Renumber ids 1..n in order of first appearance in the word stream.

    Needs: nothing. Guarantees: the bound is the highest id + 1, no id unused below it."""
    return compact_ids_remap(m)[0]


def compact_ids_remap(m: Module) -> tuple[Module, np.ndarray]:
    """`compact_ids`, and the old id -> new id table it applied (0: an id not used)."""
    if not m.id_pos.size:
        return m.with_header(bound=1), np.zeros(m.bound, dtype=np.uint32)
    ids = m.words[m.id_pos]
    first = first_positions(ids, max(m.bound, int(ids.max()) + 1))
    used = np.flatnonzero(first < ids.size)
    in_order = used[np.argsort(first[used], kind="stable")]
    remap = np.zeros(first.size, dtype=np.uint32)
    remap[in_order] = np.arange(1, in_order.size + 1, dtype=np.uint32)
    return m.select(None, remap=remap, bound=int(in_order.size) + 1), remap


def exported_functions(m: Module, known: dict[int, str] | None = None) -> dict[int, str]:
    """Function id -> the name its `LinkageAttributes ... Export` decoration gives it (the
    first, for a function exported twice), read before the linker resolves them away; with
    `known`, those of its entries whose functions `m` still defines."""
    from ..ir import decode_string

    fns = set(m.result_ids[m.opcodes == Op.Function].tolist())
    if known is not None:
        return {fid: name for fid, name in known.items() if fid in fns}
    out: dict[int, str] = {}
    for i in m.indices_of(Op.Decorate).tolist():
        ws = m.inst_words(i)
        if (len(ws) > 4 and ws[2] == Decoration.LinkageAttributes and ws[-1] == 0
                and ws[1] in fns):  # LinkageType Export = 0
            out.setdefault(ws[1], decode_string(ws[3:-1]))
    return out


def flatten_decoration_groups(m: Module) -> Module:
    """Replace OpDecorationGroup/OpGroupDecorate/OpGroupMemberDecorate by the direct
    decorations they stand for, so every later pass sees one decoration per target.

    Needs: a merged module (group ids unique). Guarantees: no decoration group, and every
    decoration names its target directly (dedup, DCE and the symbol rules rely on it)."""
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
        if int(m.operand(i, Word.NAME_TARGET)) in group_ids:
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
