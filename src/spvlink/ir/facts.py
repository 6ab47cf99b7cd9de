"""Facts about a module that several passes need: functions, decorations, types.

Each helper reads the word arrays once and returns plain dicts and arrays; passes then
decide what to keep and how to remap.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import numpy as np

from .._words import opcode_of
from ..spec import Decoration, Op
from .layout import DECORATION_OPCODES, Section, Word
from .module import Module, decode_string, is_in, ranges, unique


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
                       m.words[starts[is_builtin] + Word.DECORATION_ARGS].tolist(), strict=True))
    entries = _linkage_entries(m, _linkage_decorations(m, ann[plain])) if linkage else []
    return Decorations(dict(by_target), entries, builtin)


def linkage_entries(m: Module) -> list[tuple[int, int, str, int]]:
    """(instruction, target, name, LinkageType) of every LinkageAttributes decoration, in
    order: `decorations(m).linkage` without indexing every other decoration."""
    return _linkage_entries(m, _linkage_decorations(m, m.indices_of(Op.Decorate)))


def _linkage_decorations(m: Module, decorates: np.ndarray) -> np.ndarray:
    """Those of the OpDecorate instructions `decorates` that are LinkageAttributes with a
    name and a type (five words or more)."""
    decorates = decorates[m.sizes[decorates] >= 5]
    return decorates[m.operand(decorates, Word.DECORATION) == Decoration.LinkageAttributes]


def _linkage_entries(m: Module, idx: np.ndarray) -> list[tuple[int, int, str, int]]:
    """(instruction, target, name, LinkageType) of LinkageAttributes decorations; the
    names are decoded from one buffer rather than one instruction at a time."""
    if not idx.size:
        return []
    s = m.starts[idx]
    size = m.sizes[idx]
    name_len = size - 4  # words between the decoration and the trailing linkage type
    first = s + 3
    raw = m.words[ranges(first, name_len)].astype("<u4").tobytes()
    # Each name ends at the first NUL of its words (or with them): found for all at once,
    # with the buffer's end standing in for a NUL after the last name.
    begin = np.cumsum(4 * name_len) - 4 * name_len
    nul = np.append(np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 0), len(raw))
    end = np.minimum(nul[np.searchsorted(nul, begin)], begin + 4 * name_len)
    if raw.isascii():  # then UTF-8 is ASCII: one decode, and the names are slices
        text = raw.decode("ascii")
        names = [text[a:e] for a, e in zip(begin.tolist(), end.tolist(), strict=True)]
    else:
        names = [raw[a:e].decode("utf-8", errors="surrogateescape")
                 for a, e in zip(begin.tolist(), end.tolist(), strict=True)]
    return list(zip(idx.tolist(), m.words[s + 1].tolist(), names,
                    m.words[s + size - 1].tolist(), strict=True))


_DECORATION_ARRAY = np.array(sorted(DECORATION_OPCODES), dtype=np.int64)


def decoration_key(m: Module, indices: list[int], *, skip_linkage: bool = True,
                   skip_param_attr: bool = False) -> tuple[tuple[int, ...], ...]:
    """A comparable summary of the decorations at `indices`, without the target word."""
    out = []
    for i in indices:
        ws = m.inst_words(i)
        op = opcode_of(ws[0])
        deco = ws[3] if op in (Op.MemberDecorate, Op.MemberDecorateString) else ws[2]
        if skip_linkage and deco == Decoration.LinkageAttributes:
            continue
        if skip_param_attr and deco == Decoration.FuncParamAttr:
            continue
        out.append((op, *ws[2:]))
    return tuple(sorted(out))


def entry_points(m: Module) -> list[tuple[int, int, str]]:
    """(instruction index, execution model, name) of each OpEntryPoint, in module order."""
    out = []
    for i in m.indices(Section.ENTRY_POINT).tolist():
        ws = m.inst_words(i)
        out.append((i, ws[1], decode_string(ws[3:])))
    return out


def global_defs(m: Module) -> dict[int, int]:
    """Result id -> instruction index, for instructions outside functions."""
    rid = m.result_ids
    idx = np.flatnonzero((rid > 0) & (m.sections != int(Section.FUNCTION)))
    return dict(zip(rid[idx].tolist(), idx.tolist(), strict=True))
