"""The data representation: one word array with an instruction index.

A `Module` keeps every instruction's words in one numpy uint32 array, with per-instruction
arrays (start, word count, opcode, Logical Layout section) and the word positions of
every id operand. Passes decide *what* changes as an order/keep selection and an
id-to-id remap table; `select` applies both in a few vectorised operations. Instructions
are `Instruction` views made on demand; rewritten ones are spliced back with `splice`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

# The string and header facts live in _words; these names stay importable from here.
from .._once import once
from .._words import MAGIC as MAGIC
from .._words import decode_string as decode_string
from .._words import encode_string as encode_string
from .._words import opcode_of, version_of, word_count_of
from ..errors import SpvError
from ..grammar import grammar
from ..grammar.walk import ID_KINDS, WalkContext, WalkError, WalkResult, walk
from ..spec import Op
from .layout import PURE_CLASSES, PURE_EXTRA, SECTION_OF_OPCODE, Section

if TYPE_CHECKING:
    import numpy as np

    from .context import DecodeContext


def _np() -> Any:
    import numpy

    return numpy


# ---------------------------------------------------------------------------------------
# Instruction views


class Operand(NamedTuple):
    """An operand as decoded by the grammar: its kind and its words."""

    kind: str
    words: tuple[int, ...]

    @property
    def is_id(self) -> bool:
        return self.kind in ID_KINDS

    @property
    def value(self) -> int:
        return self.words[0]

    @property
    def string(self) -> str:
        return decode_string(self.words)


class Instruction:
    """One instruction: opcode, optional result type and result id, other operands."""

    __slots__ = ("opcode", "result_type", "result_id", "operands")

    def __init__(self, opcode: int, result_type: int | None = None,
                 result_id: int | None = None, operands: list[Operand] | None = None) -> None:
        self.opcode = opcode
        self.result_type = result_type
        self.result_id = result_id
        self.operands: list[Operand] = [] if operands is None else operands

    def _key(self) -> tuple:
        return (self.opcode, self.result_type, self.result_id, self.operands)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instruction):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, as before

    def __repr__(self) -> str:
        return (f"Instruction(opcode={self.opcode!r}, result_type={self.result_type!r}, "
                f"result_id={self.result_id!r}, operands={self.operands!r})")

    def words(self) -> list[int]:
        """The instruction's words, the header word (word count, opcode) first."""
        body: list[int] = []
        if self.result_type is not None:
            body.append(self.result_type)
        if self.result_id is not None:
            body.append(self.result_id)
        for op in self.operands:
            body.extend(op.words)
        return [((len(body) + 1) << 16) | self.opcode, *body]

    @property
    def opname(self) -> str:
        """The opcode's name as the specification spells it (`OpIAdd`)."""
        return grammar().opname(self.opcode)

    def __str__(self) -> str:
        parts = []
        if self.result_id is not None:
            parts.append(f"%{self.result_id} =")
        parts.append(self.opname)
        if self.result_type is not None:
            parts.append(f"%{self.result_type}")
        for op in self.operands:
            if op.is_id:
                parts.append(f"%{op.value}")
            elif op.kind == "LiteralString":
                parts.append(repr(op.string))
            else:
                parts.append(" ".join(str(w) for w in op.words))
        return " ".join(parts)


def unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. Plain `np.unique` imports `numpy.ma` on its first call
    (to ask whether the array is masked), which costs a small link more than the call."""
    return _np().unique(values, return_counts=True)[0]


def first_positions(values: np.ndarray, size: int) -> np.ndarray:
    """Per value v in [0, size): the index of its first occurrence in `values`, or
    len(values) where it does not occur. One pass (`np.minimum.at`) over a table, where
    `np.unique(..., return_index=True)` sorts every value stably (5 ms against 1 on the
    168,000 id words of chain 1000's output)."""
    np = _np()
    n = values.size
    first = np.full(size, n, dtype=np.int64)
    np.minimum.at(first, values, np.arange(n, dtype=np.int64))
    return first


def ranges(lo: Any, n: Any, dtype: Any = None) -> np.ndarray:
    """The ranges [lo[k], lo[k] + n[k]) one after another (n[k] >= 0), as one array of
    `dtype` (default int64): the gather idiom of many vectorised passes.

    Built in the one array it returns: ones, each range's first element set to its
    distance from the previous range's last, then a running sum in place. (The
    textbook `repeat(...) + arange(...)` holds three arrays of the output's size at
    once; at 1.4 M words this takes a third of their memory and time.)"""
    np = _np()
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    lo = np.asarray(lo, dtype=np.int64).ravel()
    n = np.asarray(n, dtype=np.int64).ravel()
    nonempty = n > 0
    if not nonempty.all():
        lo, n = lo[nonempty], n[nonempty]
    total = int(n.sum())
    out = np.ones(total, dtype=dtype)
    if total:
        step = lo.copy()
        step[1:] -= lo[:-1] + n[:-1] - 1
        out[np.cumsum(n) - n] = step
        np.cumsum(out, dtype=dtype, out=out)
    return out


def is_in(values: np.ndarray, wanted: Any) -> np.ndarray:
    """`np.isin` for non-negative integers: a table lookup, or a binary search when the
    values are spread wide. (`np.isin` sorts big inputs through `np.unique`, which imports
    `numpy.ma`: more than a small link costs.)"""
    np = _np()
    wanted = np.asarray(wanted, dtype=np.int64).ravel()
    values = np.asarray(values)
    if not wanted.size:
        return np.zeros(values.shape, dtype=bool)
    top = int(wanted.max()) + 1
    if top <= max(1 << 16, 4 * values.size):
        table = np.zeros(top + 1, dtype=bool)
        table[wanted] = True
        return table[np.minimum(values, top)]
    ordered = np.sort(wanted)
    at = np.minimum(np.searchsorted(ordered, values), ordered.size - 1)
    return ordered[at] == values


def string_operand(text: str) -> Operand:
    return Operand("LiteralString", tuple(encode_string(text)))


def id_operand(value: int) -> Operand:
    return Operand("IdRef", (value,))


def literal_operand(value: int, kind: str = "LiteralInteger") -> Operand:
    return Operand(kind, (value,))


# ---------------------------------------------------------------------------------------
# Tables over opcodes, as numpy lookup arrays (built once)


class OpcodeFacts(NamedTuple):
    """Per opcode, as lookup arrays of 65536 entries."""

    has_type: Any  # 1 where the instruction has a result type
    result_offset: Any  # word offset of the result id; 0: none
    section: Any  # Logical Layout section (outside functions)
    min_words: Any  # the fewest words it can have; 65536 (none can) for unknown opcodes
    slot: Any  # a dense number among the known opcodes; -1 for unknown ones
    pure: Any  # computes a value and nothing else (dead-code elimination may drop it)
    n_known: int


@once
def opcode_facts() -> OpcodeFacts:
    """The grammar's instructions as per-opcode arrays (from its opcode table's columns)."""
    np = _np()
    n = 1 << 16
    has_type = np.zeros(n, dtype=np.int64)
    result_off = np.zeros(n, dtype=np.int64)
    section = np.full(n, int(Section.GLOBAL), dtype=np.int8)
    min_words = np.full(n, n, dtype=np.uint32)
    slot = np.full(n, -1, dtype=np.int32)
    pure = np.zeros(n, dtype=bool)
    table = grammar().table
    ops = np.array(table.opcode, dtype=np.int64)
    typed = np.array(table.typed, dtype=bool)
    has_result = np.array(table.result, dtype=bool)
    has_type[ops] = typed
    result_off[ops] = np.where(has_result, np.where(typed, 2, 1), 0)
    min_words[ops] = table.min_words
    slot[np.sort(ops)] = np.arange(ops.size)
    pure[ops] = has_result & np.array([klass in PURE_CLASSES or op in PURE_EXTRA
                                       for op, klass in zip(table.opcode, table.klass, strict=True)])
    for opcode, sec in SECTION_OF_OPCODE.items():
        section[opcode] = int(sec)
    return OpcodeFacts(has_type, result_off, section, min_words, slot, pure, ops.size)


def compute_sections(opcodes: np.ndarray) -> np.ndarray:
    """Logical Layout section of each instruction: by opcode, then all from OpFunction on."""
    np = _np()
    table = opcode_facts().section
    sections = table[opcodes]
    fn = np.flatnonzero(opcodes == Op.Function)
    if fn.size:
        sections[fn[0]:] = int(Section.FUNCTION)
    return sections


# ---------------------------------------------------------------------------------------
# The module


class Module:
    """A SPIR-V module: header fields, one word array and its instruction index.

    `words` holds the instruction stream without the 5-word header. Per instruction:
    `starts` (index into words), `sizes` (word count), `opcodes`, `sections`. Per id
    operand (result ids and result types included): `id_pos` (index into words, ascending)
    and `id_inst` (its instruction). Treat the arrays as immutable; every edit returns a
    new Module.
    """

    __slots__ = ("version", "generator", "bound", "schema", "words", "starts", "sizes",
                 "opcodes", "sections", "id_pos", "id_inst", "source", "_cache")

    def __init__(
        self,
        *,
        version: int,
        generator: int,
        bound: int,
        schema: int = 0,
        words: np.ndarray,
        starts: np.ndarray,
        sizes: np.ndarray,
        opcodes: np.ndarray,
        sections: np.ndarray,
        id_pos: np.ndarray,
        id_inst: np.ndarray,
        source: str | None = None,
    ) -> None:
        self.version = version
        self.generator = generator
        self.bound = bound
        self.schema = schema
        # Index arrays are stored as int32 (a big link holds several modules at once);
        # arithmetic on them widens to int64 as numpy does.
        np = _np()
        self.words = words
        self.starts = starts.astype(np.int32, copy=False)
        self.sizes = sizes.astype(np.int32, copy=False)
        self.opcodes = opcodes.astype(np.int32, copy=False)
        self.sections = sections
        self.id_pos = id_pos.astype(np.int32, copy=False)
        self.id_inst = id_inst.astype(np.int32, copy=False)
        self.source = source  # the file it came from, for diagnostics
        self._cache: dict[str, Any] = {}

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_instructions(
        cls,
        instructions: Sequence[Instruction | Sequence[int]],
        *,
        version: int = 0x00010600,
        generator: int = 0,
        bound: int | None = None,
        schema: int = 0,
        source: str | None = None,
    ) -> Module:
        """Build a module from instruction views or raw instruction word lists.

        Every instruction is checked as the reader would check it (its first word's count,
        its layout by the grammar, ids neither 0 nor at or above `bound`), so what is built
        can be written and read back; `InstructionError.index` says which one failed.
        `bound` defaults to the highest id + 1."""
        np = _np()
        flat: list[int] = []
        starts: list[int] = []
        id_pos: list[int] = []
        from .context import DecodeContext

        ctx = DecodeContext()
        walk_ctx = ctx.walk_context()
        for index, inst in enumerate(instructions):
            ws = inst.words() if isinstance(inst, Instruction) else list(inst)
            res = walk_instruction(ws, walk_ctx, index)
            ctx.observe(ws)
            base = len(flat)
            starts.append(base)
            id_pos.extend(base + o for o in res.id_offsets)
            flat.extend(ws)
        try:
            words = np.array(flat, dtype=np.uint32)
        except OverflowError:
            at = next(k for k, w in enumerate(flat) if not 0 <= w <= 0xFFFFFFFF)
            index = int(np.searchsorted(np.array(starts), at, side="right")) - 1
            raise InstructionError(f"word {flat[at]} does not fit in 32 bits", index) from None
        st = np.array(starts, dtype=np.int64)
        sizes = word_count_of(words[st]).astype(np.int64) if st.size else np.zeros(0, np.int64)
        opcodes = opcode_of(words[st]).astype(np.int64) if st.size else np.zeros(0, np.int64)
        pos = np.array(id_pos, dtype=np.int64)
        inst_of = np.searchsorted(st, pos, side="right") - 1
        top = int(words[pos].max()) if pos.size else 0
        if bound is None:
            bound = top + 1
        ids = words[pos]
        bad = (ids == 0) | (ids >= bound)
        if bad.any():
            j = int(np.argmax(bad))
            value = int(ids[j])
            raise InstructionError("id 0 is not a valid id" if value == 0 else
                                   f"id {value} is not below the bound {bound}", int(inst_of[j]))
        return cls(version=version, generator=generator, bound=bound, schema=schema,
                   words=words, starts=st, sizes=sizes, opcodes=opcodes,
                   sections=compute_sections(opcodes), id_pos=pos,
                   id_inst=inst_of.astype(np.int64), source=source)

    # -- basic queries ------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.starts.size)

    def __repr__(self) -> str:
        """`<Module SPIR-V 1.3, bound 57, 48 instructions, 2 functions, 1 entry point
        from 'main.spv'>`: what the module is, at a glance."""
        n_fn = int((self.opcodes == Op.Function).sum())
        n_ep = int((self.opcodes == Op.EntryPoint).sum())
        major, minor = self.version_tuple
        where = f" from {self.source!r}" if self.source else ""
        return (f"<Module SPIR-V {major}.{minor}, bound {self.bound}, {len(self)} "
                f"instruction{'s' * (len(self) != 1)}, {n_fn} function{'s' * (n_fn != 1)}, "
                f"{n_ep} entry point{'s' * (n_ep != 1)}{where}>")

    @property
    def version_tuple(self) -> tuple[int, int]:
        """(major, minor) of the header's SPIR-V version."""
        return version_of(self.version)

    def header_words(self) -> list[int]:
        """The five header words: magic, version, generator, bound, schema."""
        return [MAGIC, self.version, self.generator, self.bound, self.schema]

    def operand(self, indices: Any, at: int) -> Any:
        """Word `at` (an `ir.layout.Word` offset) of instructions `indices`, vectorised;
        an int index gives one word."""
        return self.words[self.starts[indices] + at]

    def inst_words(self, i: int) -> list[int]:
        """The words of instruction `i` (an index into the module's instructions)."""
        s = int(self.starts[i])
        return self.words[s:s + int(self.sizes[i])].tolist()

    def _cached(self, key: str, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def result_ids(self) -> np.ndarray:
        """Result id of each instruction, 0 where it has none."""
        def make() -> Any:
            np = _np()
            off = opcode_facts().result_offset[self.opcodes]
            out = np.zeros(len(self), dtype=np.int64)
            has = off > 0
            out[has] = self.words[self.starts[has] + off[has]]
            return out
        return self._cached("result_ids", make)

    @property
    def result_types(self) -> np.ndarray:
        """Result type id of each instruction, 0 where it has none."""
        def make() -> Any:
            np = _np()
            has = opcode_facts().has_type[self.opcodes] > 0
            out = np.zeros(len(self), dtype=np.int64)
            out[has] = self.words[self.starts[has] + 1]
            return out
        return self._cached("result_types", make)

    @property
    def id_is_result(self) -> np.ndarray:
        """Per id position: True where it is the instruction's own result id."""
        def make() -> Any:
            np = _np()
            off = opcode_facts().result_offset[self.opcodes]
            has = off > 0
            is_result_word = np.zeros(self.words.size, dtype=bool)
            is_result_word[self.starts[has] + off[has]] = True
            return is_result_word[self.id_pos]
        return self._cached("id_is_result", make)

    def indices(self, *sections: Section) -> np.ndarray:
        """Indices of the instructions in the given Logical Layout sections, in order."""
        np = _np()
        bounds = self._section_bounds()
        if bounds is None:  # out of order: a module being built
            return np.flatnonzero(is_in(self.sections, [int(s) for s in sections]))
        runs = [(bounds[s], bounds[s + 1]) for s in sorted({int(s) for s in sections})]
        if len(runs) == 1:
            return np.arange(*runs[0], dtype=np.int64)
        return np.concatenate([np.arange(lo, hi, dtype=np.int64) for lo, hi in runs])

    def _section_bounds(self) -> list[int] | None:
        """Where each section begins (and the last one ends), found once, when the
        sections are in Logical Layout order as the invariant says: a section's
        instructions are one run, and a pass asks for a section a dozen times."""
        def make() -> list[int] | None:
            np = _np()
            s = self.sections
            if s.size > 1 and bool((s[1:] < s[:-1]).any()):
                return None
            return np.searchsorted(s, np.arange(len(Section) + 1)).tolist()
        return self._cached("section_bounds", make)

    def indices_of(self, *opcodes: int) -> np.ndarray:
        """Indices of the instructions with one of `opcodes` (`Op.Name`, ...), in order."""
        np = _np()
        if len(opcodes) == 1:
            return np.flatnonzero(self.opcodes == opcodes[0])
        return np.flatnonzero(is_in(self.opcodes, list(opcodes)))

    # -- instruction views ---------------------------------------------------------------

    def decode_context(self) -> DecodeContext:
        """What decoding this module's instructions needs (see `ir.context`)."""
        from .context import DecodeContext

        ctx: DecodeContext = self._cached("decode_context", lambda: DecodeContext.of_module(self))
        return ctx

    def walk_context(self) -> WalkContext:
        """What decoding an instruction's operands needs from the whole module."""
        return self.decode_context().at(None)

    def instruction(self, i: int) -> Instruction:
        """Instruction `i` decoded into an `Instruction` (opcode, result type and id,
        operands), a view made on demand."""
        ws = self.inst_words(i)
        return instruction_from_words(ws, self.walk_context())

    def __iter__(self) -> Iterator[Instruction]:
        for i in range(len(self)):
            yield self.instruction(i)

    # -- edits ---------------------------------------------------------------------------

    def select(self, order: np.ndarray | Sequence[int] | None = None, *,
               remap: np.ndarray | None = None, bound: int | None = None,
               version: int | None = None) -> Module:
        """A new module with the instructions `order` (indices, in that order) and every id
        word mapped through `remap` (an array indexed by old id).
        """
        np = _np()
        n = len(self)
        if order is None:
            order_arr = np.arange(n, dtype=np.int64)
            same = True
        else:
            order_arr = np.asarray(order, dtype=np.int64)
            same = order_arr.size == n and bool(np.all(order_arr == np.arange(n)))
        if same:
            words = self.words.copy()
            starts, sizes, opcodes = self.starts, self.sizes, self.opcodes
            id_pos, id_inst = self.id_pos, self.id_inst
        else:
            words, starts, sizes, opcodes, id_pos, id_inst = self._gather(order_arr)
        if remap is not None and id_pos.size:
            words[id_pos] = remap[words[id_pos]]
        return Module(
            version=self.version if version is None else version,
            generator=self.generator,
            bound=self.bound if bound is None else bound,
            schema=self.schema, words=words, starts=starts, sizes=sizes, opcodes=opcodes,
            sections=compute_sections(opcodes), id_pos=id_pos, id_inst=id_inst,
            source=self.source,
        )

    def _gather(self, order: np.ndarray) -> tuple[Any, Any, Any, Any, Any, Any]:
        """Words and index arrays of the instructions `order`, in that order.

        `order` is cut into runs of consecutive instructions; each run is one slice of
        the word array and one slice of the id arrays, so the cost is the output plus
        the number of runs (merging sorts whole sections of each input: few runs). A
        keep-mask with many runs goes through boolean selection instead.
        """
        np = _np()
        n_out = order.size
        if n_out == 0:
            empty = np.zeros(0, dtype=np.int64)
            return (np.zeros(0, dtype=np.uint32), empty, empty, empty, empty, empty)
        brk = np.flatnonzero(order[1:] != order[:-1] + 1) + 1
        monotone = bool(np.all(order[1:] > order[:-1])) if n_out > 1 else True
        if monotone and brk.size * 4 > n_out:
            return self._gather_mask(order)
        # Index arithmetic stays in int32, the stored type, to avoid widening copies.
        i32 = np.int32
        run_at = np.concatenate([[0], brk])
        run_len = np.diff(np.concatenate([run_at, [n_out]])).astype(i32)
        first = order[run_at].astype(i32)
        last = first + run_len - 1
        w0 = self.starts[first]
        w1 = self.starts[last] + self.sizes[last]
        wlen = w1 - w0
        dst_w0 = (np.cumsum(wlen, dtype=i32) - wlen).astype(i32)
        total = int(wlen.sum())
        # Long runs (a pass dropping a few stretches) are copied slice by slice; short
        # ones through one index array (a slice per run would cost more in Python).
        by_slices = total >= SLICE_WORDS_PER_RUN * run_at.size
        if by_slices:
            words = _join_slices(self.words, w0, w1)
        else:
            words = self.words[ranges(w0, wlen, i32)]
        sizes = self.sizes[order]
        starts = np.cumsum(sizes, dtype=i32) - sizes
        opcodes = self.opcodes[order]
        i0 = np.searchsorted(self.id_pos, w0).astype(i32)
        i1 = np.searchsorted(self.id_pos, w1).astype(i32)
        ilen = i1 - i0
        dst_inst0 = np.cumsum(run_len, dtype=i32) - run_len
        if by_slices:
            id_pos = _join_slices(self.id_pos, i0, i1)
            id_inst = _join_slices(self.id_inst, i0, i1)
        else:
            src_ids = ranges(i0, ilen, i32)
            id_pos, id_inst = self.id_pos[src_ids], self.id_inst[src_ids]
        id_pos += np.repeat(dst_w0 - w0, ilen)
        id_inst += np.repeat(dst_inst0 - first, ilen)
        return words, starts, sizes, opcodes, id_pos, id_inst

    def _gather_mask(self, order: np.ndarray) -> tuple[Any, Any, Any, Any, Any, Any]:
        """`_gather` for an increasing `order` of many runs: boolean selection."""
        np = _np()
        i32 = np.int32
        keep = np.zeros(len(self), dtype=bool)
        keep[order] = True
        words = self.words[np.repeat(keep, self.sizes)]
        sizes = self.sizes[order]
        starts = np.cumsum(sizes, dtype=i32) - sizes
        opcodes = self.opcodes[order]
        id_keep = keep[self.id_inst]
        # Each kept instruction moves left by the words removed before it.
        shift = self.starts[order] - starts
        id_inst = (np.cumsum(keep, dtype=i32) - 1)[self.id_inst[id_keep]]
        id_pos = self.id_pos[id_keep] - shift[id_inst]
        return words, starts, sizes, opcodes, id_pos, id_inst

    def splice(self, replace: Mapping[int, Sequence[Instruction | Sequence[int]]]) -> Module:
        """A new module where instruction i is replaced by the instructions replace[i]
        (an empty sequence deletes it). Ids in the replacements are taken as written.
        """
        if not replace:
            return self
        np = _np()
        ctx = self.walk_context()
        pieces_words: list[Any] = []
        pieces_ids: list[Any] = []
        pieces_starts: list[Any] = []
        pieces_sizes: list[Any] = []
        out_base = 0
        prev = 0
        for i in sorted(replace):
            # Unchanged run [prev, i).
            if i > prev:
                w0 = int(self.starts[prev])
                w1 = int(self.starts[i])
                pieces_words.append(self.words[w0:w1])
                lo, hi = np.searchsorted(self.id_pos, [w0, w1])
                pieces_ids.append(self.id_pos[lo:hi] - w0 + out_base)
                pieces_starts.append(self.starts[prev:i] - w0 + out_base)
                pieces_sizes.append(self.sizes[prev:i])
                out_base += w1 - w0
            for inst in replace[i]:
                ws = inst.words() if isinstance(inst, Instruction) else list(inst)
                offs = walk_instruction(ws, ctx, i).id_offsets
                pieces_words.append(np.array(ws, dtype=np.uint32))
                pieces_ids.append(np.array(offs, dtype=np.int64) + out_base)
                pieces_starts.append(np.array([out_base], dtype=np.int64))
                pieces_sizes.append(np.array([len(ws)], dtype=np.int64))
                out_base += len(ws)
            prev = i + 1
        if prev < len(self):
            w0 = int(self.starts[prev])
            pieces_words.append(self.words[w0:])
            lo = int(np.searchsorted(self.id_pos, w0))
            pieces_ids.append(self.id_pos[lo:] - w0 + out_base)
            pieces_starts.append(self.starts[prev:] - w0 + out_base)
            pieces_sizes.append(self.sizes[prev:])
        words = np.concatenate(pieces_words) if pieces_words else np.zeros(0, np.uint32)
        starts = np.concatenate(pieces_starts) if pieces_starts else np.zeros(0, np.int64)
        sizes = np.concatenate(pieces_sizes) if pieces_sizes else np.zeros(0, np.int64)
        id_pos = np.concatenate(pieces_ids).astype(np.int64) if pieces_ids else np.zeros(0, np.int64)
        opcodes = opcode_of(words[starts]).astype(np.int64)
        id_inst = np.searchsorted(starts, id_pos, side="right") - 1
        return Module(version=self.version, generator=self.generator, bound=self.bound,
                      schema=self.schema, words=words.astype(np.uint32, copy=False),
                      starts=starts.astype(np.int64), sizes=sizes.astype(np.int64),
                      opcodes=opcodes, sections=compute_sections(opcodes), id_pos=id_pos,
                      id_inst=id_inst.astype(np.int64), source=self.source)

    def with_header(self, *, version: int | None = None, generator: int | None = None,
                    bound: int | None = None) -> Module:
        """The same instructions under a header with the given fields replaced."""
        m = Module(version=self.version if version is None else version,
                   generator=self.generator if generator is None else generator,
                   bound=self.bound if bound is None else bound, schema=self.schema,
                   words=self.words, starts=self.starts, sizes=self.sizes,
                   opcodes=self.opcodes, sections=self.sections, id_pos=self.id_pos,
                   id_inst=self.id_inst, source=self.source)
        return m

    def with_words(self, words: np.ndarray) -> Module:
        """The same instructions with other operand values: `words` must have the layout
        of `self.words` (same length, same headers); only ids and literals may differ."""
        return Module(version=self.version, generator=self.generator, bound=self.bound,
                      schema=self.schema, words=words, starts=self.starts, sizes=self.sizes,
                      opcodes=self.opcodes, sections=self.sections, id_pos=self.id_pos,
                      id_inst=self.id_inst, source=self.source)

    def check(self) -> None:
        """Raise `ir.check.ModuleInvariantError` unless the arrays agree (see `check_module`)."""
        from .check import check_module

        check_module(self)

    def max_id(self) -> int:
        """The highest id any instruction uses (0 when there is none)."""
        return int(self.words[self.id_pos].max()) if self.id_pos.size else 0


# `select` copies runs of instructions slice by slice when they average this many words
# or more (measured on the link passes' selections: 8 ms against 20 for 50 runs over
# 2.3 M words, even at 290 words a run, slower below).
SLICE_WORDS_PER_RUN = 512


def _join_slices(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """values[lo[0]:hi[0]], values[lo[1]:hi[1]], ... as one new array."""
    np = _np()
    return np.concatenate([values[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True)])


def concatenate(modules: Sequence[Module], shifts: Sequence[int], *, version: int,
                generator: int, bound: int) -> Module:
    """Concatenate instruction streams, adding shifts[k] to every id of module k."""
    np = _np()
    if not modules:
        raise ValueError("nothing to concatenate")
    i32 = np.int32  # the stored index type: no widening copies
    n_words = np.array([m.words.size for m in modules], dtype=i32)
    n_inst = np.array([len(m) for m in modules], dtype=i32)
    n_ids = np.array([m.id_pos.size for m in modules], dtype=i32)
    word_base = np.cumsum(n_words, dtype=i32) - n_words
    inst_base = np.cumsum(n_inst, dtype=i32) - n_inst
    words = np.concatenate([m.words for m in modules])
    starts = np.concatenate([m.starts for m in modules]).astype(i32, copy=False)
    starts += np.repeat(word_base, n_inst)
    id_pos = np.concatenate([m.id_pos for m in modules]).astype(i32, copy=False)
    id_pos += np.repeat(word_base, n_ids)
    id_inst = np.concatenate([m.id_inst for m in modules]).astype(i32, copy=False)
    id_inst += np.repeat(inst_base, n_ids)
    words[id_pos] += np.repeat(np.asarray(shifts, dtype=np.uint32), n_ids)
    sizes = np.concatenate([m.sizes for m in modules])
    opcodes = np.concatenate([m.opcodes for m in modules])
    # Sections are recomputed by the caller's reordering; keep each module's own here.
    sections = np.concatenate([m.sections for m in modules])
    return Module(version=version, generator=generator, bound=bound, words=words,
                  starts=starts, sizes=sizes, opcodes=opcodes, sections=sections,
                  id_pos=id_pos, id_inst=id_inst)


class InstructionError(SpvError):
    """An instruction that cannot be part of a module; `index`: its place in the input."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def walk_instruction(ws: Sequence[int], ctx: WalkContext, index: int) -> WalkResult:
    """`walk` an instruction given as words from outside (the assembler's raw words, a
    pass's rewrite): its first word must count its words, as the reader requires."""
    wc = word_count_of(ws[0]) if ws else 0
    if wc != len(ws) or not ws:
        what = f"{grammar().opname(opcode_of(ws[0]))}: " if ws else ""
        raise InstructionError(f"{what}the first word counts {wc} words, the instruction "
                               f"has {len(ws)}", index)
    try:
        return walk(ws, ctx)
    except WalkError as exc:
        raise InstructionError(f"cannot encode {grammar().opname(opcode_of(ws[0]))}: "
                               f"{exc.message}", index) from None


def instruction_from_words(ws: Sequence[int], ctx: WalkContext) -> Instruction:
    res = walk(ws, ctx)
    info = res.info
    inst = Instruction(opcode_of(ws[0]))
    ops: list[Operand] = []
    for span in res.operands:
        if span.kind == "IdResultType":
            inst.result_type = ws[span.start]
        elif span.kind == "IdResult":
            inst.result_id = ws[span.start]
        else:
            ops.append(Operand(span.kind, tuple(ws[span.start:span.end])))
    inst.operands = ops
    del info
    return inst
