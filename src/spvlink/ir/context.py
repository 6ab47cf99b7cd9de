"""What decoding an instruction needs to know about the instructions before it.

Three facts of a module decide how some instructions are laid out: the width of a numeric
type (an `OpConstant`'s literal), the type of a value (an `OpSwitch` selector's literal
width) and the name of an extended-instruction import (an `OpExtInst`'s operands). The
reader, the assembler, the disassembler and `Module` all ask one `DecodeContext`.

The rule, the same for every user: **the first definition of an id counts, and only
instructions before the one being decoded count.** (A valid module defines each id once,
before its use; for an invalid one the rule keeps every path of the program agreeing on
its layout: the fast reader and the exact walk, and `disassemble` with `assemble`.)

A context is filled in one of three ways:
- `observe(words)` instruction by instruction, in order (assembler, `Module.from_instructions`);
- `DecodeContext.over(words, starts)`: scanned lazily, in order, up to the instruction
  being decoded (`at(index)`), only when a lookup misses (the binary reader: most modules
  never ask);
- `DecodeContext.of_module(module)`: the whole module, with value types looked up by
  a vectorised search (a pass decoding a few instructions of a big module).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._words import decode_string, opcode_of, word_count_of
from ..grammar import grammar
from ..grammar.walk import WalkContext
from ..spec import Op
from .layout import Word

if TYPE_CHECKING:
    from .module import Module

# Kind of a numeric type: "u" unsigned integer, "s" signed integer, "f" float.
Numeric = tuple[str, int]


def _put(table: dict[int, tuple[int, Any]], key: int, index: int, fact: Any) -> None:
    """Record a fact of `key` unless an earlier instruction already gave one."""
    old = table.get(key)
    if old is None or old[0] > index:
        table[key] = (index, fact)


@functools.cache
def _typed_results() -> frozenset[int]:
    """Opcodes with a result type and a result id: their result is a value."""
    table = grammar().table
    return frozenset(op for op, typed, result
                     in zip(table.opcode, table.typed, table.result, strict=True)
                     if typed and result)


class DecodeContext:
    """Type widths, value types and extended-set names, by first definition."""

    __slots__ = ("_numeric", "_values", "_ext", "_count", "_words", "_starts",
                 "_value_lookup", "limit", "_walk")

    def __init__(self) -> None:
        # id -> (index of the defining instruction, fact)
        self._numeric: dict[int, tuple[int, Numeric]] = {}
        self._values: dict[int, tuple[int, int]] = {}
        self._ext: dict[int, tuple[int, str]] = {}
        self._count = 0  # instructions observed so far (the next one's index)
        self._words: Any = None  # for lazy scanning: words and instruction starts
        self._starts: Any = None
        self._value_lookup: Callable[[int], tuple[int, int] | None] | None = None
        self.limit: int | None = None  # facts of instructions at or after it do not count
        self._walk: WalkContext | None = None

    # -- filling ----------------------------------------------------------------------

    @classmethod
    def over(cls, words: Any, starts: Sequence[int]) -> DecodeContext:
        """Scanned lazily from `words` (one module's, after the header) at `starts`, which
        may grow while the context is in use (the reader's walk appends to it)."""
        ctx = cls()
        ctx._words, ctx._starts = words, starts
        return ctx

    @classmethod
    def of_module(cls, module: Module) -> DecodeContext:
        import numpy as np

        ctx = cls()
        for i in module.indices_of(Op.TypeInt, Op.TypeFloat, Op.ExtInstImport).tolist():
            ctx._observe_fact(module.inst_words(i), i)
        ctx._count = len(module)
        sorted_ids: list[Any] = []  # (keys, order), made on the first lookup

        def lookup(value: int) -> tuple[int, int] | None:
            if not sorted_ids:
                # Result ids of values (-1 elsewhere); a stable sort puts each id's first
                # definition first.
                keys = np.where(module.result_types != 0, module.result_ids, -1)
                sorted_ids.extend((keys, np.argsort(keys, kind="stable")))
            keys, order = sorted_ids
            k = int(np.searchsorted(keys, value, sorter=order))
            if k < order.size and int(keys[order[k]]) == value:
                i = int(order[k])
                return i, int(module.result_types[i])
            return None

        ctx._value_lookup = lookup
        return ctx

    def observe(self, ws: Sequence[int]) -> None:
        """Take in the next instruction (its words, header included)."""
        self._observe_fact(ws)
        self._count += 1

    def note(self, ws: Sequence[int], index: int) -> None:
        """Take in the facts of instruction `index` ahead of a scan (the reader, for an
        OpExtInstImport it has just walked)."""
        self._observe_fact(ws, index)

    def _observe_fact(self, ws: Sequence[int], index: int | None = None) -> None:
        if len(ws) < 3:
            return
        op = opcode_of(ws[0])
        at = self._count if index is None else index
        if op == Op.TypeInt:
            signed = len(ws) > Word.INT_SIGNEDNESS and ws[Word.INT_SIGNEDNESS]
            _put(self._numeric, ws[Word.TYPE_RESULT], at,
                 ("s" if signed else "u", ws[Word.TYPE_WIDTH]))
        elif op == Op.TypeFloat:
            _put(self._numeric, ws[Word.TYPE_RESULT], at, ("f", ws[Word.TYPE_WIDTH]))
        elif op == Op.ExtInstImport:
            _put(self._ext, ws[Word.EXT_INST_IMPORT_RESULT], at,
                 decode_string(ws[Word.EXT_INST_IMPORT_NAME:]))
        elif op in _typed_results():
            _put(self._values, ws[2], at, ws[Word.RESULT_TYPE])

    def _scan(self) -> bool:
        """Observe more of the instructions known (up to `limit`); False if none was left."""
        starts = self._starts
        if starts is None:
            return False
        end = len(starts) if self.limit is None else min(self.limit, len(starts))
        if self._count >= end:
            return False
        w = self._words
        for s in starts[self._count:end]:
            s = int(s)
            ws = w[s:s + word_count_of(int(w[s]))]
            self._observe_fact(ws.tolist() if hasattr(ws, "tolist") else ws)
            self._count += 1
        return True

    def _get(self, table: dict[int, Any], key: int) -> Any:
        entry = table.get(key)
        if entry is None and self._scan():
            entry = table.get(key)
        if entry is None or (self.limit is not None and entry[0] >= self.limit):
            return None
        return entry[1]

    # -- questions --------------------------------------------------------------------

    def at(self, index: int | None) -> WalkContext:
        """The walk context for decoding instruction `index` (None: after the last one)."""
        self.limit = index
        return self.walk_context()

    def numeric_type(self, type_id: int) -> Numeric | None:
        """(kind, width) of an OpTypeInt or OpTypeFloat id."""
        result: Numeric | None = self._get(self._numeric, type_id)
        return result

    def type_width(self, type_id: int) -> int | None:
        t = self.numeric_type(type_id)
        return None if t is None else t[1]

    def value_type(self, value: int) -> int | None:
        if self._value_lookup is not None and value not in self._values:
            found = self._value_lookup(value)
            if found is None:
                return None
            self._values[value] = found
        result: int | None = self._get(self._values, value)
        return result

    def value_width(self, value: int) -> int | None:
        """Width of a value's type where it is an integer type (the only question asked is
        an OpSwitch selector's, which SPIRV-Tools' parser requires to be a scalar integer:
        "Invalid OpSwitch: selector id N is not a scalar integer")."""
        t = self.value_type(value)
        numeric = None if t is None else self.numeric_type(t)
        return None if numeric is None or numeric[0] == "f" else numeric[1]

    def ext_set_name(self, set_id: int) -> str | None:
        result: str | None = self._get(self._ext, set_id)
        return result

    def walk_context(self) -> WalkContext:
        if self._walk is None:
            self._walk = WalkContext(type_width=self.type_width, value_width=self.value_width,
                                     ext_set_name=self.ext_set_name)
        return self._walk
