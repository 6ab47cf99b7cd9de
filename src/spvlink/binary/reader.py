"""read(bytes) -> Module: decode a SPIR-V binary into the word array and its index.

Everything is done for all instructions (of all modules read together) at once, with
numpy: instruction starts are the header-like words reachable from each module's first
word; each header's plan (id offsets, enum operands to check, string span) comes from a
memo shared by every read in the process, indexed by the header word; the memo is filled
by walking one instruction per header it lacks through the grammar, and instructions
whose layout depends on an operand or on earlier instructions are walked one by one.
Then id positions are expanded from the plans, enum values, strings and constant widths
are checked, and every id is checked against the bound. When a check fails, the module
is walked again instruction by instruction, which raises the error at its exact place.

This is the chokepoint where low-level failures become `ParseError`s."""

from __future__ import annotations

import _thread  # the lock alone: `threading` costs 0.7 ms of start-up
import os
from array import array
from collections.abc import Sequence
from typing import Any

from .._cores import usable_cores
from .._words import (
    HEADER_WORDS,
    MAGIC,
    MAGIC_SWAPPED,
    bound_error,
    opcode_of,
    version_error,
    word_count_of,
)
from ..errors import ParseError
from ..grammar import OperandKind, grammar
from ..grammar.walk import WalkError, literal_words, walk
from ..ir.context import DecodeContext
from ..ir.layout import (
    COMMON_STRING_OPCODES,
    EXT_INST_OPCODES,
    NUMERIC_TYPE_OPCODES,
    ORDER_DEPENDENT_OPCODES,
    TYPED_LITERAL_OPCODES,
    Section,
    Word,
)
from ..ir.module import (
    Module,
    compute_sections,
    is_in,
    opcode_facts,
    ranges,
    unique,
)
from ..spec import Decoration, Op

# A plan is (id offsets, enum checks, string span); a check is (word offset, operand kind)
# for an enum value that must be known but does not change the layout; the span (first,
# end) covers one string that must end exactly at `end`. Checks and spans are verified
# after the loop, for all instructions at once.
_Plan = tuple[tuple[int, ...], tuple[tuple[int, str], ...], tuple[int, ...]]

# Header word -> plan for `_PlanMemo.fixed` as a table, for all instructions at once:
# indexed by opcode slot and word count (below 64: longer instructions are rare); -1
# where not known.
_TABLE_WORDS = 64


