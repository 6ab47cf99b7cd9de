"""read(bytes) -> Module: decode a SPIR-V binary into the word array and its index.

The hot loop looks at each instruction's header word once. Where the header alone
decides the layout (most instructions), the id offsets come from a memo shared by every
read in the process; other instructions are walked through the grammar. Id positions
are then expanded for all instructions at once with numpy.

This is the chokepoint where low-level failures become `ParseError`s.
"""

from __future__ import annotations

from typing import Any

from ..errors import ParseError
from ..grammar import grammar
from ..grammar.walk import WalkContext, WalkError, enum_allowed, walk
from ..ir.module import MAGIC, Module, compute_sections, decode_string
from ..spec import Op

HEADER_WORDS = 5
MAX_MINOR = 6

# Process-wide memo of layouts. A plan is a tuple of id offsets within an instruction.
_plans: list[tuple[int, ...]] = []
_plan_index: dict[tuple[int, ...], int] = {}
# header word -> plan, for instructions whose layout the header alone decides
_fixed: dict[int, int] = {}
# header word (or ext-inst key) -> (dep offsets, {dep values: (plan, enum checks)})
_Checks = tuple[tuple[int, Any], ...]
_guarded: dict[Any, tuple[tuple[int, ...], dict[tuple[int, ...], tuple[int, _Checks]]]] = {}

_WIDTH_OPS = (Op.TypeInt, Op.TypeFloat)
_CONSTANT_OPS = (Op.Constant, Op.SpecConstant)
_EXT_INST_OPS = (Op.ExtInst, Op.ExtInstWithForwardRefsKHR)


def _intern(offsets: list[int]) -> int:
    key = tuple(offsets)
    idx = _plan_index.get(key)
    if idx is None:
        idx = len(_plans)
        _plans.append(key)
        _plan_index[key] = idx
    return idx


class _State:
    """Per-read facts that later instructions depend on."""

    def __init__(self) -> None:
        self.widths: dict[int, int] = {}
        self.ext_names: dict[int, str] = {}
        self.value_types: dict[int, int] | None = None
        self.types_seen_upto = 0

    def context(self, lst: list[int], starts: list[int]) -> WalkContext:
        return WalkContext(
            type_width=self.widths.get,
            value_width=lambda v: self._value_width(v, lst, starts),
            ext_set_name=self.ext_names.get,
        )

    def _value_width(self, value: int, lst: list[int], starts: list[int]) -> int | None:
        # Built lazily: only OpSwitch needs the type of an arbitrary value.
        if self.value_types is None:
            self.value_types = {}
        g = grammar()
        for s in starts[self.types_seen_upto:]:
            info = g.instructions.get(lst[s] & 0xFFFF)
            if info is not None and info.has_result_type and info.has_result:
                self.value_types[lst[s + 2]] = lst[s + 1]
        self.types_seen_upto = len(starts)
        t = self.value_types.get(value)
        return None if t is None else self.widths.get(t)


def read(data: bytes | bytearray | memoryview, *, source: str | None = None) -> Module:
    """Decode a little- or big-endian SPIR-V binary."""
    import numpy as np

    n_bytes = len(data)
    if n_bytes == 0:
        raise ParseError("empty input", offset=0)
    if n_bytes % 4:
        raise ParseError(f"length {n_bytes} is not a multiple of 4", offset=n_bytes - n_bytes % 4)
    if n_bytes < HEADER_WORDS * 4:
        raise ParseError(f"fewer than {HEADER_WORDS} header words ({n_bytes // 4})", offset=0)
    arr = np.frombuffer(bytes(data), dtype="<u4")
    magic = int(arr[0])
    if magic == MAGIC:
        arr = arr.astype(np.uint32)
    elif magic == 0x03022307:
        arr = arr.byteswap().astype(np.uint32)
    else:
        raise ParseError(f"bad magic number {magic:#010x}", offset=0)
    version = int(arr[1])
    major, minor = (version >> 16) & 0xFF, (version >> 8) & 0xFF
    if version & 0xFF0000FF or major != 1 or minor > MAX_MINOR:
        raise ParseError(f"unknown SPIR-V version word {version:#010x}", offset=4)
    generator, bound, schema = int(arr[2]), int(arr[3]), int(arr[4])
    words = arr[HEADER_WORDS:].copy()
    lst: list[int] = words.tolist()
    n = len(lst)

    starts: list[int] = []
    plan_of: list[int] = []
    add_start = starts.append
    add_plan = plan_of.append
    fixed_get = _fixed.get
    state = _State()
    pos = 0
    while pos < n:
        hdr = lst[pos]
        p = fixed_get(hdr)
        if p is None:
            p = _slow(lst, pos, hdr, len(starts), state, starts)
        add_start(pos)
        add_plan(p)
        pos += hdr >> 16
    if pos != n:
        last = starts[-1]
        raise ParseError(
            f"instruction of {lst[last] >> 16} words runs past the end of the module",
            offset=(HEADER_WORDS + last) * 4, index=len(starts) - 1,
            opname=grammar().opname(lst[last] & 0xFFFF))

    st = np.array(starts, dtype=np.int64)
    plans_arr = np.array(plan_of, dtype=np.int64)
    sizes = (words[st] >> 16).astype(np.int64) if st.size else np.zeros(0, np.int64)
    opcodes = (words[st] & 0xFFFF).astype(np.int64) if st.size else np.zeros(0, np.int64)
    id_pos, id_inst = _expand_ids(st, plans_arr)
    _check_ids(words, id_pos, id_inst, st, opcodes, bound)
    return Module(version=version, generator=generator, bound=bound, schema=schema,
                  words=words, starts=st, sizes=sizes, opcodes=opcodes,
                  sections=compute_sections(opcodes), id_pos=id_pos, id_inst=id_inst,
                  source=source)


