"""Deduplication: module-level declarations that several inputs repeat.

- OpCapability, OpExtension, OpExtInstImport by their operands (imports remapped);
- types, constants, OpUndef and builtin variables by the one identity of `ir.types`
  (structure, literals, decorations; recursive types included): each class becomes its
  first declaration;
- identical OpString (remapped) and OpSource; identical decorations; one OpName per id.

Needs: decoration groups flattened (decorations are part of a type's identity).
Guarantees: no two classified declarations with the same identity; every use of a merged
id points at the survivor, which precedes it; forward pointers of merged pointers gone.
"""

from __future__ import annotations

import numpy as np

from .._words import opcode_of
from ..ir import Module, Section
from ..ir.layout import Word
from ..ir.module import is_in, unique
from ..ir.types import type_identity
from ..spec import Op


def deduplicate(m: Module) -> Module:
    """`m` with its repeated declarations merged (see the module's docstring)."""
    keep, remap = dedup_plan(m)
    return m.select(np.flatnonzero(keep), remap=remap)


def dedup_plan(m: Module) -> tuple[np.ndarray, np.ndarray]:
    """What deduplication keeps of `m` (a mask) and how it maps ids (uint32, by old id).

    `m` may be the merged module or the inputs laid end to end before merge sorts them
    (`merge.LaidOut.joined`: the plan is applied in the sort's copy). The plan is the same
    for both: every decision takes the first of equal instructions in one section (or,
    for names and decorations, a set kept per kind), and the sort keeps the order of
    each section's instructions."""
    canon = np.arange(m.bound, dtype=np.int64)
    keep = np.ones(len(m), dtype=bool)

    # Capabilities (one operand each, a few in every input): the first of each value,
    # all at once. Extensions and imports (rarer): by words, imports by name, remapping
    # the id.
    caps = m.indices_of(Op.Capability)
    if caps.size:
        first = np.unique(m.operand(caps, Word.CAPABILITY), return_index=True)[1]
        keep[caps] = False
        keep[caps[first]] = True
    seen_words: set[tuple[int, ...]] = set()
    ext_by_name: dict[tuple[int, ...], int] = {}
    for i in m.indices(Section.EXTENSION, Section.EXT_INST_IMPORT).tolist():
        ws = m.inst_words(i)
        if opcode_of(ws[0]) == Op.ExtInstImport:
            _merge_by_operands(ext_by_name, ws, i, canon, keep)
        else:
            t = tuple(ws)
            if t in seen_words:
                keep[i] = False
            seen_words.add(t)

    merged = _merge_declarations(m, canon, keep)
    _dedup_debug_and_annotations(m, canon, keep, merged)
    return keep, canon.astype(np.uint32)


def _merge_by_operands(first_of: dict[tuple[int, ...], int], ws: list[int], i: int,
                       canon: np.ndarray, keep: np.ndarray) -> None:
    """An instruction named by its operands alone (OpExtInstImport by set, OpString by
    text): the first of a name keeps its id; a later one goes, its id mapped to the first."""
    first = first_of.setdefault(tuple(ws[2:]), ws[1])
    if first != ws[1]:
        canon[ws[1]] = first
        keep[i] = False


def _merge_declarations(m: Module, canon: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Types, constants, undefs and builtin variables: each class of `ir.types`' identity
    is merged into its first declaration. Returns the ids that absorbed others."""
    ident = type_identity(m)
    decl = ident.declarations
    if not decl.size:
        return np.zeros(0, dtype=np.int64)
    ids = m.result_ids[decl]
    canon[ids] = ident.canon[ids]
    keep[decl] = canon[ids] == ids
    # A forward declaration of a pointer merged into an earlier one goes with it.
    fwd = m.indices_of(Op.TypeForwardPointer)
    if fwd.size:
        ptr = m.operand(fwd, Word.FORWARD_POINTER).astype(np.int64)
        keep[fwd] = canon[ptr] == ptr
    # Ids that absorbed others: only their names and decorations can now repeat.
    return unique(canon[ids[~keep[decl]]])


def _dedup_debug_and_annotations(m: Module, canon: np.ndarray, keep: np.ndarray,
                                  merged: np.ndarray) -> None:
    """Identical OpString (remapped), OpSource, decorations; one OpName per id.

    Judged on the words as they will read after remapping. Only names and decorations
    of ids that absorbed others can repeat, so only those (and the debug strings) are
    looked at one by one.
    """
    debug = m.indices(Section.DEBUG_STRING)
    names_annos = m.indices(Section.DEBUG_NAME, Section.ANNOTATION)
    if names_annos.size and merged.size:
        targets = m.operand(names_annos, Word.NAME_TARGET).astype(np.int64)
        mapped = canon[targets]
        names_annos = names_annos[is_in(mapped, merged)]
    else:
        names_annos = names_annos[:0]
    strings: dict[tuple[int, ...], int] = {}
    seen: set[tuple[int, ...]] = set()
    for i in np.concatenate([debug, names_annos]).tolist():
        ws = m.inst_words(i)
        op = opcode_of(ws[0])
        if op == Op.String:
            _merge_by_operands(strings, ws, i, canon, keep)
            continue
        if op in (Op.DecorationGroup, Op.GroupDecorate, Op.GroupMemberDecorate, Op.SourceContinued):
            continue
        if op == Op.Source and i + 1 < len(m) and int(m.opcodes[i + 1]) == Op.SourceContinued:
            continue
        if op == Op.Name:
            t: tuple[int, ...] = (op, canon[ws[1]])
        elif op == Op.MemberName:
            t = (op, canon[ws[1]], ws[2])
        elif op == Op.Source:
            t = tuple(canon[w] if k == 3 else w for k, w in enumerate(ws))
        elif op == Op.SourceExtension:
            t = tuple(ws)
        else:  # a decoration: the target remapped (OpDecorateId operands rarely repeat)
            t = (ws[0], canon[ws[1]], *ws[2:])
        if t in seen:
            keep[i] = False
        seen.add(t)