class _PlanMemo:
    """The process-wide memo of instruction layouts ("plans"), shared by every read.

    Invariants:
    - `plans` only grows; a plan's number is its index: `index[plans[k]] == k`.
    - Every number stored in `fixed`, `guarded` and `fixed_table` indexes `plans`.
    - `fixed[hdr]`: the plan of every instruction with header word `hdr` (the header
      alone decides its layout); `fixed_table`, once made, holds the same for headers of
      known opcodes with fewer than `_TABLE_WORDS` words (-1 where none is known).
    - `guarded[key] = (deps, sub)`: an instruction with that key (its header word, or for
      `OpExtInst` (set name, instruction number, header)) has the plan
      `sub[values of its words at offsets deps]` where that entry exists.
    - The arrays of `tables()` and `meta()` describe at least every plan that existed
      when they were asked for (rebuilt when `plans` has grown).
    Writers hold `lock`. Readers need not: list and dict reads are atomic, and an entry
    missed while another thread adds it only sends an instruction to the walk.
    """

    def __init__(self) -> None:
        self.lock = _thread.allocate_lock()
        self.plans: list[_Plan] = []
        self.index: dict[_Plan, int] = {}
        self.fixed: dict[int, int] = {}
        self.guarded: dict[Any, tuple[tuple[int, ...], dict[tuple[int, ...], int]]] = {}
        self.fixed_table: Any = None
        self._tables: tuple[int, Any, Any, Any] | None = None
        self._meta: tuple[int, Any, Any, Any, Any] | None = None

    def intern(self, offsets: Sequence[int],
               checks: Sequence[tuple[int, OperandKind]] = (),
               span: tuple[int, ...] = ()) -> int:
        key: _Plan = (tuple(offsets), tuple((off, kind.kind) for off, kind in checks), span)
        idx = self.index.get(key)
        if idx is None:
            with self.lock:
                idx = self.index.get(key)
                if idx is None:
                    idx = len(self.plans)
                    self.plans.append(key)
                    self.index[key] = idx
        return idx

    def remember_fixed(self, hdr: int, plan: int) -> None:
        with self.lock:
            self.fixed[hdr] = plan
            if self.fixed_table is not None:
                key = _table_key(hdr)
                if key is not None:
                    self.fixed_table[key] = plan

    def remember_guarded(self, key: Any, deps: tuple[int, ...], values: tuple[int, ...],
                         plan: int) -> None:
        """Remember `plan` for `key` and these dep values; a key whose deps changed
        starts a new table (the old one described other offsets)."""
        with self.lock:
            entry = self.guarded.get(key)
            if entry is None or entry[0] != deps:
                entry = (deps, {})
                self.guarded[key] = entry
            entry[1][values] = plan

    def fixed_lookup(self, head: Any) -> Any:
        """Plans (int32) of instructions whose header alone decides; -1 for the others."""
        import numpy as np

        facts = opcode_facts()
        table = self.fixed_table
        if table is None:
            with self.lock:
                table = np.full(facts.n_known * _TABLE_WORDS, -1, dtype=np.int32)
                for hdr, plan in self.fixed.items():
                    key = _table_key(hdr)
                    if key is not None:
                        table[key] = plan
                self.fixed_table = table
        slot = facts.slot[head & 0xFFFF]
        wc = (head >> 16).astype(np.int32)
        in_table = (slot >= 0) & (wc < _TABLE_WORDS)
        # a key with no words is never a header: its entry stays -1
        keys = np.where(in_table, slot * _TABLE_WORDS + wc, 0)
        return table[keys]

    def tables(self) -> tuple[Any, Any, Any]:
        """(lengths, first offset index, flat offsets) of all plans."""
        import numpy as np

        cached = self._tables
        plans = self.plans
        if cached is None or cached[0] != len(plans):
            n = len(plans)
            lengths = np.array([len(p[0]) for p in plans[:n]], dtype=np.int64)
            plan_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
            flat = np.array([o for p in plans[:n] for o in p[0]], dtype=np.int64)
            cached = self._tables = (n, lengths, plan_start, flat)
        return cached[1], cached[2], cached[3]

    def meta(self) -> tuple[Any, Any, Any, Any]:
        """Per plan: has enum checks, has a string span, span first, span end."""
        import numpy as np

        cached = self._meta
        plans = self.plans
        if cached is None or cached[0] != len(plans):
            n = len(plans)
            has_checks = np.array([bool(p[1]) for p in plans[:n]], dtype=bool)
            has_span = np.array([bool(p[2]) for p in plans[:n]], dtype=bool)
            first = np.array([p[2][0] if p[2] else 0 for p in plans[:n]], dtype=np.int64)
            end = np.array([p[2][1] if p[2] else 0 for p in plans[:n]], dtype=np.int64)
            cached = self._meta = (n, has_checks, has_span, first, end)
        return cached[1:]


def _table_key(hdr: int) -> int | None:
    slot = int(opcode_facts().slot[opcode_of(hdr)])
    wc = word_count_of(hdr)
    return slot * _TABLE_WORDS + wc if slot >= 0 and wc < _TABLE_WORDS else None


_MEMO = _PlanMemo()


def _new_memo_lock() -> None:
    """In a forked child: a fork while another thread held the memo's lock would leave it
    held there for ever (the child has no such thread to release it)."""
    _MEMO.lock = _thread.allocate_lock()


