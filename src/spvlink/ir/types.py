"""One identity for types and constants: "are these two the same?" has one answer.

Two declarations are the same when their opcode, their literal operands, their decorations
(member decorations included; names are not decorations) and the identities of their
operands are the same. An array's length is compared by the integer value of its length
constant (`uint 3` and `ulong 3` give the same `float[3]`, as SPIRV-Tools' TypeManager
compares lengths); a spec constant is compared by identity (its decorations, SpecId
included, are part of it). The declarations classified are types, constants (not
OpSpecConstantOp), OpUndef and builtin variables.

Computed once per module by partition refinement: start from classes of equal opcode,
literals and decorations, then split any class whose members' operands fall in different
classes, until nothing splits. This is the coarsest stable partition, so recursive types
through OpTypeForwardPointer that are equal merge (they are never told apart), and types,
constants and the types built on constants settle together: declaration order across
modules does not matter. Deduplication merges each class into its first declaration; the
import/export check compares identities; diagnostics print types and the first difference.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .._words import opcode_of
from ..spec import Decoration, Op
from .facts import Decorations, decoration_key, decorations, global_defs
from .layout import CONSTANT_OPCODES, TYPE_OPCODES, Section, Word
from .module import Module, first_positions, opcode_facts, unique

# A forward pointer has no result; OpSpecConstantOp's operands depend on its embedded
# opcode: neither is classified (the latter keeps its own identity).
CLASSIFIED_TYPES = frozenset(TYPE_OPCODES - {Op.TypeForwardPointer})
CLASSIFIED_CONSTANTS = frozenset((CONSTANT_OPCODES - {Op.SpecConstantOp}) | {Op.Undef})


class TypeIdentity(NamedTuple):
    """The identity of every classified declaration of a module."""

    canon: np.ndarray  # per id: the first declaration of its class; other ids map to themselves
    declarations: np.ndarray  # instruction indices of the classified declarations, ascending

    def same(self, a: int, b: int) -> bool:
        return bool(self.canon[a] == self.canon[b])


def type_identity(m: Module) -> TypeIdentity:
    """The identity of `m`'s types and constants (computed once: modules are immutable)."""
    return m._cached("type_identity", lambda: _type_identity(m))


def _type_identity(m: Module) -> TypeIdentity:
    canon = np.arange(m.bound, dtype=np.int64)
    glob = m.indices(Section.GLOBAL)
    ops = m.opcodes[glob]
    rid = m.result_ids[glob]
    decos = decorations(m, linkage=False)
    builtin = np.zeros(m.bound, dtype=bool)
    if decos.builtin:
        builtin[list(decos.builtin)] = True
    classified = (_classified_opcodes()[ops]
                  | ((ops == Op.Variable) & builtin[rid] & (m.sizes[glob] == 4))) & (rid > 0)
    members = glob[classified]
    if not members.size:
        return TypeIdentity(canon, members)
    ids = m.result_ids[members]
    # A class is labelled by its first declaration's id, an id that is not classified by
    # itself, an array length that is an integer constant by its value (below zero). The
    # first round sees every classified operand as alike (0, never an id): it groups by
    # opcode, literals and decorations only; later rounds split classes from there.
    label = canon.copy()
    label[ids] = 0
    length_code = _length_codes(m, glob, rid)
    deco_class = _decoration_classes(m, decos, ids)
    is_id_word = np.zeros(m.words.size, dtype=bool)
    is_id_word[m.id_pos] = True

    key = m.opcodes[members].astype(np.int64) * 65536 + m.sizes[members]
    order = np.argsort(key, kind="stable")
    groups = [_Group(m, g, is_id_word, length_code)
              for g in np.split(members[order], np.flatnonzero(np.diff(key[order])) + 1)]
    # Types first, to their fixpoint (they name constants only as array lengths, mostly
    # integer values), then everything from there: each constant is keyed once its type's
    # class is settled, as a compiler would number them.
    types = [g for g in groups if g.is_type]
    rounds = 0
    for first_round in (types, [g for g in groups if not g.is_type]):
        changed = _refine(first_round, label, own=deco_class)
        while changed.any():
            rounds += 1
            if rounds > _MAX_ROUNDS:
                # Types nested deeper than any compiler writes: each round settles one
                # level, so finish in one pass in declaration order instead (linear).
                canon[ids] = _in_declaration_order(m, members, deco_class, length_code)
                return TypeIdentity(canon, members)
            # Only a group whose operands' classes changed can split.
            dirty = [g for g in (types if first_round is types else groups)
                     if g.ids.size > 1 and changed[g.operands].any()]
            changed = _refine(dirty, label, own=deco_class)
    canon[ids] = label[ids]
    return TypeIdentity(canon, members)


