"""Decode one instruction's words into typed operands, driven by the grammar.

This is the one place that knows the grammar's special cases:
- `OpConstant`/`OpSpecConstant` literal width comes from the result type;
- `OpSwitch` literal width comes from the selector's type;
- `OpSpecConstantOp` embeds another opcode whose operands follow;
- enum operands may carry parameters (`Decoration`, `ExecutionMode`, image operands,
  memory access and loop control masks);
- `OpExtInst` operands come from the named set's grammar, and a `NonSemantic.*` set
  without a grammar takes every operand as an id.

The reader, the disassembler and the assembler's encoder all go through here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .._words import decode_string, opcode_of
from ..spec import Op
from . import (
    EXT_INST_FILES,
    ONE,
    OPTIONAL,
    ExtInstSet,
    InstructionInfo,
    OperandKind,
    OperandSpec,
    ext_inst_set,
    grammar,
)

ID_KINDS = frozenset({"IdResultType", "IdResult", "IdRef", "IdScope", "IdMemorySemantics"})

# Opcodes whose layout the walk cannot learn from the header word and enum values alone.
EXT_INST_OPCODES = frozenset({Op.ExtInst, Op.ExtInstWithForwardRefsKHR})


def ext_set_known(name: str) -> bool:
    """Whether an OpExtInstImport may name this set: one with a grammar, or any
    `NonSemantic.*` set. SPIRV-Tools' `spvExtInstImportTypeGet` answers the same (its
    parser, and so spirv-dis and spirv-as, refuse any other name: "Invalid extended
    instruction import")."""
    return name in EXT_INST_FILES or name.startswith("NonSemantic.")


def literal_words(width: Any) -> Any:
    """Words of a literal typed by a numeric type of `width` bits (an int, or a numpy
    array of them): whole words, low-order first, as SPIRV-Tools' parser counts them
    (`(bit_width + 31) / 32`). A width of 0 gives no words; `typed_number` and the
    reader refuse such a literal, which no producer writes and spirv-dis reads as empty."""
    return (width + 31) // 32


class WalkError(Exception):
    """Low-level decoding failure; `word` is the index within the instruction."""

    def __init__(self, message: str, word: int) -> None:
        super().__init__(message)
        self.message = message
        self.word = word


class Span(NamedTuple):
    """One decoded operand: its kind and its words [start, end) within the instruction."""

    kind: str
    start: int
    end: int


class WalkResult(NamedTuple):
    info: InstructionInfo
    operands: list[Span]
    ext: ExtInstSet | None
    # Offsets of the words whose values decided the layout (enum values with parameters);
    # None when the layout also depends on strings or on other instructions.
    deps: list[int] | None
    # Enum operands whose value does not change the layout but must be a known value.
    checks: list[tuple[int, OperandKind]]

    @property
    def id_offsets(self) -> list[int]:
        return [o.start for o in self.operands if o.kind in ID_KINDS]


class WalkContext(NamedTuple):
    """What decoding needs to know about the rest of the module."""

    type_width: Callable[[int], int | None]  # width of an OpTypeInt/OpTypeFloat id
    value_width: Callable[[int], int | None]  # width of a value id's integer type
    ext_set_name: Callable[[int], str | None]  # import string of an OpExtInstImport id


def enum_allowed(kind: OperandKind, value: int) -> bool:
    if kind.category == "BitEnum":
        known = 0
        for v in kind.enumerants:
            known |= v
        return value & ~known == 0
    return value in kind.enumerants


def enum_parameters(kind: OperandKind, value: int) -> list[OperandSpec]:
    """Parameters that follow an enum operand, in the order the spec lays them out."""
    if kind.category == "BitEnum":
        params: list[OperandSpec] = []
        bit = 1
        while bit <= value:
            if value & bit:
                e = kind.enumerants.get(bit)
                if e is not None:
                    params.extend(e.parameters)
            bit <<= 1
        return params
    e = kind.enumerants.get(value)
    return list(e.parameters) if e is not None else []


