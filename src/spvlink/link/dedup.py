"""Deduplication: module-level declarations that several inputs repeat.

- OpCapability, OpExtension, OpExtInstImport by their operands (imports remapped);
- types structurally, including their decorations and member decorations;
- constants (scalar, composite, null), OpUndef; spec constants only with equal
  decorations; global variables with the same BuiltIn in the same storage class;
- identical OpString (remapped) and OpSource; identical decorations; one OpName per id.

Declarations are merged in vectorised groups, repeated to a fixpoint, so every operand
is canonical when its user is keyed. Recursive types through OpTypeForwardPointer can
never become equal this way (each side waits for the other), so they are kept apart:
never wrong, only less merged. Spec constants merge only with equal decorations because
the decoration set (SpecId) is part of every key.
"""

from __future__ import annotations

import numpy as np

from ..ir import Module, Section
from ..ir.layout import CONSTANT_OPCODES, TYPE_OPCODES
from ..ir.module import is_in, unique
from ..spec import Op
from .facts import Decorations, decorations

# OpSpecConstantOp's layout depends on its embedded opcode, and a forward pointer has
# no result: neither is merged.
_TYPE_ARRAY = np.array(sorted(TYPE_OPCODES - {Op.TypeForwardPointer}), dtype=np.int64)
_CONST_ARRAY = np.array(sorted((CONSTANT_OPCODES - {Op.SpecConstantOp}) | {Op.Undef}),
                        dtype=np.int64)
# Constants whose operands are only their type.
_SCALAR_CONST_ARRAY = np.array(sorted({
    Op.ConstantTrue, Op.ConstantFalse, Op.Constant, Op.ConstantNull, Op.ConstantSampler,
    Op.SpecConstantTrue, Op.SpecConstantFalse, Op.SpecConstant, Op.Undef}), dtype=np.int64)


def deduplicate(m: Module) -> Module:
    canon = np.arange(m.bound, dtype=np.int64)
    keep = np.ones(len(m), dtype=bool)
    decos = decorations(m, linkage=False)

    # Capabilities, extensions, imports: by words (imports by name, remapping the id).
    seen_words: set[tuple[int, ...]] = set()
    ext_by_name: dict[tuple[int, ...], int] = {}
    for i in m.indices(Section.CAPABILITY, Section.EXTENSION, Section.EXT_INST_IMPORT).tolist():
        ws = m.inst_words(i)
        if ws[0] & 0xFFFF == Op.ExtInstImport:
            _merge_by_operands(ext_by_name, ws, i, canon, keep)
        else:
            t = tuple(ws)
            if t in seen_words:
                keep[i] = False
            seen_words.add(t)

    merged = _merge_declarations(m, canon, keep, decos)
    _dedup_debug_and_annotations(m, canon, keep, merged)
    return m.select(np.flatnonzero(keep), remap=canon.astype(np.uint32))


def _merge_by_operands(first_of: dict[tuple[int, ...], int], ws: list[int], i: int,
                       canon: np.ndarray, keep: np.ndarray) -> None:
    """An instruction named by its operands alone (OpExtInstImport by set, OpString by
    text): the first of a name keeps its id; a later one goes, its id mapped to the first."""
    first = first_of.setdefault(tuple(ws[2:]), ws[1])
    if first != ws[1]:
        canon[ws[1]] = first
        keep[i] = False


def _decoration_classes(m: Module, decos: Decorations, ids: np.ndarray) -> np.ndarray:
    """Per id: 0 when undecorated, else a small number shared by equal decoration sets.
    Only `ids` (the merge candidates) are looked at."""
    classes = np.zeros(m.bound, dtype=np.int64)
    numbers: dict[tuple, int] = {}
    wanted = set(ids.tolist())
    for target, idx in decos.by_target.items():
        if target not in wanted:
            continue
        rows = []
        for j in idx:
            ws = m.inst_words(j)
            rows.append((ws[0] & 0xFFFF, *ws[2:]))
        classes[target] = numbers.setdefault(tuple(sorted(rows)), len(numbers) + 1)
    return classes