# Refinement rounds before the declaration-order pass takes over (real modules settle in
# fewer than ten: one per level of nesting).
_MAX_ROUNDS = 48


def _in_declaration_order(m: Module, members: np.ndarray, deco_class: np.ndarray,
                          length_code: np.ndarray) -> np.ndarray:
    """The identity of `members` (in declaration order) by hash-consing: each declaration
    is keyed on its opcode, literals, decorations and its operands' classes, all of which
    are declared before it. An operand declared after its user (through
    OpTypeForwardPointer) stands for itself, so recursive types stay apart here: never
    wrong, only less merged, and only for inputs nested past `_MAX_ROUNDS`."""
    first_of: dict[tuple, int] = {}
    rep: dict[int, int] = {}
    out = np.empty(members.size, dtype=np.int64)
    starts, sizes = m.starts[members].tolist(), m.sizes[members].tolist()
    lo = np.searchsorted(m.id_pos, m.starts[members]).tolist()
    id_pos = m.id_pos.tolist()
    offsets = opcode_facts().result_offset
    for k, (s, n, p) in enumerate(zip(starts, sizes, lo, strict=True)):
        ws = m.words[s:s + n].tolist()
        is_array = opcode_of(ws[0]) == Op.TypeArray and n == 4
        off = int(offsets[opcode_of(ws[0])])
        key = list(ws)
        while p < len(id_pos) and id_pos[p] < s + n:
            at = id_pos[p] - s
            if at != off:
                code = int(length_code[ws[at]]) if is_array and at == 3 else 0
                key[at] = code if code < 0 else rep.get(ws[at], -(1 << 40) - ws[at])
            p += 1
        key[off] = int(deco_class[ws[off]])
        out[k] = rep[ws[off]] = first_of.setdefault(tuple(key), ws[off])
    return out


@functools.cache
def _classified_opcodes() -> np.ndarray:
    """Per opcode: True for the types and constants the identity classifies."""
    table = np.zeros(1 << 16, dtype=bool)
    table[sorted(CLASSIFIED_TYPES | CLASSIFIED_CONSTANTS)] = True
    return table


class _Group:
    """Declarations of one opcode and word count: their words as a matrix and where their
    id operands are."""

    def __init__(self, m: Module, g: np.ndarray, is_id_word: np.ndarray,
                 length_code: np.ndarray) -> None:
        size = int(m.sizes[g[0]])
        cols = m.starts[g][:, None] + np.arange(size, dtype=np.int64)
        self.rows = m.words[cols].astype(np.int64)
        self.id_mask = is_id_word[cols]
        self.is_type = int(m.opcodes[g[0]]) in CLASSIFIED_TYPES
        self.result_off = int(opcode_facts().result_offset[int(m.opcodes[g[0]])])
        self.id_mask[:, self.result_off] = False
        self.ids = self.rows[:, self.result_off].copy()
        self.length_col: np.ndarray | None = None
        if int(m.opcodes[g[0]]) == Op.TypeArray and size == 4:
            self.length_col = length_code[self.rows[:, 3]]
            self.id_mask[:, 3] = self.length_col >= 0  # a value needs no class
        self.operands = self.rows[self.id_mask]

    def key_rows(self, label: np.ndarray, own: np.ndarray) -> np.ndarray:
        """The rows with every id operand replaced by its label and the result id's place
        holding the declaration's decoration class."""
        rows = self.rows.copy()
        rows[self.id_mask] = label[self.operands]
        rows[:, self.result_off] = own[self.ids]
        if self.length_col is not None:
            values = self.length_col < 0
            rows[values, 3] = self.length_col[values]
        return rows