class _Walker:
    __slots__ = ("words", "wc", "ctx", "out", "deps", "checks", "cacheable", "ext", "g")

    def __init__(self, words: Sequence[int], ctx: WalkContext) -> None:
        self.words = words
        self.wc = len(words)
        self.ctx = ctx
        self.out: list[Span] = []
        self.deps: list[int] = []
        self.checks: list[tuple[int, OperandKind]] = []
        self.cacheable = True
        self.ext: ExtInstSet | None = None
        self.g = grammar()

    def specs(self, specs: Sequence[OperandSpec], pos: int) -> int:
        for spec in specs:
            if spec.quantifier == ONE:
                if pos >= self.wc:
                    raise WalkError(f"missing operand {spec.name or spec.kind}", pos)
                pos = self.one(spec.kind, pos)
            elif spec.quantifier == OPTIONAL:
                if pos < self.wc:
                    pos = self.one(spec.kind, pos)
            else:
                while pos < self.wc:
                    pos = self.one(spec.kind, pos)
        return pos

    def need(self, pos: int, count: int, what: str) -> None:
        if pos + count > self.wc:
            raise WalkError(f"missing operand {what}", pos)

    def one(self, kind: str, pos: int) -> int:
        if kind in ID_KINDS:
            self.out.append(Span(kind, pos, pos + 1))
            return pos + 1
        if kind == "LiteralString":
            return self.string(pos)
        if kind == "LiteralContextDependentNumber":
            return self.typed_number(pos, self.ctx.type_width(self.words[1]), "constant's type")
        if kind == "LiteralSpecConstantOpInteger":
            return self.spec_constant_op(pos)
        if kind == "LiteralExtInstInteger":
            return self.ext_inst(pos)
        if kind in ("LiteralInteger", "LiteralFloat"):
            self.out.append(Span(kind, pos, pos + 1))
            return pos + 1
        try:
            ok = self.g.operand_kind(kind, self.ext)
        except KeyError:
            raise WalkError(f"unknown operand kind {kind}", pos) from None
        if ok.category == "Composite":
            if kind == "PairLiteralIntegerIdRef" and self.info_opcode == Op.Switch:
                pos = self.typed_number(pos, self.ctx.value_width(self.words[1]),
                                        "selector's type", "an integer scalar type")
                return self.one("IdRef", pos) if pos < self.wc else self.missing(pos, "IdRef")
            for base in ok.bases:
                self.need(pos, 1, base)
                pos = self.one(base, pos)
            return pos
        if ok.is_enum:
            value = self.words[pos]
            if not enum_allowed(ok, value):
                raise WalkError(f"unknown {kind} value {value}", pos)
            self.out.append(Span(kind, pos, pos + 1))
            params = enum_parameters(ok, value)
            if ok.has_parameters:
                self.deps.append(pos)
            else:
                self.checks.append((pos, ok))
            pos += 1
            for p in params:
                self.need(pos, 1, f"{p.kind} of {kind}")
                pos = self.one(p.kind, pos)
            return pos
        # A literal kind of an extended set's grammar (one word).
        self.out.append(Span(kind, pos, pos + 1))
        return pos + 1

    @property
    def info_opcode(self) -> int:
        return opcode_of(self.words[0])

    def missing(self, pos: int, what: str) -> int:
        raise WalkError(f"missing operand {what}", pos)

    def string(self, pos: int) -> int:
        self.cacheable = False
        start = pos
        while pos < self.wc:
            w = self.words[pos]
            pos += 1
            if (w & 0xFF000000) == 0 or (w & 0xFF0000) == 0 or (w & 0xFF00) == 0 or (w & 0xFF) == 0:
                self.out.append(Span("LiteralString", start, pos))
                return pos
        raise WalkError("string without its terminating NUL", start)

    def typed_number(self, pos: int, width: int | None, what: str,
                     wanted: str = "a numeric scalar type") -> int:
        self.cacheable = False
        if width is None:
            raise WalkError(f"{what} is not {wanted}", pos)
        if width == 0:
            raise WalkError(f"{what} is a 0-bit numeric type, which has no literals", pos)
        count = literal_words(width)
        self.need(pos, count, f"{width}-bit literal")
        self.out.append(Span("LiteralContextDependentNumber", pos, pos + count))
        return pos + count

    def spec_constant_op(self, pos: int) -> int:
        self.cacheable = False
        opcode = self.words[pos]
        info = self.g.instructions.get(opcode)
        if info is None:
            raise WalkError(f"unknown opcode {opcode} in OpSpecConstantOp", pos)
        if opcode not in _spec_constant_opcodes(self.g):
            raise WalkError(f"{self.g.opname(opcode)} cannot be an OpSpecConstantOp's "
                            f"operation", pos)
        self.out.append(Span("LiteralSpecConstantOpInteger", pos, pos + 1))
        rest = [o for o in info.operands if o.kind not in ("IdResultType", "IdResult")]
        return self.specs(rest, pos + 1)

    def ext_inst(self, pos: int) -> int:
        self.cacheable = False
        set_name = self.ctx.ext_set_name(self.words[3])
        if set_name is None:
            raise WalkError(f"%{self.words[3]} is not an OpExtInstImport", 3)
        number = self.words[pos]
        self.out.append(Span("LiteralExtInstInteger", pos, pos + 1))
        ext = ext_inst_set(set_name)
        if ext is None:
            if set_name.startswith("NonSemantic."):
                while pos + 1 < self.wc:
                    pos += 1
                    self.out.append(Span("IdRef", pos, pos + 1))
                return self.wc
            raise WalkError(f"unknown extended instruction set \"{set_name}\"", 3)
        einfo = ext.instructions.get(number)
        if einfo is None:
            raise WalkError(f"unknown {set_name} instruction {number}", pos)
        self.ext = ext
        return self.specs(einfo.operands, pos + 1)


