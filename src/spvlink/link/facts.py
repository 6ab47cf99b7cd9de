"""Facts about a module that several passes need: functions, decorations, types.

Each helper reads the word arrays once and returns plain dicts and arrays; passes then
decide what to keep and how to remap.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import numpy as np

from ..ir import Module, Section
from ..ir.layout import DECORATION_OPCODES
from ..ir.module import is_in, unique
from ..spec import Decoration, Op


class Functions(NamedTuple):
    """Where each function lies: instruction ranges and the owner of every instruction."""

    ids: np.ndarray  # result id of each function, in order
    first: np.ndarray  # index of its OpFunction
    last: np.ndarray  # index of its OpFunctionEnd
    owner: np.ndarray  # per instruction: index into `ids`, or -1 outside functions
    has_body: np.ndarray  # per function: has at least one OpLabel (a definition)

    def index_of(self) -> dict[int, int]:
        return dict(zip(self.ids.tolist(), range(self.ids.size), strict=True))


def functions(m: Module) -> Functions:
    """Function ranges of `m` (computed once per module: modules are immutable)."""
    return m._cached("functions", lambda: _functions(m))


def _functions(m: Module) -> Functions:
    starts = np.flatnonzero(m.opcodes == Op.Function)
    ends = np.flatnonzero(m.opcodes == Op.FunctionEnd)
    owner = np.full(len(m), -1, dtype=np.int64)
    if starts.size:
        marks = np.zeros(len(m) + 1, dtype=np.int64)
        marks[starts] += 1
        marks[ends + 1] -= 1
        inside = np.cumsum(marks[:-1]) > 0
        idx = np.cumsum(m.opcodes == Op.Function) - 1
        owner[inside] = idx[inside]
    labels = np.flatnonzero(m.opcodes == Op.Label)
    has_body = np.zeros(starts.size, dtype=bool)
    if labels.size and starts.size:
        has_body[unique(owner[labels][owner[labels] >= 0])] = True
    ids = m.result_ids[starts] if starts.size else np.zeros(0, np.int64)
    return Functions(ids=ids, first=starts, last=ends[: starts.size], owner=owner,
                     has_body=has_body)


class Decorations(NamedTuple):
    """Annotation instructions by target id (after decoration groups were flattened)."""

    by_target: dict[int, list[int]]  # target id -> instruction indices
    linkage: list[tuple[int, int, str, int]]  # (instruction, target, name, LinkageType)
    builtin: dict[int, int]  # target id -> BuiltIn value (whole-variable decorations)


def decorations(m: Module, *, linkage: bool = True) -> Decorations:
    """Decoration instructions by target, the BuiltIn ones and (unless `linkage` is
    False, which saves decoding every symbol name) the LinkageAttributes ones."""
    ann = m.indices(Section.ANNOTATION)
    ann = ann[is_in(m.opcodes[ann], _DECORATION_ARRAY)]
    starts = m.starts[ann]
    targets = m.words[starts + 1].astype(np.int64)
    by_target: dict[int, list[int]] = defaultdict(list)
    for t, i in zip(targets.tolist(), ann.tolist(), strict=True):
        by_target[t].append(i)
    plain = m.opcodes[ann] == Op.Decorate
    deco = np.where(plain, m.words[np.minimum(starts + 2, m.words.size - 1)], -1)
    is_builtin = plain & (deco == Decoration.BuiltIn) & (m.sizes[ann] >= 4)
    builtin = dict(zip(targets[is_builtin].tolist(),
                       m.words[starts[is_builtin] + 3].tolist(), strict=True))
    entries: list[tuple[int, int, str, int]] = []
    if linkage:
        is_link = plain & (deco == Decoration.LinkageAttributes) & (m.sizes[ann] >= 5)
        entries = _linkage_entries(m, ann[is_link])
    return Decorations(dict(by_target), entries, builtin)


def _linkage_entries(m: Module, idx: np.ndarray) -> list[tuple[int, int, str, int]]:
    """(instruction, target, name, LinkageType) of LinkageAttributes decorations; the
    names are decoded from one buffer rather than one instruction at a time."""
    if not idx.size:
        return []
    s = m.starts[idx]
    size = m.sizes[idx]
    name_len = size - 4  # words between the decoration and the trailing linkage type
    first = s + 3
    total = int(name_len.sum())
    gather = np.repeat(first - (np.cumsum(name_len) - name_len), name_len) + \
        np.arange(total, dtype=np.int64)
    raw = m.words[gather].astype("<u4").tobytes()
    out = []
    offset = 0
    for i, t, n, lt in zip(idx.tolist(), m.words[s + 1].tolist(), name_len.tolist(),
                           m.words[s + size - 1].tolist(), strict=True):
        chunk = raw[offset:offset + 4 * n]
        offset += 4 * n
        end = chunk.find(b"\0")
        out.append((i, t, chunk[: end if end >= 0 else len(chunk)].decode(
            "utf-8", errors="surrogateescape"), lt))
    return out


_DECORATION_ARRAY = np.array(sorted(DECORATION_OPCODES), dtype=np.int64)


def decoration_key(m: Module, indices: list[int], *, skip_linkage: bool = True,
                   skip_param_attr: bool = False) -> tuple[tuple[int, ...], ...]:
    """A comparable summary of the decorations at `indices`, without the target word."""
    out = []
    for i in indices:
        ws = m.inst_words(i)
        op = ws[0] & 0xFFFF
        deco = ws[3] if op in (Op.MemberDecorate, Op.MemberDecorateString) else ws[2]
        if skip_linkage and deco == Decoration.LinkageAttributes:
            continue
        if skip_param_attr and deco == Decoration.FuncParamAttr:
            continue
        out.append((op, *ws[2:]))
    return tuple(sorted(out))


def global_defs(m: Module) -> dict[int, int]:
    """Result id -> instruction index, for instructions outside functions."""
    rid = m.result_ids
    idx = np.flatnonzero((rid > 0) & (m.sections != int(Section.FUNCTION)))
    return dict(zip(rid[idx].tolist(), idx.tolist(), strict=True))


# ---------------------------------------------------------------------------------------
# Readable types, for diagnostics: `fn(uint) -> float`, `pointer(StorageBuffer, struct{uint[]})`


def _enum_name(kind: str, value: int) -> str:
    from ..grammar import grammar

    e = grammar().operand_kinds[kind].enumerants.get(value)
    return e.name if e else str(value)


def describe_type(m: Module, type_id: int, defs: dict[int, int] | None = None,
                  _depth: int = 0) -> str:
    defs = defs if defs is not None else global_defs(m)
    i = defs.get(type_id)
    if i is None or _depth > 6:
        return f"%{type_id}"
    ws = m.inst_words(i)
    op = ws[0] & 0xFFFF

    def sub(t: int) -> str:
        return describe_type(m, t, defs, _depth + 1)

    if op == Op.TypeVoid:
        return "void"
    if op == Op.TypeBool:
        return "bool"
    if op == Op.TypeInt:
        if ws[2] == 32:
            return "uint" if ws[3] == 0 else "int"
        return f"{'u' if ws[3] == 0 else 'i'}{ws[2]}"
    if op == Op.TypeFloat:
        return {16: "half", 32: "float", 64: "double"}.get(ws[2], f"f{ws[2]}")
    if op == Op.TypeVector:
        return f"{sub(ws[2])}x{ws[3]}"
    if op == Op.TypeMatrix:
        return f"mat({sub(ws[2])}, {ws[3]})"
    if op == Op.TypeArray:
        return f"{sub(ws[2])}[{_constant_text(m, ws[3], defs)}]"
    if op == Op.TypeRuntimeArray:
        return f"{sub(ws[2])}[]"
    if op == Op.TypeStruct:
        return "struct{" + ", ".join(sub(t) for t in ws[2:]) + "}"
    if op == Op.TypePointer:
        return f"pointer({_enum_name('StorageClass', ws[2])}, {sub(ws[3])})"
    if op == Op.TypeFunction:
        return "fn(" + ", ".join(sub(t) for t in ws[3:]) + f") -> {sub(ws[2])}"
    from ..grammar import grammar

    return grammar().opname(op)[len("OpType"):].lower() or f"%{type_id}"


def _constant_text(m: Module, cid: int, defs: dict[int, int]) -> str:
    i = defs.get(cid)
    if i is None:
        return f"%{cid}"
    ws = m.inst_words(i)
    if ws[0] & 0xFFFF == Op.Constant and len(ws) == 4:
        return str(ws[3])
    return f"%{cid}"


def types_equal(m: Module, a: int, b: int, defs: dict[int, int],
                assumed: set[tuple[int, int]] | None = None) -> bool:
    """Structural type equality, coinductive so recursive types compare correctly."""
    if a == b:
        return True
    assumed = assumed if assumed is not None else set()
    if (a, b) in assumed:
        return True
    ia, ib = defs.get(a), defs.get(b)
    if ia is None or ib is None:
        return False
    wa, wb = m.inst_words(ia), m.inst_words(ib)
    if wa[0] != wb[0]:
        return False
    assumed.add((a, b))
    ids_a = _operand_ids(m, ia)
    ids_b = _operand_ids(m, ib)
    if len(ids_a) != len(ids_b):
        return False
    # Literal words must match exactly; id words must be structurally equal.
    for off, (x, y) in enumerate(zip(wa[2:], wb[2:], strict=True), start=2):
        if off in ids_a:
            if not types_equal(m, x, y, defs, assumed):
                return False
        elif x != y:
            return False
    return True


def _operand_ids(m: Module, i: int) -> set[int]:
    s = int(m.starts[i])
    lo, hi = np.searchsorted(m.id_pos, [s, s + int(m.sizes[i])])
    return set((m.id_pos[lo:hi] - s).tolist())
