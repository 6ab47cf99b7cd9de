"""read(bytes) -> Module: decode a SPIR-V binary into the word array and its index.

The hot loop looks at each instruction's header word once. Where the header alone
decides the layout (most instructions), the plan (id offsets, plus the enum operands
to check) comes from a memo shared by every read in the process; instructions whose
layout depends on enum values, strings or other instructions are walked through the
grammar. Afterwards, with numpy and for all instructions at once: id positions are
expanded from the plans, enum values and constant widths are checked, and every id is
checked against the bound.

This is the chokepoint where low-level failures become `ParseError`s.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any

from ..errors import ParseError
from ..grammar import OperandKind, grammar
from ..grammar.walk import WalkContext, WalkError, walk
from ..ir.layout import Section
from ..ir.module import MAGIC, Module, ModuleFacts, compute_sections, unique
from ..spec import Op

HEADER_WORDS = 5
MAX_MINOR = 6

# Process-wide memo of layouts. A plan is (id offsets, enum checks, string span); a check
# is (word offset, operand kind) for an enum value that must be known but does not change
# the layout; the span (first, end) covers one string that must end exactly at `end`.
# Checks and spans are verified after the loop, for all instructions at once.
_Plan = tuple[tuple[int, ...], tuple[tuple[int, str], ...], tuple[int, ...]]
_plans: list[_Plan] = []
_plan_index: dict[_Plan, int] = {}
# header word -> plan, for instructions whose layout the header alone decides
_fixed: dict[int, int] = {}
# header word (or ext-inst key) -> (dep offsets, {dep values: plan})
_guarded: dict[Any, tuple[tuple[int, ...], dict[tuple[int, ...], int]]] = {}
_plan_arrays: tuple[int, Any, Any, Any] | None = None
_plan_meta_cache: tuple[int, Any, Any, Any, Any] | None = None

_WIDTH_OPS = (Op.TypeInt, Op.TypeFloat)
_CONSTANT_OPS = (Op.Constant, Op.SpecConstant)
_EXT_INST_OPS = (Op.ExtInst, Op.ExtInstWithForwardRefsKHR)
# Layout fixed by the header, but the literal width comes from the result type: checked
# for all such instructions at once after the loop.
_WIDTH_CHECKED = frozenset(_CONSTANT_OPS)


def _intern(offsets: list[int], checks: list[tuple[int, OperandKind]] | tuple = (),
            span: tuple[int, ...] = ()) -> int:
    key: _Plan = (tuple(offsets), tuple((off, kind.kind) for off, kind in checks), span)
    idx = _plan_index.get(key)
    if idx is None:
        idx = len(_plans)
        _plans.append(key)
        _plan_index[key] = idx
    return idx


def _plan_tables() -> tuple[Any, Any, Any]:
    """(lengths, first offset index, flat offsets) of all plans; rebuilt when plans grow."""
    global _plan_arrays
    import numpy as np

    if _plan_arrays is None or _plan_arrays[0] != len(_plans):
        lengths = np.array([len(p[0]) for p in _plans], dtype=np.int64)
        plan_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        flat = np.array([o for p in _plans for o in p[0]], dtype=np.int64)
        _plan_arrays = (len(_plans), lengths, plan_start, flat)
    return _plan_arrays[1], _plan_arrays[2], _plan_arrays[3]


def _plan_meta() -> tuple[Any, Any, Any, Any]:
    """Per plan: has enum checks, has a string span, span first, span end."""
    global _plan_meta_cache
    import numpy as np

    if _plan_meta_cache is None or _plan_meta_cache[0] != len(_plans):
        has_checks = np.array([bool(p[1]) for p in _plans], dtype=bool)
        has_span = np.array([bool(p[2]) for p in _plans], dtype=bool)
        first = np.array([p[2][0] if p[2] else 0 for p in _plans], dtype=np.int64)
        end = np.array([p[2][1] if p[2] else 0 for p in _plans], dtype=np.int64)
        _plan_meta_cache = (len(_plans), has_checks, has_span, first, end)
    return _plan_meta_cache[1:]


def _zero_byte(words: Any) -> Any:
    """Per word: does it hold a zero byte (the end of a string)?"""
    import numpy as np

    w = words.astype(np.uint32)
    return ((w - np.uint32(0x01010101)) & ~w & np.uint32(0x80808080)) != 0


def _first_bad(words: Any, starts: Any, sizes: Any, opcodes: Any, plan_of: Any,
               scope: Any = None) -> int | None:
    """Index of the first instruction whose deferred checks fail: an unknown enum value
    or a string that does not end exactly where its plan says; failing those, a constant
    whose width disagrees with its type (`scope`: see `_bad_constant`)."""
    import numpy as np

    if not plan_of.size:
        return None
    has_checks, has_span, span_first, span_end = _plan_meta()
    g = grammar()
    bad: list[int] = []
    sel = np.flatnonzero(has_checks[plan_of])
    if sel.size:
        sel_plans = plan_of[sel]
        for p in unique(sel_plans).tolist():
            rows = sel[sel_plans == p]
            for off, kind_name in _plans[p][1]:
                kind = g.operand_kinds[kind_name]
                values = words[starts[rows] + off]
                if kind.is_bit_enum:
                    known = 0
                    for v in kind.enumerants:
                        known |= v
                    wrong = (values & np.uint32(~known & 0xFFFFFFFF)) != 0
                else:
                    wrong = ~np.isin(values, np.fromiter(kind.enumerants, dtype=np.int64),
                                     kind="table")  # (a sort would import numpy.ma)
                if wrong.any():
                    bad.append(int(rows[np.argmax(wrong)]))
    sel = np.flatnonzero(has_span[plan_of])
    if sel.size:
        first = starts[sel] + span_first[plan_of[sel]]
        end = starts[sel] + span_end[plan_of[sel]]
        ok = _zero_byte(words[end - 1])
        inner = end - 1 - first
        total = int(inner.sum())
        if total:
            at = np.repeat(first - (np.cumsum(inner) - inner), inner) + \
                np.arange(total, dtype=np.int64)
            zeros = np.bincount(np.repeat(np.arange(sel.size), inner),
                                weights=_zero_byte(words[at]), minlength=sel.size)
            ok &= zeros == 0
        if not ok.all():
            bad.append(int(sel[np.argmax(~ok)]))
    return min(bad) if bad else _bad_constant(words, starts, sizes, opcodes, scope)


class _State:
    """Per-read facts that later instructions depend on, gathered lazily: only OpSwitch
    and a malformed constant need the types of earlier instructions."""

    def __init__(self, lst: list[int], starts: Sequence[int]) -> None:
        self.lst = lst
        self.starts = starts
        self.facts = ModuleFacts()
        self.scanned = 0

    def observe(self, ws: Sequence[int]) -> None:
        self.facts.observe(ws)

    def _scan(self) -> None:
        lst = self.lst
        for s in self.starts[self.scanned:]:
            self.facts.observe(lst[s:s + (lst[s] >> 16)])
        self.scanned = len(self.starts)

    def type_width(self, type_id: int) -> int | None:
        if type_id not in self.facts.widths:
            self._scan()
        return self.facts.widths.get(type_id)

    def value_width(self, value: int) -> int | None:
        if value not in self.facts.value_type:
            self._scan()
        t = self.facts.value_type.get(value)
        return None if t is None else self.type_width(t)

    def ext_set_name(self, set_id: int) -> str | None:
        return self.facts.ext.get(set_id)

    def context(self) -> WalkContext:
        return WalkContext(type_width=self.type_width, value_width=self.value_width,
                           ext_set_name=self.ext_set_name)


class _Decoded:
    """One module after the Python pass: header fields, words, instruction starts, plans."""

    __slots__ = ("version", "generator", "bound", "schema", "words", "lst", "starts",
                 "plan_of", "state")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        import numpy as np

        n_bytes = len(data)
        if n_bytes == 0:
            raise ParseError("empty input", offset=0)
        if n_bytes % 4:
            raise ParseError(f"length {n_bytes} is not a multiple of 4",
                             offset=n_bytes - n_bytes % 4)
        if n_bytes < HEADER_WORDS * 4:
            raise ParseError(f"fewer than {HEADER_WORDS} header words ({n_bytes // 4})", offset=0)
        arr = np.frombuffer(data, dtype="<u4")
        magic = int(arr[0])
        if magic == MAGIC:
            arr = arr.astype(np.uint32, copy=False)  # a read-only view on little-endian hosts
        elif magic == 0x03022307:
            arr = arr.byteswap().astype(np.uint32)
        else:
            raise ParseError(f"bad magic number {magic:#010x}", offset=0)
        version = int(arr[1])
        major, minor = (version >> 16) & 0xFF, (version >> 8) & 0xFF
        if version & 0xFF0000FF or major != 1 or minor > MAX_MINOR:
            raise ParseError(f"unknown SPIR-V version word {version:#010x}", offset=4)
        self.version, self.generator = version, int(arr[2])
        self.bound, self.schema = int(arr[3]), int(arr[4])
        self.words = arr[HEADER_WORDS:]
        lst: list[int] = self.words.tolist()
        n = len(lst)
        # Compact arrays, not lists: a big link holds these for every input at once.
        starts = array("q")
        plan_of = array("q")
        add_start = starts.append
        add_plan = plan_of.append
        fixed_get = _fixed.get
        state = _State(lst, starts)
        pos = 0
        while pos < n:
            hdr = lst[pos]
            p = fixed_get(hdr)
            if p is None:
                p = _slow(lst, pos, hdr, len(starts), state)
            add_start(pos)
            add_plan(p)
            pos += hdr >> 16
        if pos != n:
            last = starts[-1]
            raise ParseError(
                f"instruction of {lst[last] >> 16} words runs past the end of the module",
                offset=(HEADER_WORDS + last) * 4, index=len(starts) - 1,
                opname=grammar().opname(lst[last] & 0xFFFF))
        self.lst, self.starts, self.plan_of, self.state = lst, starts, plan_of, state


def read(data: bytes | bytearray | memoryview, *, source: str | None = None) -> Module:
    """Decode a little- or big-endian SPIR-V binary."""
    import numpy as np

    d = _Decoded(data)
    words = d.words
    st = np.frombuffer(d.starts, dtype=np.int64)
    plans_arr = np.frombuffer(d.plan_of, dtype=np.int64)
    sizes = (words[st] >> 16).astype(np.int64) if st.size else np.zeros(0, np.int64)
    opcodes = (words[st] & 0xFFFF).astype(np.int64) if st.size else np.zeros(0, np.int64)
    bad = _first_bad(words, st, sizes, opcodes, plans_arr)
    if bad is not None:
        raise _fail_at(d.lst, int(st[bad]), bad, d.state)
    id_pos, id_inst = _expand_ids(st, plans_arr)
    _check_ids(words, id_pos, id_inst, opcodes, d.bound)
    return Module(version=d.version, generator=d.generator, bound=d.bound, schema=d.schema,
                  words=words, starts=st, sizes=sizes, opcodes=opcodes,
                  sections=compute_sections(opcodes), id_pos=id_pos, id_inst=id_inst,
                  source=source)


def read_many(datas: Sequence[bytes | bytearray | memoryview],
              sources: Sequence[str | None] | None = None) -> list[Module]:
    """Read many modules at once: the Python pass per module, the numpy work once for all.

    The modules share storage (views into common arrays); treat them as read-only, as
    every Module. A module that fails a check is read again alone, for the precise error.
    """
    import numpy as np

    srcs = list(sources) if sources is not None else [None] * len(datas)
    if len(datas) < 4:
        return [read(d, source=s) for d, s in zip(datas, srcs, strict=True)]
    decoded = []
    for k, data in enumerate(datas):
        try:
            d = _Decoded(data)
        except ParseError as exc:
            exc.source = srcs[k]
            raise
        # The word list is only needed for error messages (read() redoes it): free it.
        d.lst = d.state.lst = []
        decoded.append(d)
    # int32/uint32 throughout: these arrays are the peak of a big link's memory.
    i32 = np.int32
    n_words = np.array([d.words.size for d in decoded], dtype=np.int64)
    n_inst = np.array([len(d.starts) for d in decoded], dtype=np.int64)
    word_base = np.concatenate([[0], np.cumsum(n_words)])
    inst_base = np.concatenate([[0], np.cumsum(n_inst)])
    words = np.concatenate([d.words for d in decoded])
    local_starts = np.concatenate([np.frombuffer(d.starts, dtype=np.int64).astype(i32)
                                   for d in decoded])
    st = local_starts + np.repeat(word_base[:-1].astype(i32), n_inst)
    plans_arr = np.concatenate([np.frombuffer(d.plan_of, dtype=np.int64).astype(i32)
                                for d in decoded])
    for d in decoded:
        d.starts = d.plan_of = array("q")  # copied above
    head = words[st]
    sizes = (head >> 16).astype(i32)
    opcodes = (head & 0xFFFF).astype(i32)
    del head
    id_pos, id_inst = _expand_ids(st, plans_arr)
    id_count = np.bincount(np.repeat(np.arange(len(decoded), dtype=i32), n_inst),
                           weights=_plan_tables()[0][plans_arr],
                           minlength=len(decoded)).astype(np.int64)
    bounds = np.array([d.bound for d in decoded], dtype=np.uint32)
    bad_ids = _first_bad_id(words, id_pos, np.repeat(bounds, id_count)) is not None
    scope = np.repeat(np.arange(len(decoded), dtype=np.int64), n_inst)
    if bad_ids or _first_bad(words, st, sizes, opcodes, plans_arr, scope) is not None:
        for data, src in zip(datas, srcs, strict=True):
            read(data, source=src)  # raises with the exact place
    del scope, st, plans_arr
    id_base = np.concatenate([[0], np.cumsum(id_count)])
    sections = _sections_of_many(opcodes, inst_base)
    out = []
    for k, d in enumerate(decoded):
        i0, i1 = int(inst_base[k]), int(inst_base[k + 1])
        j0, j1 = int(id_base[k]), int(id_base[k + 1])
        w0 = int(word_base[k])
        # Rebase this module's id arrays in place: they are views of the batch's arrays.
        id_pos[j0:j1] -= w0
        id_inst[j0:j1] -= i0
        out.append(Module(
            version=d.version, generator=d.generator, bound=d.bound, schema=d.schema,
            words=words[w0:int(word_base[k + 1])], starts=local_starts[i0:i1],
            sizes=sizes[i0:i1], opcodes=opcodes[i0:i1], sections=sections[i0:i1],
            id_pos=id_pos[j0:j1], id_inst=id_inst[j0:j1], source=srcs[k]))
    return out


def _sections_of_many(opcodes: Any, inst_base: Any) -> Any:
    """`compute_sections` for many modules laid end to end (inst_base: their starts)."""
    import numpy as np

    sections = compute_sections(np.where(opcodes == Op.Function, Op.Nop, opcodes))
    n = opcodes.size
    fn_at = np.where(opcodes == Op.Function, np.arange(n, dtype=np.int64), n)
    starts = inst_base[:-1]
    nonempty = inst_base[1:] > starts
    first_fn = np.full(starts.size, n, dtype=np.int64)
    if nonempty.any():
        first_fn[nonempty] = np.minimum.reduceat(fn_at, starts[nonempty])
    first_fn = np.minimum(first_fn, inst_base[1:])  # a module without functions
    marks = np.zeros(n + 1, dtype=np.int64)
    np.add.at(marks, first_fn, 1)
    np.add.at(marks, inst_base[1:], -1)
    sections[np.cumsum(marks[:-1]) > 0] = int(Section.FUNCTION)
    return sections


def _expand_ids(starts: Any, plan_of: Any) -> tuple[Any, Any]:
    """Id word positions of every instruction, vectorised over the plan table."""
    import numpy as np

    # int32 throughout: the Module stores these as int32, and a big batch has millions.
    i32 = np.int32
    lengths, plan_start, flat = _plan_tables()
    k = lengths[plan_of].astype(i32) if plan_of.size else np.zeros(0, i32)
    total = int(k.sum())
    if total == 0:
        return np.zeros(0, i32), np.zeros(0, i32)
    id_inst = np.repeat(np.arange(starts.size, dtype=i32), k)
    first = np.cumsum(k, dtype=i32) - k  # index of each instruction's first id
    # offset index = plan start + position within the instruction's ids
    at = np.arange(total, dtype=i32)
    at += np.repeat((plan_start[plan_of] - first).astype(i32), k)
    id_pos = starts.astype(i32)[id_inst]
    id_pos += flat.astype(i32)[at]
    return id_pos, id_inst


def _fail_at(lst: list[int], start: int, index: int, state: _State) -> ParseError:
    """Walk one instruction the vectorised checks flagged, for the precise error."""
    ws = lst[start:start + (lst[start] >> 16)]
    opcode = ws[0] & 0xFFFF
    g = grammar()
    try:
        walk(ws, state.context())
    except WalkError as exc:
        return ParseError(exc.message, offset=(HEADER_WORDS + start + exc.word) * 4,
                          index=index, opname=g.opname(opcode))
    return ParseError("malformed instruction", offset=(HEADER_WORDS + start) * 4, index=index,
                      opname=g.opname(opcode))


def _bad_constant(words: Any, starts: Any, sizes: Any, opcodes: Any,
                  scope: Any = None) -> int | None:
    """Index of the first OpConstant/OpSpecConstant whose width disagrees with its type.

    `scope` numbers the module of each instruction when several are checked at once, so
    that ids are looked up in their own module.
    """
    import numpy as np

    consts = np.flatnonzero((opcodes == Op.Constant) | (opcodes == Op.SpecConstant))
    if not consts.size:
        return None
    types = np.flatnonzero(np.isin(opcodes, list(_WIDTH_OPS)))
    type_ids = words[starts[types] + 1].astype(np.int64)
    rtype = words[starts[consts] + 1].astype(np.int64)
    if scope is not None:
        type_ids = type_ids + (scope[types] << 32)
        rtype = rtype + (scope[consts] << 32)
    order = np.argsort(type_ids)
    type_ids = type_ids[order]
    type_widths = words[starts[types] + 2].astype(np.int64)[order]
    if type_ids.size:
        at = np.minimum(np.searchsorted(type_ids, rtype), type_ids.size - 1)
        w = np.where(type_ids[at] == rtype, type_widths[at], 0)
    else:
        w = np.zeros(rtype.size, dtype=np.int64)
    expected = np.where(w > 32, 5, 4)
    bad = (w == 0) | (sizes[consts] != expected)
    if bad.any():
        return int(consts[np.argmax(bad)])
    return None


def _first_bad_id(words: Any, id_pos: Any, bound: Any) -> int | None:
    """Position in `id_pos` of the first id that is 0 or not below `bound` (one bound,
    or one per id when modules are checked together)."""
    import numpy as np

    if not id_pos.size:
        return None
    ids = words[id_pos]
    bad = (ids == 0) | (ids >= bound)
    return int(np.argmax(bad)) if bad.any() else None


def _check_ids(words: Any, id_pos: Any, id_inst: Any, opcodes: Any, bound: int) -> None:
    j = _first_bad_id(words, id_pos, bound)
    if j is not None:
        i = int(id_inst[j])
        value = int(words[id_pos[j]])
        what = "id 0 is not a valid id" if value == 0 else f"id {value} is not below the bound {bound}"
        raise ParseError(what, offset=(HEADER_WORDS + int(id_pos[j])) * 4, index=i,
                         opname=grammar().opname(int(opcodes[i])))


_STRING_FAST = frozenset({Op.Name, Op.MemberName, Op.Decorate})
_LINKAGE_ATTRIBUTES = 41


def _string_fast(ws: list[int], opcode: int, hdr: int) -> int | None:
    """Plans for the commonest string-bearing instructions, remembered by header (the
    string's extent follows from the word count) and checked after the loop; None sends
    an instruction that does not fit to the walk."""
    wc = len(ws)
    if opcode == Op.Name and wc >= 3:
        p = _intern([1], span=(2, wc))
    elif opcode == Op.MemberName and wc >= 4:
        p = _intern([1], span=(3, wc))
    elif opcode == Op.Decorate and wc >= 5 and ws[2] == _LINKAGE_ATTRIBUTES:
        # OpDecorate %target LinkageAttributes "name" LinkageType
        p = _intern([1], [(wc - 1, grammar().operand_kinds["LinkageType"])], (3, wc - 1))
        entry = _guarded.setdefault(hdr, ((2,), {}))
        if entry[0] == (2,):
            entry[1][(_LINKAGE_ATTRIBUTES,)] = p
        return p
    else:
        return None
    _fixed[hdr] = p
    return p


def _slow(lst: list[int], pos: int, hdr: int, index: int, state: _State) -> int:
    """Decode an instruction the fixed memo does not cover; returns its plan."""
    wc = hdr >> 16
    opcode = hdr & 0xFFFF
    g = grammar()

    def fail(message: str, word: int = 0) -> ParseError:
        return ParseError(message, offset=(HEADER_WORDS + pos + word) * 4, index=index,
                          opname=g.opname(opcode) if opcode in g.instructions else None)

    if wc == 0:
        raise fail("instruction word count is 0")
    if pos + wc > len(lst):
        raise fail(f"instruction of {wc} words runs past the end of the module")
    if opcode not in g.instructions:
        raise fail(f"unknown opcode {opcode}")
    ws = lst[pos:pos + wc]

    if opcode in _WIDTH_CHECKED and wc in (4, 5):
        p = _intern([1, 2])
        _fixed[hdr] = p  # the width is checked after the loop, for all constants at once
        return p

    key: Any = hdr
    if opcode in _STRING_FAST:
        entry = _guarded.get(key)
        hit = entry[1].get(tuple(ws[d] for d in entry[0])) if entry is not None else None
        if hit is not None:
            return hit
        fast = _string_fast(ws, opcode, hdr)
        if fast is not None:
            return fast
    if opcode in _EXT_INST_OPS and wc >= 5:
        key = (state.ext_set_name(ws[3]), ws[4], hdr)
    entry = _guarded.get(key)
    if entry is not None:
        deps, sub = entry
        hit = sub.get(tuple(ws[d] for d in deps))
        if hit is not None:
            return hit

    try:
        res = walk(ws, state.context())
    except WalkError as exc:
        raise fail(exc.message, exc.word) from None

    if opcode == Op.ExtInstImport:
        state.observe(ws)

    if res.deps is None or opcode == Op.ExtInstImport:
        return _intern(res.id_offsets)  # depends on content: walked every time
    p = _intern(res.id_offsets, res.checks)
    if not res.deps and not isinstance(key, tuple):
        _fixed[hdr] = p  # enum checks, if any, run after the loop
        return p
    deps_t = tuple(res.deps)
    entry = _guarded.get(key)
    if entry is None or entry[0] != deps_t:
        entry = (deps_t, {})
        _guarded[key] = entry
    entry[1][tuple(ws[d] for d in deps_t)] = p
    return p