def _expand_ids(starts: Any, plan_of: Any) -> tuple[Any, Any]:
    """Id word positions of every instruction, vectorised over the plan table."""
    import numpy as np

    lengths = np.array([len(p) for p in _plans], dtype=np.int64)
    plan_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    flat = np.array([o for p in _plans for o in p], dtype=np.int64)
    k = lengths[plan_of] if plan_of.size else np.zeros(0, np.int64)
    total = int(k.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    id_inst = np.repeat(np.arange(starts.size, dtype=np.int64), k)
    first = np.cumsum(k) - k  # index of each instruction's first id in the output
    within = np.arange(total, dtype=np.int64) - np.repeat(first, k)
    offsets = flat[np.repeat(plan_start[plan_of], k) + within]
    return starts[id_inst] + offsets, id_inst


def _check_ids(words: Any, id_pos: Any, id_inst: Any, starts: Any, opcodes: Any,
               bound: int) -> None:
    import numpy as np

    if not id_pos.size:
        return
    ids = words[id_pos]
    bad = np.flatnonzero((ids == 0) | (ids >= bound))
    if bad.size:
        j = int(bad[0])
        i = int(id_inst[j])
        value = int(ids[j])
        what = "id 0 is not a valid id" if value == 0 else f"id {value} is not below the bound {bound}"
        raise ParseError(what, offset=(HEADER_WORDS + int(id_pos[j])) * 4, index=i,
                         opname=grammar().opname(int(opcodes[i])))


def _slow(lst: list[int], pos: int, hdr: int, index: int, state: _State,
          starts: list[int]) -> int:
    """Decode an instruction the memo does not cover; returns its plan."""
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

    if opcode in _CONSTANT_OPS and wc >= 3:
        width = state.widths.get(ws[1])
        if width is not None and wc == 3 + (2 if width > 32 else 1):
            return _intern([1, 2])
        # Otherwise the walk reports the precise problem.

    key: Any = hdr
    if opcode in _EXT_INST_OPS and wc >= 5:
        key = (state.ext_names.get(ws[3]), ws[4], hdr)
    entry = _guarded.get(key)
    if entry is not None:
        deps, sub = entry
        hit = sub.get(tuple(ws[d] for d in deps))
        if hit is not None:
            p, checks = hit
            for off, kind in checks:
                if not enum_allowed(kind, ws[off]):
                    raise fail(f"unknown {kind.kind} value {ws[off]}", off)
            return p

    try:
        res = walk(ws, state.context(lst, starts))
    except WalkError as exc:
        raise fail(exc.message, exc.word) from None

    if opcode in _WIDTH_OPS:
        state.widths[ws[1]] = ws[2]
    elif opcode == Op.ExtInstImport:
        state.ext_names[ws[1]] = decode_string(ws[2:])

    p = _intern(res.id_offsets)
    if res.deps is None or opcode in _WIDTH_OPS or opcode == Op.ExtInstImport:
        return p  # depends on content: walk it every time
    checks_t = tuple(res.checks)
    if not res.deps and not checks_t and not isinstance(key, tuple):
        _fixed[hdr] = p
        return p
    deps_t = tuple(res.deps)
    entry = _guarded.get(key)
    if entry is None or entry[0] != deps_t:
        entry = (deps_t, {})
        _guarded[key] = entry
    entry[1][tuple(ws[d] for d in deps_t)] = (p, checks_t)
    return p