def _refine(groups: list[_Group], label: np.ndarray, *, own: np.ndarray) -> np.ndarray:
    """One round: each declaration's class becomes that of the first declaration of its
    group making the same row. Classes only split: the rows hold the literals and
    decorations the first round grouped by, and operand labels only ever get finer. So a
    class keeps its first declaration's id as its label, and a label changes only where
    a class split. Labels are written after all groups are keyed: a round reads the
    previous round's only. Returns, per id, whether its label changed."""
    new: list[tuple[np.ndarray, np.ndarray]] = []
    for g in groups:
        first = _first_equal_row(g.key_rows(label, own)) if g.ids.size > 1 else \
            np.zeros(1, dtype=np.int64)
        new.append((g.ids, g.ids[first]))
    changed = np.zeros(label.size, dtype=bool)
    for ids, reps in new:
        changed[ids] = label[ids] != reps
        label[ids] = reps
    return changed


def _first_equal_row(rows: np.ndarray) -> np.ndarray:
    """Per row, the index of the first row equal to it."""
    n = rows.shape[0]
    varying = rows[:, (rows != rows[0]).any(axis=0)]
    if varying.shape[1] == 0:
        return np.zeros(n, dtype=np.int64)
    # Columns folded into one integer key (ranked again when the next would overflow):
    # sorting integers is far faster than sorting rows of bytes.
    key = np.zeros(n, dtype=np.int64)
    top = 0
    for c in range(varying.shape[1]):
        col = varying[:, c]
        col = col - col.min()
        span = int(col.max()) + 1
        if top and top >= (1 << 62) // span:
            _, key = np.unique(key, return_inverse=True)
            key = key.ravel().astype(np.int64)
            top = int(key.max()) + 1
        key = key * span + col
        top = max(top, 1) * span
    # The classes by an unstable sort, then each class's first row by one pass (a
    # stable sort, as return_index asks, is about twice as slow on 74,000 constants).
    _, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.ravel()
    return first_positions(inverse, int(inverse.max()) + 1)[inverse]


def _length_codes(m: Module, glob: np.ndarray, rid: np.ndarray) -> np.ndarray:
    """Per id: below zero for an integer OpConstant that is an array's length (equal
    values, equal codes), else 0."""
    codes = np.zeros(m.bound, dtype=np.int64)
    arrays = glob[(m.opcodes[glob] == Op.TypeArray) & (m.sizes[glob] == 4)]
    if not arrays.size:
        return codes
    lengths = unique(m.operand(arrays, Word.ARRAY_LENGTH).astype(np.int64))
    def_of = np.full(m.bound, -1, dtype=np.int64)
    def_of[rid[rid > 0]] = glob[rid > 0]
    at = def_of[lengths]
    ok = at >= 0
    sizes = m.sizes[at[ok]]  # one or two literal words (none: a 0-bit type's)
    ok[ok] = (m.opcodes[at[ok]] == Op.Constant) & (sizes >= 4) & (sizes <= 5)
    lengths, at = lengths[ok], at[ok]
    type_at = def_of[m.operand(at, Word.RESULT_TYPE).astype(np.int64)]
    ok = type_at >= 0
    ok[ok] = m.opcodes[type_at[ok]] == Op.TypeInt
    lengths, at = lengths[ok], at[ok]
    if not at.size:
        return codes
    s = m.starts[at]
    low = m.words[s + 3].astype(np.uint64)
    high = np.where(m.sizes[at] == 5, m.words[np.minimum(s + 4, m.words.size - 1)], 0)
    value = low | (high.astype(np.uint64) << np.uint64(32))
    _, inverse = np.unique(value, return_inverse=True)
    codes[lengths] = -1 - inverse.ravel().astype(np.int64)
    return codes


def _decoration_classes(m: Module, decos: Decorations, ids: np.ndarray) -> np.ndarray:
    """Per id: 0 when undecorated, else a small number shared by equal decoration sets
    (LinkageAttributes included; names are not decorations). Only `ids` are looked at."""
    classes = np.zeros(m.bound, dtype=np.int64)
    if not decos.by_target:
        return classes
    numbers: dict[tuple, int] = {}
    # The decorated targets among `ids`, found with one lookup (a big link classifies a
    # hundred thousand declarations and decorates a few of them).
    wanted = np.zeros(m.bound, dtype=bool)
    wanted[ids] = True
    targets = np.fromiter(decos.by_target, dtype=np.int64, count=len(decos.by_target))
    for target in targets[wanted[targets]].tolist():
        classes[target] = numbers.setdefault(
            decoration_key(m, decos.by_target[target], skip_linkage=False), len(numbers) + 1)
    return classes


