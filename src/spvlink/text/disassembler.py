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
from ..grammar.walk import ID_KINDS, WalkContext, WalkError, walk
from ..ir import Module
from ..ir.module import decode_string
from ..spec import Op
from .friendly_names import friendly_names
from .literals import format_float, format_number, quote_string

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


class _Context:
    """Per-module facts: numeric types, value types (lazily), extended sets."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.numeric: dict[int, tuple[str, int]] = {}
        self.ext_names: dict[int, str] = {}
        self.ext_sets: dict[int, ExtInstSet | None] = {}
        self._value_types: dict[int, int] | None = None
        for i in module.indices_of(Op.TypeInt, Op.TypeFloat, Op.ExtInstImport).tolist():
            ws = module.inst_words(i)
            if len(ws) < 3:
                continue
            if ws[0] & 0xFFFF == Op.TypeInt:
                self.numeric[ws[1]] = ("s" if len(ws) > 3 and ws[3] else "u", ws[2])
            elif ws[0] & 0xFFFF == Op.TypeFloat:
                self.numeric[ws[1]] = ("f", ws[2])
            else:
                self.ext_names[ws[1]] = decode_string(ws[2:])
        widths = {k: v[1] for k, v in self.numeric.items()}
        self.walk_ctx = WalkContext(
            type_width=widths.get,
            value_width=lambda v: widths.get(self.value_type(v) or 0),
            ext_set_name=self.ext_names.get,
        )

    def value_type(self, value: int) -> int | None:
        if self._value_types is None:
            import numpy as np

            rid, rty = self.module.result_ids, self.module.result_types
            has = np.flatnonzero(rid)
            self._value_types = dict(zip(rid[has].tolist(), rty[has].tolist(), strict=True))
        return self._value_types.get(value)


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
    ctx = _Context(module)
    words: list[int] = module.words.tolist()
    starts: list[int] = module.starts.tolist()
    opnames = {op: info.opname for op, info in g.instructions.items()}
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
                res = walk(ws, ctx.walk_ctx)
            except WalkError as exc:
                raise SpvError(f"cannot disassemble instruction {index} "
                               f"({g.opname(hdr & 0xFFFF)}): {exc.message}") from None
            ext = res.ext
            plan = _plan_of(res.operands, ext)
            if res.deps is not None and (hdr & 0xFFFF) not in _NEVER_MEMO:
                deps = tuple(res.deps)
                if entry is None or entry[0] != deps:
                    entry = (deps, {})
                    memo[hdr] = entry
                entry[1][tuple([ws[d] for d in deps])] = plan
        parts = [opnames[hdr & 0xFFFF]]
        prefix = no_result
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
            elif code == _UINT:
                parts.append(str(ws[a]))
            elif code == _VALUE:
                e = okind.enumerants.get(ws[a])
                parts.append(e.name if e is not None else str(ws[a]))
            elif code == _MASK:
                parts.append(_mask(okind, ws[a]))
            elif code == _STRING:
                parts.append(quote_string(decode_string(ws[a:b])))
            elif code == _NUMBER:
                parts.append(_typed_number(ctx, ws, a, b))
            elif code == _SPECOP:
                info = g.instructions.get(ws[a])
                parts.append(info.opname[2:] if info is not None else str(ws[a]))
            elif code == _EXTINST:
                ext = _ext_of(ctx, ws[3])
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

_NEVER_MEMO = frozenset({Op.ExtInst, Op.ExtInstWithForwardRefsKHR, Op.Constant,
                         Op.SpecConstant, Op.Switch})


def _ext_of(ctx: _Context, set_id: int) -> ExtInstSet | None:
    from ..grammar import ext_inst_set

    if set_id not in ctx.ext_sets:
        set_name = ctx.ext_names.get(set_id)
        if set_name is None or set_name in TOOLS_UNKNOWN_SETS:
            ctx.ext_sets[set_id] = None
        else:
            ctx.ext_sets[set_id] = ext_inst_set(set_name)
    return ctx.ext_sets[set_id]


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


def _typed_number(ctx: _Context, ws: list[int], a: int, b: int) -> str:
    opcode = ws[0] & 0xFFFF
    if opcode == Op.Switch:
        t = ctx.value_type(ws[1])
    else:
        t = ws[1]
    kind, width = ctx.numeric.get(t or 0, ("u", 32 * (b - a)))
    return format_number(ws[a:b], kind, width)