os.register_at_fork(after_in_child=_new_memo_lock)


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
    has_checks, has_span, span_first, span_end = _MEMO.meta()
    g = grammar()
    bad: list[int] = []
    sel = np.flatnonzero(has_checks[plan_of])
    if sel.size:
        sel_plans = plan_of[sel]
        for p in unique(sel_plans).tolist():
            rows = sel[sel_plans == p]
            for off, kind_name in _MEMO.plans[p][1]:
                kind = g.operand_kinds[kind_name]
                values = words[starts[rows] + off]
                if kind.is_bit_enum:
                    known = 0
                    for v in kind.enumerants:
                        known |= v
                    wrong = (values & np.uint32(~known & 0xFFFFFFFF)) != 0
                else:
                    wrong = ~is_in(values, np.fromiter(kind.enumerants, dtype=np.int64))
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
            at = ranges(first, inner)
            zeros = np.bincount(np.repeat(np.arange(sel.size), inner),
                                weights=_zero_byte(words[at]), minlength=sel.size)
            ok &= zeros == 0
        if not ok.all():
            bad.append(int(sel[np.argmax(~ok)]))
    return min(bad) if bad else _bad_constant(words, starts, sizes, opcodes, scope)


class _Header:
    """A module's header fields and its words after the header, in host byte order."""

    __slots__ = ("version", "generator", "bound", "schema", "words")

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
        elif magic == MAGIC_SWAPPED:
            arr = arr.byteswap().astype(np.uint32)
        else:
            raise ParseError(f"bad magic number {magic:#010x}", offset=0)
        version = int(arr[1])
        problem = version_error(version)
        if problem is not None:
            raise ParseError(problem, offset=4)
        self.version, self.generator = version, int(arr[2])
        self.bound, self.schema = int(arr[3]), int(arr[4])
        problem = bound_error(self.bound)
        if problem is not None:
            raise ParseError(problem, offset=12)
        self.words = arr[HEADER_WORDS:]


def read(data: bytes | bytearray | memoryview, *, source: str | None = None) -> Module:
    """Decode a little- or big-endian SPIR-V binary."""
    return read_many([data], [source])[0]


def read_many(datas: Sequence[bytes | bytearray | memoryview],
              sources: Sequence[str | None] | None = None) -> list[Module]:
    """Read many modules at once: every step is done for all of them together.

    The modules share storage (views into one word array); treat them as read-only, as
    every Module. When a check fails, the modules are decoded again one instruction at a
    time (`_read_exactly`), which raises the error at its exact place. A big batch is
    cut in two, read on two threads where two cores are free (numpy releases the GIL
    in its loops); the first failing module in input order is the one reported.
    """
    import numpy as np

    srcs = list(sources) if sources is not None else [None] * len(datas)
    heads = []
    for k, data in enumerate(datas):
        try:
            heads.append(_Header(data))
        except ParseError as exc:
            exc.source = srcs[k]
            raise
    if not heads:
        return []
    n_words = np.array([h.words.size for h in heads], dtype=np.int64)
    word_base = np.concatenate([[0], np.cumsum(n_words)])
    words = heads[0].words if len(heads) == 1 else np.concatenate([h.words for h in heads])
    cut = _batch_cut(word_base)
    if cut is None:
        return _read_batch(words, word_base, heads, datas, srcs)
    return _read_on_two_threads(words, word_base, cut, heads, datas, srcs)


# A batch of this many words or more is read on two threads (when two cores are free):
# at chain 2000 (2.9 M words) that read took 84-103 ms against 131-185 ms on one thread;
# below about a million words the second thread saves less than it costs to start.
TWO_THREADS_MIN_WORDS = 1 << 20