# ---------------------------------------------------------------------------------------
# Types as people read them, and the first difference between two types


def _enum_name(kind: str, value: int) -> str:
    from ..grammar import grammar

    e = grammar().operand_kinds[kind].enumerants.get(value)
    return e.name if e else str(value)


def describe_type(m: Module, type_id: int, defs: dict[int, int] | None = None,
                  _depth: int = 0) -> str:
    """`fn(uint) -> float`, `pointer(StorageBuffer, struct{uint[]})`, `float[3]`."""
    defs = defs if defs is not None else global_defs(m)
    i = defs.get(type_id)
    if i is None or _depth > 6:
        return f"%{type_id}"
    ws = m.inst_words(i)
    op = opcode_of(ws[0])

    def sub(t: int) -> str:
        return describe_type(m, t, defs, _depth + 1)

    if op == Op.TypeVoid:
        return "void"
    if op == Op.TypeBool:
        return "bool"
    if op == Op.TypeInt and len(ws) >= 4:
        if ws[2] == 32:
            return "uint" if ws[3] == 0 else "int"
        return f"{'u' if ws[3] == 0 else 'i'}{ws[2]}"
    if op == Op.TypeFloat and len(ws) >= 3:
        return {16: "half", 32: "float", 64: "double"}.get(ws[2], f"f{ws[2]}")
    if op == Op.TypeVector and len(ws) >= 4:
        return f"{sub(ws[2])}x{ws[3]}"
    if op == Op.TypeMatrix and len(ws) >= 4:
        return f"mat({sub(ws[2])}, {ws[3]})"
    if op == Op.TypeArray and len(ws) >= 4:
        return f"{sub(ws[2])}[{_constant_text(m, ws[3], defs)}]"
    if op == Op.TypeRuntimeArray and len(ws) >= 3:
        return f"{sub(ws[2])}[]"
    if op == Op.TypeStruct:
        return "struct{" + ", ".join(sub(t) for t in ws[2:]) + "}"
    if op == Op.TypePointer and len(ws) >= 4:
        return f"pointer({_enum_name('StorageClass', ws[2])}, {sub(ws[3])})"
    if op == Op.TypeFunction and len(ws) >= 3:
        return "fn(" + ", ".join(sub(t) for t in ws[3:]) + f") -> {sub(ws[2])}"
    from ..grammar import grammar

    return grammar().opname(op)[len("OpType"):].lower() or f"%{type_id}"


def _constant_text(m: Module, cid: int, defs: dict[int, int]) -> str:
    """An integer constant's value; a spec constant as `spec <default>` (with its SpecId
    where it has one) or `spec <operation>`; anything else by its id."""
    i = defs.get(cid)
    if i is None:
        return f"%{cid}"
    ws = m.inst_words(i)
    op = opcode_of(ws[0])
    value = str(ws[3] | (ws[4] << 32 if len(ws) == 5 else 0)) if len(ws) in (4, 5) else None
    if op == Op.Constant and value is not None:
        return value
    if op == Op.SpecConstant and value is not None:
        spec_id = [d[3] for d in _own_decorations(m, cid)
                   if opcode_of(d[0]) == Op.Decorate and d[2] == Decoration.SpecId and len(d) > 3]
        return f"spec {value}" + (f" (SpecId {spec_id[0]})" if spec_id else "")
    if op == Op.SpecConstantOp and len(ws) > 3:
        from ..grammar import grammar

        return f"spec {grammar().opname(ws[3]).removeprefix('Op')}(...)"
    return f"%{cid}"


def _own_decorations(m: Module, target: int) -> list[list[int]]:
    return [m.inst_words(i) for i in decorations(m, linkage=False).by_target.get(target, [])]


def describe_decorations(rows: tuple[tuple[int, ...], ...]) -> str:
    """Decoration rows (from `facts.decoration_key`, target word dropped) as `Offset 4, Block`."""
    if not rows:
        return "no decorations"
    parts = []
    for row in rows:
        op, rest = row[0], row[1:]
        if op in (Op.MemberDecorate, Op.MemberDecorateString) and len(rest) >= 2:
            args = " ".join(str(x) for x in rest[2:])
            parts.append(f"member {rest[0]} {_enum_name('Decoration', rest[1])}"
                         f"{' ' + args if args else ''}")
        elif rest:
            args = " ".join(str(x) for x in rest[1:])
            parts.append(f"{_enum_name('Decoration', rest[0])}{' ' + args if args else ''}")
    return ", ".join(parts)


