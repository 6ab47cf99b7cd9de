"""disassemble(Module) -> str, in SPIRV-Tools' assembly language, as `spirv-dis` prints it.

Operand layouts come from the grammar walk, memoised per header word (and the values
of the enum operands that decide the layout) like the binary reader does, so a large
module costs one dict lookup and one string join per instruction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import SpvError
from ..grammar import ExtInstSet, OperandKind, grammar
from ..grammar.walk import ID_KINDS, WalkError, walk
from ..ir import Module
from ..ir.context import DecodeContext
from ..ir.layout import CONTEXT_DEPENDENT_OPCODES
from ..ir.module import decode_string
from ..spec import Op
from .friendly_names import friendly_names
from .literals import FLOAT_FORMATS, format_float, format_number, quote_string

# Operand formatters, one small int per span kind.
_ID, _RESULT, _STRING, _UINT, _NUMBER, _VALUE, _MASK, _SPECOP, _EXTINST, _FLOAT = range(10)

# A plan: tuple of (code, start, end, OperandKind | None).
_Plan = tuple[tuple[int, int, int, Any], ...]

# header word -> (offsets of layout-deciding enum words, {their values: plan})
_memo: dict[int, tuple[tuple[int, ...], dict[tuple[int, ...], _Plan]]] = {}


def _plan_of(res_operands: list[Any], ext: ExtInstSet | None) -> _Plan:
    g = grammar()
    out = []
    for span in res_operands:
        kind = span.kind
        okind: OperandKind | None = None
        if kind == "IdResult":
            code = _RESULT
        elif kind in ID_KINDS:
            code = _ID
        elif kind == "LiteralString":
            code = _STRING
        elif kind == "LiteralContextDependentNumber":
            code = _NUMBER
        elif kind == "LiteralSpecConstantOpInteger":
            code = _SPECOP
        elif kind == "LiteralExtInstInteger":
            code = _EXTINST
        elif kind == "LiteralFloat":
            code = _FLOAT
        else:
            try:
                okind = g.operand_kind(kind, ext)
            except KeyError:
                okind = None
            if okind is not None and okind.is_enum:
                code = _MASK if okind.is_bit_enum else _VALUE
            else:
                code, okind = _UINT, None
        out.append((code, span.start, span.end, okind))
    return tuple(out)


def disassemble(module: Module, *, raw_id: bool = False, header: bool = True,
                indent: bool = True) -> str:
    """The module as SPIRV-Tools assembly text, equal to `spirv-dis [--raw-id]` output
    (`header=False`: `--no-header`; `indent=False`: `--no-indent`)."""
    from ..grammar import generator_name

    g = grammar()
    lines: list[str] = []
    if header:
        major, minor = (module.version >> 16) & 0xFF, (module.version >> 8) & 0xFF
        lines.append("; SPIR-V")
        lines.append(f"; Version: {major}.{minor}")
        lines.append(f"; Generator: {generator_name(module.generator)}")
        lines.append(f"; Bound: {module.bound}")
        lines.append(f"; Schema: {module.schema}")

    name: Callable[[int], str] = str if raw_id else friendly_names(module)
    ctx = module.decode_context()
    walk_ctx = ctx.at(None)
    ext_sets: dict[int, ExtInstSet | None] = {}
    words: list[int] = module.words.tolist()
    starts: list[int] = module.starts.tolist()
    opnames = dict(zip(g.table.opcode, g.table.opname, strict=True))
    pad_cache: dict[int, str] = {}
    no_result = " " * 15 if indent else ""
    memo = _memo
    append = lines.append

    for index, s in enumerate(starts):
        hdr = words[s]
        ws = words[s:s + (hdr >> 16)]
        plan: _Plan | None = None
        ext: ExtInstSet | None = None
        entry = memo.get(hdr)
        if entry is not None:
            plan = entry[1].get(tuple([ws[d] for d in entry[0]]) if entry[0] else ())
        if plan is None:
            try:
                res = walk(ws, walk_ctx)
            except WalkError as exc:
                raise SpvError(f"cannot disassemble instruction {index} "
                               f"({g.opname(hdr & 0xFFFF)}): {exc.message}") from None
            ext = res.ext
            plan = _plan_of(res.operands, ext)
            if res.deps is not None and (hdr & 0xFFFF) not in CONTEXT_DEPENDENT_OPCODES:
                deps = tuple(res.deps)
                if entry is None or entry[0] != deps:
                    entry = (deps, {})
                    memo[hdr] = entry
                entry[1][tuple([ws[d] for d in deps])] = plan
        parts = [opnames[hdr & 0xFFFF]]
        prefix = no_result
        raw_rest = False  # an operand printed as raw words: so are all after it but ids
        for code, a, b, okind in plan:
            if code == _ID:
                parts.append("%" + name(ws[a]))
            elif code == _RESULT:
                rname = name(ws[a])
                if indent:
                    n = len(rname)
                    pad = pad_cache.get(n)
                    if pad is None:
                        pad = pad_cache[n] = " " * max(0, 11 - n)
                    prefix = f"{pad}%{rname} = "
                else:
                    prefix = f"%{rname} = "
            elif raw_rest:
                parts.append(raw_words(ws[a:b]))
            elif code == _UINT:
                parts.append(str(ws[a]))
            elif code == _VALUE:
                e = okind.enumerants.get(ws[a])
                parts.append(e.name if e is not None else str(ws[a]))
            elif code == _MASK:
                text = _mask(okind, ws[a])
                if not text:
                    raw_rest = True
                    text = raw_words(ws[a:b])
                parts.append(text)
            elif code == _STRING:
                if not _padded(ws[b - 1]):  # bytes after the string's NUL
                    raw_rest = True
                    parts.append(raw_words(ws[a:b]))
                else:
                    parts.append(quote_string(decode_string(ws[a:b])))
            elif code == _NUMBER:
                number = _typed_number(ctx, ws, a, b)
                if number is None:
                    raw_rest = True
                    number = raw_words(ws[a:b])
                parts.append(number)
            elif code == _SPECOP:
                info = g.instructions.get(ws[a])
                parts.append(info.opname[2:] if info is not None else str(ws[a]))
            elif code == _EXTINST:
                ext = _ext_of(ctx, ext_sets, ws[3])
                einfo = ext.instructions.get(ws[a]) if ext is not None else None
                parts.append(einfo.opname if einfo is not None else str(ws[a]))
            else:  # _FLOAT
                parts.append(format_float(ws[a], 32))
        append(prefix + " ".join(parts))
    lines.append("")
    return "\n".join(lines)


# Sets spvlink has a grammar for but SPIRV-Tools 2025.5 does not: spirv-dis prints their
# instruction numbers (their operands are all ids, so the layout is the same).
TOOLS_UNKNOWN_SETS = frozenset(
    {"NonSemantic.DebugPrintf", "NonSemantic.DebugBreak", "NonSemantic.VkspReflection"})


def _ext_of(ctx: DecodeContext, ext_sets: dict[int, ExtInstSet | None],
            set_id: int) -> ExtInstSet | None:
    from ..grammar import ext_inst_set

    if set_id not in ext_sets:
        set_name = ctx.ext_set_name(set_id)
        if set_name is None or set_name in TOOLS_UNKNOWN_SETS:
            ext_sets[set_id] = None
        else:
            ext_sets[set_id] = ext_inst_set(set_name)
    return ext_sets[set_id]


def _padded(word: int) -> bool:
    """Whether a string's last word has only NULs from its first NUL on, as
    `encode_string` writes it."""
    for shift in (0, 8, 16, 24):
        if not (word >> shift) & 0xFF:
            return word >> shift == 0
    return False


def raw_words(words: list[int]) -> str:
    """Words as spirv-as's raw `!<n>` operands: for values that the usual spelling would
    not give back word for word (the assembler takes the rest of such an instruction
    by spelling: ids, raw words)."""
    return " ".join(f"!{w:#010x}" for w in words)


def _mask(kind: OperandKind, value: int) -> str:
    if value == 0:
        e = kind.enumerants.get(0)
        return e.name if e is not None else ""
    names = []
    bit = 1
    rest = value
    while rest:
        if rest & bit:
            rest ^= bit
            e = kind.enumerants.get(bit)
            names.append(e.name if e is not None else str(bit))
        bit <<= 1
    return "|".join(names)


def _typed_number(ctx: DecodeContext, ws: list[int], a: int, b: int) -> str | None:
    """A typed literal as spirv-dis prints it; None when that spelling would not assemble
    back to these words: bits above the type's width that are not the zero or sign
    extension the spec asks for, or a float width spirv-as cannot spell. (Every 16-, 32-
    and 64-bit float pattern prints in a form that assembles back exactly: tested.)"""
    if ws[0] & 0xFFFF == Op.Switch:
        t = ctx.value_type(ws[1])
    else:
        t = ws[1]
    numeric = ctx.numeric_type(t) if t else None
    kind, width = numeric if numeric is not None else ("u", 32 * (b - a))
    words = ws[a:b]
    bits = 0
    for k, w in enumerate(words):
        bits |= w << (32 * k)
    if width < 1:
        return None
    if kind == "s":
        top = bits >> (width - 1)  # the sign bit and all above it: all equal
        if top and top != (1 << (32 * len(words) - width + 1)) - 1:
            return None
    elif bits >> width or (kind == "f" and width not in FLOAT_FORMATS):
        return None
    return format_number(words, kind, width)