def walk(words: Sequence[int], ctx: WalkContext) -> WalkResult:
    """Decode one instruction (header word included) into typed operands."""
    g = grammar()
    opcode = opcode_of(words[0])
    info = g.instructions.get(opcode)
    if info is None:
        raise WalkError(f"unknown opcode {opcode}", 0)
    w = _Walker(words, ctx)
    if opcode in EXT_INST_OPCODES:
        # Result type, result, set, then the set's own operands.
        pos = w.specs(info.operands[:3], 1)
        w.need(pos, 1, "instruction number")
        pos = w.ext_inst(pos)
    else:
        pos = w.specs(info.operands, 1)
        if opcode == Op.ExtInstImport and pos == w.wc:
            name = decode_string(words[2:])
            if not ext_set_known(name):
                raise WalkError(f"unknown extended instruction set \"{name}\"", 2)
    if pos != w.wc:
        raise WalkError(f"{w.wc - pos} surplus operand word(s)", pos)
    return WalkResult(info, w.out, w.ext, w.deps if w.cacheable else None, w.checks)


# The operations an OpSpecConstantOp may compute (the specification's list, which
# SPIRV-Tools' assembly grammar holds as kOpSpecConstantOpcodes): a module naming another
# one is refused by spirv-dis, so it is refused here too.
_SPEC_CONSTANT_OPERATIONS = (
    "SConvert", "FConvert", "ConvertFToS", "ConvertSToF", "ConvertFToU", "ConvertUToF",
    "UConvert", "ConvertPtrToU", "ConvertUToPtr", "GenericCastToPtr", "PtrCastToGeneric",
    "Bitcast", "QuantizeToF16", "SNegate", "Not", "IAdd", "ISub", "IMul", "UDiv", "SDiv",
    "UMod", "SRem", "SMod", "ShiftRightLogical", "ShiftRightArithmetic", "ShiftLeftLogical",
    "BitwiseOr", "BitwiseAnd", "BitwiseXor", "FNegate", "FAdd", "FSub", "FMul", "FDiv",
    "FRem", "FMod", "VectorShuffle", "CompositeExtract", "CompositeInsert", "LogicalOr",
    "LogicalAnd", "LogicalNot", "LogicalEqual", "LogicalNotEqual", "Select", "IEqual",
    "INotEqual", "ULessThan", "SLessThan", "UGreaterThan", "SGreaterThan", "ULessThanEqual",
    "SLessThanEqual", "UGreaterThanEqual", "SGreaterThanEqual", "AccessChain",
    "InBoundsAccessChain", "PtrAccessChain", "InBoundsPtrAccessChain",
    "CooperativeMatrixLengthNV", "CooperativeMatrixLengthKHR",
)


_spec_constant_memo: list[frozenset[int]] = []  # the grammar is loaded once per process


def _spec_constant_opcodes(g: Any) -> frozenset[int]:
    if not _spec_constant_memo:
        by_name = dict(zip(g.table.opname, g.table.opcode, strict=True))
        _spec_constant_memo.append(frozenset(
            by_name[f"Op{n}"] for n in _SPEC_CONSTANT_OPERATIONS if f"Op{n}" in by_name))
    return _spec_constant_memo[0]