class Difference(NamedTuple):
    """Where two types first differ (`member 1`, `pointee`, `parameter 0`, or `` for the
    types themselves) and what each side has there."""

    path: str
    left: str
    right: str


def first_difference(m: Module, a: int, b: int) -> Difference | None:
    """The first place where types (or constants) `a` and `b` differ, depth first; None
    when they have the same identity."""
    ident = type_identity(m)
    defs = global_defs(m)
    decos = decorations(m, linkage=False)
    seen: set[tuple[int, int]] = set()

    def describe(t: int) -> str:
        i = defs.get(t)
        if i is not None and int(m.opcodes[i]) in CLASSIFIED_CONSTANTS | {Op.SpecConstantOp}:
            return _constant_text(m, t, defs)
        return describe_type(m, t, defs)

    def own_decorations(t: int) -> tuple[tuple[int, ...], ...]:
        return decoration_key(m, decos.by_target.get(t, []), skip_linkage=False)

    def walk(x: int, y: int, path: str) -> Difference | None:
        if ident.same(x, y) or (x, y) in seen:
            return None
        seen.add((x, y))
        ix, iy = defs.get(x), defs.get(y)
        if ix is None or iy is None:
            return Difference(path, f"%{x}", f"%{y}")
        wx, wy = m.inst_words(ix), m.inst_words(iy)
        if wx[0] != wy[0]:
            return Difference(path, describe(x), describe(y))
        dx, dy = own_decorations(x), own_decorations(y)
        if dx != dy:
            return _decoration_difference(path, dx, dy)
        off = int(opcode_facts().result_offset[opcode_of(wx[0])])
        ids_x = _id_offsets(m, ix)
        for k in range(off + 1, len(wx)):
            if k not in ids_x:
                if wx[k] != wy[k]:
                    return Difference(path, describe(x), describe(y))
                continue
            if opcode_of(wx[0]) == Op.TypeArray and k == 3:
                lx, ly = _constant_text(m, wx[3], defs), _constant_text(m, wy[3], defs)
                if lx != ly or lx.startswith("%"):
                    sub = walk(wx[3], wy[3], _join(path, "length"))
                    if sub is not None:
                        return sub
                continue
            sub = walk(wx[k], wy[k], _join(path, _operand_place(opcode_of(wx[0]), k)))
            if sub is not None:
                return sub
        return None

    return walk(a, b, "")


def _decoration_difference(path: str, dx: tuple, dy: tuple) -> Difference:
    """Name the decorations on one side only, per member where they are member ones."""
    only_x = [r for r in dx if r not in dy]
    only_y = [r for r in dy if r not in dx]
    members = {r[1] for r in only_x + only_y if r[0] in (Op.MemberDecorate,
                                                         Op.MemberDecorateString)}
    if len(members) == 1 and all(r[0] in (Op.MemberDecorate, Op.MemberDecorateString)
                                 for r in only_x + only_y):
        k = members.pop()

        def strip(rows: list) -> str:
            return describe_decorations(tuple((Op.Decorate, *r[2:]) for r in rows)) \
                if rows else "nothing"
        return Difference(_join(path, f"member {k}"), strip(only_x), strip(only_y))
    return Difference(path, describe_decorations(tuple(only_x)) if only_x else "nothing",
                      describe_decorations(tuple(only_y)) if only_y else "nothing")


def _join(path: str, step: str) -> str:
    return f"{path}, {step}" if path else step


def _operand_place(op: int, k: int) -> str:
    """What operand word `k` of a type or constant is, as people say it."""
    if op == Op.TypeStruct:
        return f"member {k - 2}"
    if op == Op.TypeFunction:
        return "return type" if k == 2 else f"parameter {k - 3}"
    if op == Op.TypePointer:
        return "pointee"
    if op in (Op.TypeArray, Op.TypeRuntimeArray, Op.TypeVector, Op.TypeMatrix):
        return "element"
    if k == 1:
        return "type"
    return f"operand {k - 2}"


def _id_offsets(m: Module, i: int) -> set[int]:
    s = int(m.starts[i])
    lo, hi = np.searchsorted(m.id_pos, [s, s + int(m.sizes[i])])
    return set((m.id_pos[lo:hi] - s).tolist())