def _merge_declarations(m: Module, canon: np.ndarray, keep: np.ndarray,
                        decos: Decorations) -> np.ndarray:
    """Types, constants, undefs and builtin variables, by structure and decorations.

    Candidates are grouped by (opcode, word count), which fixes where their ids are; each
    group is keyed as a matrix (ids replaced by their canonical id, the result id's place
    holding its decoration set) and merged with `np.unique`. Types go first, to a
    fixpoint; then scalar constants, in one pass since they name only types; then
    composite constants, to a fixpoint; then variables. So every operand is canonical
    when its user is keyed. The first declaration of each key survives.
    Returns the ids that absorbed others.
    """
    glob = m.indices(Section.GLOBAL)
    if not glob.size:
        return np.zeros(0, dtype=np.int64)
    ops = m.opcodes[glob]
    rid = m.result_ids[glob]
    builtin = np.zeros(m.bound, dtype=bool)
    if decos.builtin:
        builtin[list(decos.builtin)] = True
    is_type = is_in(ops, _TYPE_ARRAY)
    is_scalar = is_in(ops, _SCALAR_CONST_ARRAY)
    is_composite = is_in(ops, _CONST_ARRAY) & ~is_scalar
    is_var = (ops == Op.Variable) & builtin[rid] & (m.sizes[glob] == 4)
    cand_mask = (is_type | is_scalar | is_composite | is_var) & (rid > 0)
    classes = _decoration_classes(m, decos, rid[cand_mask])
    is_id_word = np.zeros(m.words.size, dtype=bool)
    is_id_word[m.id_pos] = True

    for phase, to_fixpoint, result_off in ((is_type, True, 1), (is_scalar, False, 2),
                                           (is_composite, True, 2), (is_var, False, 2)):
        members = glob[phase & (rid > 0)]
        if not members.size:
            continue
        key = m.opcodes[members].astype(np.int64) * 65536 + m.sizes[members]
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        groups = np.split(members[order], bounds)
        changed = True
        while changed:
            changed = False
            for g in groups:
                changed |= _merge_group(m, g, canon, classes, is_id_word, result_off)
            changed &= to_fixpoint
    cand = glob[cand_mask]
    cand_ids = rid[cand_mask]
    keep[cand] = canon[cand_ids] == cand_ids
    # A forward declaration of a pointer merged into an earlier one goes with it.
    fwd = glob[ops == Op.TypeForwardPointer]
    if fwd.size:
        ptr = m.words[m.starts[fwd] + 1].astype(np.int64)
        keep[fwd] = canon[ptr] == ptr
    # Ids that absorbed others: only their names and decorations can now repeat.
    return unique(canon[cand_ids[~keep[cand]]])


def _merge_group(m: Module, g: np.ndarray, canon: np.ndarray, classes: np.ndarray,
                 is_id_word: np.ndarray, result_off: int) -> bool:
    if g.size < 2:
        return False
    size = int(m.sizes[g[0]])
    cols = m.starts[g][:, None] + np.arange(size, dtype=np.int64)
    rows = m.words[cols].astype(np.int64)
    ids = is_id_word[cols]
    rows[ids] = canon[rows[ids]]
    rid = m.words[m.starts[g] + result_off].astype(np.int64)
    rows[:, result_off] = classes[rid]  # the result id's place holds its decoration set
    # Columns equal in every row decide nothing; two 32-bit columns or fewer fit one
    # integer key, which sorts far faster than a row of bytes (constants: type, value).
    varying = rows[:, (rows != rows[0]).any(axis=0)]
    if varying.shape[1] == 0:
        first, inverse = np.zeros(1, dtype=np.int64), np.zeros(g.size, dtype=np.int64)
    elif varying.shape[1] <= 2:
        key = varying[:, 0] if varying.shape[1] == 1 else (varying[:, 0] << 32) | varying[:, 1]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:
        packed = np.ascontiguousarray(varying).view(
            np.dtype((np.void, varying.dtype.itemsize * varying.shape[1])))
        _, first, inverse = np.unique(packed.ravel(), return_index=True, return_inverse=True)
    rep = rid[first[inverse.ravel()]]
    if np.array_equal(canon[rid], rep):
        return False
    canon[rid] = rep
    return True


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
        targets = m.words[m.starts[names_annos] + 1].astype(np.int64)
        mapped = canon[targets]
        names_annos = names_annos[is_in(mapped, merged)]
    else:
        names_annos = names_annos[:0]
    strings: dict[tuple[int, ...], int] = {}
    seen: set[tuple[int, ...]] = set()
    for i in np.concatenate([debug, names_annos]).tolist():
        ws = m.inst_words(i)
        op = ws[0] & 0xFFFF
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