def _batch_cut(word_base: Any) -> int | None:
    """The module index that halves a big batch by words; None to read it in one go."""
    import numpy as np

    total = int(word_base[-1])
    if total < TWO_THREADS_MIN_WORDS or word_base.size < 3 or usable_cores() < 2:
        return None
    cut = int(np.searchsorted(word_base, total // 2))
    return min(max(cut, 1), word_base.size - 2)


def _read_on_two_threads(words: Any, word_base: Any, cut: int, heads: list[_Header],
                         datas: Sequence[bytes | bytearray | memoryview],
                         srcs: Sequence[str | None]) -> list[Module]:
    """`_read_batch` of modules [0, cut) here and [cut, n) on a second thread."""
    import threading

    w = int(word_base[cut])
    late: list[Any] = [None]

    def read_late() -> None:
        try:
            late[0] = _read_batch(words[w:], word_base[cut:] - w, heads[cut:],
                                  datas[cut:], srcs[cut:])
        except BaseException as exc:  # re-raised below, after the first half's error
            late[0] = exc

    thread = threading.Thread(target=read_late, name="spvlink-read", daemon=True)
    thread.start()
    try:
        early = _read_batch(words[:w], word_base[:cut + 1], heads[:cut], datas[:cut],
                            srcs[:cut])
    finally:
        thread.join()
    if isinstance(late[0], BaseException):
        raise late[0]
    return early + late[0]


def _read_batch(words: Any, word_base: Any, heads: list[_Header],
                datas: Sequence[bytes | bytearray | memoryview],
                srcs: Sequence[str | None]) -> list[Module]:
    """`read_many`'s work on modules laid end to end in `words` (module k's words from
    word_base[k]); their Modules are views into `words`."""
    import numpy as np

    # int32/uint32 throughout: these arrays are the peak of a big link's memory.
    i32 = np.int32
    st = _instruction_starts(words, word_base)
    if st is None:
        return _read_exactly(datas, srcs)
    inst_base = np.searchsorted(st, word_base).astype(np.int64)
    n_inst = np.diff(inst_base)
    plans_arr = _plans_of(words, st, word_base, inst_base, srcs)
    head = words[st]
    sizes = (head >> 16).astype(i32)
    opcodes = (head & 0xFFFF).astype(i32)
    del head
    id_pos, id_inst = _expand_ids(st, plans_arr)
    id_count = np.bincount(np.repeat(np.arange(len(heads), dtype=i32), n_inst),
                           weights=_MEMO.tables()[0][plans_arr],
                           minlength=len(heads)).astype(np.int64)
    bounds = np.array([h.bound for h in heads], dtype=np.uint32)
    bad_ids = _first_bad_id(words, id_pos, np.repeat(bounds, id_count)) is not None
    scope = np.repeat(np.arange(len(heads), dtype=np.int64), n_inst)
    if bad_ids or _first_bad(words, st, sizes, opcodes, plans_arr, scope) is not None:
        return _read_exactly(datas, srcs)
    del scope, plans_arr
    local_starts = st - np.repeat(word_base[:-1].astype(i32), n_inst)
    del st
    id_base = np.concatenate([[0], np.cumsum(id_count)])
    sections = _sections_of_many(opcodes, inst_base)
    # Each module's id arrays count from its own first word and instruction.
    id_pos -= np.repeat(word_base[:-1].astype(i32), id_count)
    id_inst -= np.repeat(inst_base[:-1].astype(i32), id_count)
    out = []
    for k, h in enumerate(heads):
        i0, i1 = int(inst_base[k]), int(inst_base[k + 1])
        j0, j1 = int(id_base[k]), int(id_base[k + 1])
        w0 = int(word_base[k])
        out.append(Module(
            version=h.version, generator=h.generator, bound=h.bound, schema=h.schema,
            words=words[w0:int(word_base[k + 1])], starts=local_starts[i0:i1],
            sizes=sizes[i0:i1], opcodes=opcodes[i0:i1], sections=sections[i0:i1],
            id_pos=id_pos[j0:j1], id_inst=id_inst[j0:j1], source=srcs[k]))
    return out


# Rounds of `_instruction_starts` before it hands over to the exact walk. Each round
# drops the first word of every chain of header-like words that nothing points to; such
# chains are a word or two long in real modules.
_MAX_ROUNDS = 32


def _instruction_starts(words: Any, word_base: Any) -> Any | None:
    """Instruction starts (int32) of modules laid end to end, found for all words at once;
    None if the modules do not decode cleanly this way (then the exact walk decides).

    Every word that could be a header (a known opcode and at least its minimum word
    count, inside its module) is a candidate, pointing at the word after it. The real
    headers are the candidates reachable from each module's first word: candidates
    that nothing points to are dropped until none is left, and the survivors must then
    tile each module exactly.
    """
    import numpy as np

    n = words.size
    i32 = np.int32
    if n == 0:
        return np.zeros(0, i32)
    # Most words are ids and small literals (below 65536: a word count of 0), so the
    # opcode table is consulted only for the others.
    cpos = np.flatnonzero(words >= 0x10000)
    head = words[cpos]
    wc = head >> 16
    plausible = wc >= opcode_facts().min_words[head & 0xFFFF]
    cpos = cpos[plausible].astype(i32)
    cnext = cpos + wc[plausible].astype(i32)
    del head, wc, plausible
    # Each candidate's module end: candidates are in order, so each module's are one run
    # (a search per module, not per candidate).
    per_module = np.diff(np.searchsorted(cpos, word_base))
    mod_end = np.repeat(word_base[1:].astype(i32), per_module)
    inside = cnext <= mod_end
    cpos, cnext, mod_end = cpos[inside], cnext[inside], mod_end[inside]
    if _tiles(cpos, cnext, n):
        # Every candidate is where the one before it ends, from the first word to the
        # last: they are the chain from each module's first word (no candidate crosses a
        # module's end), so they are the headers. Large literals rarely look like a
        # header; when none does, the search below is not needed.
        return cpos
    m = cpos.size
    index_of = np.full(n + 1, -1, dtype=i32)
    index_of[cpos] = np.arange(m, dtype=i32)
    succ = np.where(cnext < mod_end, index_of[cnext], -1)
    roots = index_of[word_base[:-1][np.diff(word_base) > 0]]
    del index_of, mod_end
    if (roots < 0).any():
        return None
    keep = np.zeros(m, dtype=bool)
    keep[roots] = True
    alive = np.ones(m, dtype=bool)
    n_alive = m
    for _ in range(_MAX_ROUNDS):
        pointed = keep.copy()
        targets = succ[alive]
        pointed[targets[targets >= 0]] = True
        alive &= pointed
        now = int(np.count_nonzero(alive))
        if now == n_alive:
            break
        n_alive = now
    else:
        return None
    starts, ends = cpos[alive], cnext[alive]
    return starts if _tiles(starts, ends, n) else None


def _tiles(starts: Any, ends: Any, n: int) -> bool:
    """The spans [starts[k], ends[k]) lie end to end over the words [0, n)."""
    import numpy as np

    return bool(starts.size and starts[0] == 0 and ends[-1] == n
                and np.array_equal(ends[:-1], starts[1:]))


def _plans_of(words: Any, starts: Any, word_base: Any, inst_base: Any,
              srcs: Sequence[str | None]) -> Any:
    """Plan of every instruction: from the header memo for all at once; then one walk per
    header the memo lacks; then one lookup per (header, operand word) for layouts that
    depend on one operand (decorations); the rest one instruction at a time, in order."""
    import numpy as np

    batch = _Batch(words, starts, word_base, inst_base, srcs)
    head = words[starts]
    plans = _MEMO.fixed_lookup(head)
    todo = np.flatnonzero(plans < 0)
    # Finding the distinct headers sorts them, and a cold memo lacks every header: look
    # first among a few thousand instructions, which hold nearly every kind there is.
    for sample_size in (_SAMPLE, None):
        if not todo.size:
            break
        sample = todo[:sample_size]
        _, first = np.unique(head[sample], return_index=True)
        for i in np.sort(sample[first]).tolist():
            hdr = int(head[i])
            if opcode_of(hdr) not in ORDER_DEPENDENT_OPCODES:  # walked in order, below
                batch.plan(i, hdr, quiet=True)
        todo = _still_unknown(plans, todo, _MEMO.fixed_lookup(head[todo]))
    if todo.size:
        todo_heads = head[todo]
        guarded = np.zeros(todo.size, dtype=np.int32) - 1
        for hdr in unique(todo_heads).tolist():
            entry = _MEMO.guarded.get(hdr)
            if entry is None or len(entry[0]) != 1 or hdr in _MEMO.fixed:  # the memo decides first
                continue
            rows = np.flatnonzero(todo_heads == hdr)
            values = words[starts[todo[rows]] + entry[0][0]]
            for v in unique(values).tolist():
                p = entry[1].get((v,))
                if p is not None:
                    guarded[rows[values == v]] = p
        todo = _still_unknown(plans, todo, guarded)
    for i, hdr in zip(todo.tolist(), head[todo].tolist(), strict=True):
        p = _MEMO.fixed.get(hdr)
        plans[i] = p if p is not None else batch.plan(i, hdr)
    return plans


# Instructions looked at first for headers the memo lacks (see `_plans_of`).
_SAMPLE = 4096



def _still_unknown(plans: Any, todo: Any, found: Any) -> Any:
    """Store the plans found (-1: none) for `todo` and return those still without one."""
    known = found >= 0
    plans[todo[known]] = found[known]
    return todo[~known]


class _Batch:
    """Modules laid end to end, for walking single instructions with their module's state."""

    def __init__(self, words: Any, starts: Any, word_base: Any, inst_base: Any,
                 srcs: Sequence[str | None]) -> None:
        self.words, self.starts = words, starts
        self.word_base, self.inst_base, self.srcs = word_base, inst_base, srcs
        self.states: dict[int, DecodeContext] = {}

    def plan(self, i: int, hdr: int, quiet: bool = False) -> int:
        """Walk instruction `i`; `quiet`: a trial ahead of order, errors come later."""
        import numpy as np

        k = int(np.searchsorted(self.inst_base, i, side="right")) - 1
        w0, i0 = int(self.word_base[k]), int(self.inst_base[k])
        state = self.states.get(k)
        if state is None:
            module_words = self.words[w0:int(self.word_base[k + 1])]
            local = self.starts[i0:int(self.inst_base[k + 1])] - w0
            state = self.states[k] = DecodeContext.over(module_words, local)
        s = int(self.starts[i])
        try:
            return _slow(hdr, self.words[s:s + (hdr >> 16)].tolist(), s - w0, i - i0, state)
        except ParseError as exc:
            if quiet:
                return -1
            exc.source = self.srcs[k]
            raise


def _read_exactly(datas: Sequence[bytes | bytearray | memoryview],
                  srcs: Sequence[str | None]) -> list[Module]:
    """Decode each module one instruction at a time: raises the first module's error at
    its exact place (and decodes correctly what the vectorised pass gave up on)."""
    return [_read_one_exactly(data, src) for data, src in zip(datas, srcs, strict=True)]


def _read_one_exactly(data: bytes | bytearray | memoryview, source: str | None) -> Module:
    import numpy as np

    try:
        h = _Header(data)
        words = h.words
        starts, plans_arr = _walk_instructions(words)
        st = np.array(starts, dtype=np.int32)
        plans = np.array(plans_arr, dtype=np.int32)
        sizes = (words[st] >> 16).astype(np.int32)
        opcodes = (words[st] & 0xFFFF).astype(np.int32)
        bad = _first_bad(words, st, sizes, opcodes, plans)
        if bad is not None:
            raise _fail_at(words, starts, bad)
        id_pos, id_inst = _expand_ids(st, plans)
        _check_ids(words, id_pos, id_inst, opcodes, h.bound)
    except ParseError as exc:
        exc.source = source
        raise
    return Module(version=h.version, generator=h.generator, bound=h.bound, schema=h.schema,
                  words=words, starts=st, sizes=sizes, opcodes=opcodes,
                  sections=compute_sections(opcodes), id_pos=id_pos, id_inst=id_inst,
                  source=source)


def _walk_instructions(words: Any) -> tuple[array, array]:
    """Starts and plans of one module's instructions, walked one by one."""
    lst: list[int] = words.tolist()
    n = len(lst)
    starts = array("q")
    plans = array("q")
    state = DecodeContext.over(words, starts)
    fixed_get = _MEMO.fixed.get
    pos = 0
    while pos < n:
        hdr = lst[pos]
        p = fixed_get(hdr)
        if p is None:
            p = _slow(hdr, lst[pos:pos + word_count_of(hdr)], pos, len(starts), state)
        starts.append(pos)
        plans.append(p)
        pos += hdr >> 16
    if pos != n:
        last = starts[-1]
        raise ParseError(
            f"instruction of {lst[last] >> 16} words runs past the end of the module",
            offset=(HEADER_WORDS + last) * 4, index=len(starts) - 1,
            opname=grammar().opname(lst[last] & 0xFFFF))
    return starts, plans


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
    lengths, plan_start, flat = _MEMO.tables()
    k = lengths[plan_of].astype(i32) if plan_of.size else np.zeros(0, i32)
    total = int(k.sum())
    if total == 0:
        return np.zeros(0, i32), np.zeros(0, i32)
    id_inst = np.repeat(np.arange(starts.size, dtype=i32), k)
    # Each instruction's id offsets are a run of the plans' flat table.
    at = ranges(plan_start[plan_of], k, i32)
    id_pos = np.repeat(starts.astype(i32), k)
    id_pos += flat.astype(i32)[at]
    return id_pos, id_inst


def _fail_at(words: Any, starts: Sequence[int], index: int) -> ParseError:
    """Walk one instruction the vectorised checks flagged, for the precise error."""
    start = starts[index]
    ws = words[start:start + word_count_of(int(words[start]))].tolist()
    opcode = opcode_of(ws[0])
    g = grammar()
    try:
        walk(ws, DecodeContext.over(words, starts).at(index))
    except WalkError as exc:
        return ParseError(exc.message, offset=(HEADER_WORDS + start + exc.word) * 4,
                          index=index, opname=g.opname(opcode))
    return ParseError("malformed instruction", offset=(HEADER_WORDS + start) * 4, index=index,
                      opname=g.opname(opcode))


def _bad_constant(words: Any, starts: Any, sizes: Any, opcodes: Any,
                  scope: Any = None) -> int | None:
    """Index of the first OpConstant/OpSpecConstant whose word count disagrees with its
    type's width, whose type is 0 bits wide, or whose type is not an OpTypeInt/OpTypeFloat
    defined before it (the first definition counts, as in `DecodeContext`).

    `scope` numbers the module of each instruction when several are checked at once, so
    that ids are looked up in their own module.
    """
    import numpy as np

    # Two comparisons cost less than the table lookup of `is_in` over every instruction.
    consts = np.flatnonzero(np.logical_or.reduce([opcodes == op for op in TYPED_LITERAL_OPCODES]))
    if not consts.size:
        return None
    types = np.flatnonzero(is_in(opcodes, list(NUMERIC_TYPE_OPCODES)))
    type_ids = words[starts[types] + Word.TYPE_RESULT].astype(np.int64)
    rtype = words[starts[consts] + Word.RESULT_TYPE].astype(np.int64)
    if scope is not None:
        type_ids = type_ids + (scope[types] << 32)
        rtype = rtype + (scope[consts] << 32)
    # A stable sort keeps each id's first definition first among its equals.
    order = np.argsort(type_ids, kind="stable")
    type_ids = type_ids[order]
    type_at = types[order]
    type_widths = words[starts[type_at] + Word.TYPE_WIDTH].astype(np.int64)
    if type_ids.size:
        at = np.minimum(np.searchsorted(type_ids, rtype), type_ids.size - 1)
        found = (type_ids[at] == rtype) & (type_at[at] < consts)
        w = np.where(found, type_widths[at], 0)
    else:
        found = np.zeros(rtype.size, dtype=bool)
        w = np.zeros(rtype.size, dtype=np.int64)
    expected = Word.CONSTANT_VALUE + literal_words(w)
    bad = ~found | (w == 0) | (sizes[consts] != expected)
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




def _string_fast(ws: list[int], opcode: int, hdr: int) -> int | None:
    """Plans for the commonest string-bearing instructions, remembered by header (the
    string's extent follows from the word count) and checked after the loop; None sends
    an instruction that does not fit to the walk."""
    wc = len(ws)
    memo = _MEMO
    if opcode == Op.Name and wc >= 3:
        p = memo.intern([Word.NAME_TARGET], span=(Word.NAME_STRING, wc))
    elif opcode == Op.MemberName and wc >= 4:
        p = memo.intern([Word.NAME_TARGET], span=(Word.MEMBER_NAME_STRING, wc))
    elif (opcode == Op.Decorate and wc >= 5
          and ws[Word.DECORATION] == Decoration.LinkageAttributes):
        # OpDecorate %target LinkageAttributes "name" LinkageType
        p = memo.intern([Word.NAME_TARGET],
                        [(wc - 1, grammar().operand_kinds["LinkageType"])],
                        (Word.DECORATION_ARGS, wc - 1))
        entry = memo.guarded.get(hdr)
        if entry is None or entry[0] == (Word.DECORATION,):
            memo.remember_guarded(hdr, (Word.DECORATION,), (Decoration.LinkageAttributes,), p)
        return p
    else:
        return None
    memo.remember_fixed(hdr, p)
    return p


def _slow(hdr: int, ws: list[int], pos: int, index: int, state: DecodeContext) -> int:
    """Decode an instruction the fixed memo does not cover (`ws`: its words, as many as
    the module has; `index`: its place in its module); returns its plan."""
    wc = word_count_of(hdr)
    opcode = opcode_of(hdr)
    g = grammar()
    memo = _MEMO

    def fail(message: str, word: int = 0) -> ParseError:
        return ParseError(message, offset=(HEADER_WORDS + pos + word) * 4, index=index,
                          opname=g.opname(opcode) if opcode in g.instructions else None)

    if wc == 0:
        raise fail("instruction word count is 0")
    if len(ws) < wc:
        raise fail(f"instruction of {wc} words runs past the end of the module")
    if opcode not in g.instructions:
        raise fail(f"unknown opcode {opcode}")

    if opcode in TYPED_LITERAL_OPCODES and wc >= 4:
        # The width is checked after the loop, for all constants at once (`_bad_constant`).
        p = memo.intern([Word.RESULT_TYPE, 2])
        memo.remember_fixed(hdr, p)
        return p

    ctx = state.at(index)
    key: Any = hdr
    if opcode in COMMON_STRING_OPCODES:
        entry = memo.guarded.get(key)
        hit = entry[1].get(tuple(ws[d] for d in entry[0])) if entry is not None else None
        if hit is not None:
            return hit
        fast = _string_fast(ws, opcode, hdr)
        if fast is not None:
            return fast
    if opcode in EXT_INST_OPCODES and wc >= 5:
        key = (state.ext_set_name(ws[Word.EXT_INST_SET]), ws[Word.EXT_INST_NUMBER], hdr)
    entry = memo.guarded.get(key)
    if entry is not None:
        deps, sub = entry
        hit = sub.get(tuple(ws[d] for d in deps))
        if hit is not None:
            return hit

    try:
        res = walk(ws, ctx)
    except WalkError as exc:
        raise fail(exc.message, exc.word) from None

    if opcode == Op.ExtInstImport:
        state.note(ws, index)  # spares a scan at the first OpExtInst

    if res.deps is None or opcode == Op.ExtInstImport:
        return memo.intern(res.id_offsets)  # depends on content: walked every time
    p = memo.intern(res.id_offsets, res.checks)
    if not res.deps and not isinstance(key, tuple):
        memo.remember_fixed(hdr, p)  # enum checks, if any, run after the loop
        return p
    deps_t = tuple(res.deps)
    memo.remember_guarded(key, deps_t, tuple(ws[d] for d in deps_t), p)
    return p
