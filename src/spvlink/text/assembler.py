"""assemble(str) -> Module: SPIRV-Tools' assembly language, as `spirv-as` reads it.

The text is a stream of words (whitespace-separated; `;` starts a comment; `"..."` with
backslash escapes is one word). An instruction is `[%result =] OpName operand...`; its
operands are read as the grammar expects them, and an optional or repeated operand ends
where the next instruction begins (a word `Op<Upper>...`, or `%x` followed by `=`).
Ids are numbered in order of first appearance (`preserve_numeric_ids=True`: `%<n>` keeps
its number and the others take the free numbers). `!<n>` is a raw word anywhere an
operand may stand, and in place of an opcode it is the instruction's first word, the
following words then being raw words, ids, integers or strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .._words import MAX_WORD_COUNT, bound_error, version_error, version_word
from ..errors import AssemblyError
from ..grammar import (
    MANY,
    ONE,
    OPTIONAL,
    ExtInstSet,
    OperandSpec,
    ext_inst_set,
    grammar,
)
from ..grammar.walk import ID_KINDS
from ..ir import Module
from ..ir.context import DecodeContext
from ..ir.module import InstructionError, encode_string
from .literals import (
    LiteralError,
    encode_float,
    encode_integer,
    parse_c_integer,
    unescape_string,
)

# The generator word spvlink writes into assembled modules: tool id 0 (reserved by Khronos,
# spirv-dis prints "Khronos; 1"), version 1: the same word as `spvlink.link.GENERATOR`.
SPVLINK_GENERATOR = 0x00000001

DEFAULT_VERSION = 0x00010600  # spirv-as without --target-env writes SPIR-V 1.6

_TOKEN = re.compile(
    r"""[ \t\r\n\f\v]+|;[^\n]*|((?:[^\s;"\\]|\\.|"(?:[^"\\]|\\.)*")+)|("(?:[^"\\]|\\.)*\Z)""",
    re.S)
_NEW_INST = re.compile(r"Op[A-Z]")
_VERSION = re.compile(r"^;\s*Version:\s*(\d+)\.(\d+)\s*$", re.M)
_GENERATOR = re.compile(r"^;\s*Generator:\s*(.*);\s*(\d+)\s*$", re.M)
_BOUND = re.compile(r"^;\s*Bound:\s*(\d+)\s*$", re.M)
_SCHEMA = re.compile(r"^;\s*Schema:\s*(\d+)\s*$", re.M)
_UNKNOWN_TOOL = re.compile(r"Unknown\((\d+)\)\Z")


class _Fail(Exception):
    """An error at token index `token` (None: the end of the text)."""

    def __init__(self, message: str, token: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.token = token


class _Assembler:
    def __init__(self, text: str, preserve_numeric_ids: bool) -> None:
        self.text = text
        self.g = grammar()
        words: list[str] = []
        offsets: list[int] = []
        for m in _TOKEN.finditer(text):
            if m.group(2) is not None:
                raise self.error_at("unterminated string", m.start(2))
            if m.group(1) is not None:
                words.append(m.group(1))
                offsets.append(m.start(1))
        self.words = words
        self.offsets = offsets
        self.pos = 0
        self.ids: dict[str, int] = {}
        self.next_id = 1
        self.preserved: set[int] = set()
        if preserve_numeric_ids:
            self.preserved = {int(w[1:]) for w in words
                              if len(w) > 1 and w[0] == "%" and w[1:].isdigit()}
        self.ctx = DecodeContext()  # what the instructions so far tell later ones
        self.insts: list[list[int]] = []
        self.inst_tokens: list[int] = []
        self.generic = False
        self.opname = ""

    # -- positions and errors -----------------------------------------------------------

    def error_at(self, message: str, offset: int) -> AssemblyError:
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return AssemblyError(message, line=line, column=column)

    def error(self, fail: _Fail) -> AssemblyError:
        if fail.token is None or fail.token >= len(self.offsets):
            return self.error_at(fail.message, len(self.text))
        return self.error_at(fail.message, self.offsets[fail.token])

    # -- the token cursor ---------------------------------------------------------------

    def at_end(self) -> bool:
        return self.pos >= len(self.words)

    def at_new_instruction(self) -> bool:
        if self.pos >= len(self.words):
            return True
        w = self.words[self.pos]
        if _NEW_INST.match(w):
            return True
        return (w[0] == "%" and self.pos + 1 < len(self.words)
                and self.words[self.pos + 1] == "=")

    def take(self, what: str) -> tuple[str, int]:
        if self.pos >= len(self.words):
            raise _Fail(f"expected {what}, found the end of the text", None)
        i = self.pos
        self.pos += 1
        return self.words[i], i

    # -- ids ------------------------------------------------------------------------------

    def id_of(self, word: str, index: int) -> int:
        if len(word) < 2 or word[0] != "%":
            raise _Fail(f"expected an id (%name), found '{word}'", index)
        name = word[1:]
        found = self.ids.get(name)
        if found is not None:
            return found
        if self.preserved and name.isdigit() and int(name) in self.preserved:
            value = int(name)
        else:
            value = self.next_id
            while value in self.preserved:
                value += 1
            self.next_id = value + 1
        if value == 0 or value > 0xFFFFFFFF:
            raise _Fail(f"id {word} is out of range", index)
        self.ids[name] = value
        return value

    # -- instructions -------------------------------------------------------------------

    def run(self) -> None:
        while not self.at_end():
            start = self.pos
            try:
                ws = self.instruction()
            except _Fail as fail:
                raise self.error(fail) from None
            self.insts.append(ws)
            self.inst_tokens.append(start)
            self.ctx.observe(ws)

    def instruction(self) -> list[int]:
        result: int | None = None
        self.generic = False
        first = self.pos
        word, index = self.take("an instruction")
        if word[0] == "%" and self.pos < len(self.words) and self.words[self.pos] == "=":
            result_word, result_index = word, index
            self.pos += 1
            word, index = self.take(f"an opcode after '{result_word} ='")
            if word.startswith("!"):
                raise _Fail(f"invalid opcode prefix '{word}': a raw instruction "
                            "cannot name its result", index)
            result = self.id_of(result_word, result_index)
        if word.startswith("!"):
            return self.raw_instruction(word, index)
        info = self.g.by_name.get(word)
        if info is None:
            if word.startswith("Op"):
                raise _Fail(f"unknown opcode '{word}'", index)
            raise _Fail(f"expected an opcode or '%result =', found '{word}'", index)
        if info.has_result and result is None:
            raise _Fail(f"{info.opname} needs a result id: write '%name = {info.opname} ...'",
                        first)
        if not info.has_result and result is not None:
            raise _Fail(f"{info.opname} has no result id", first)
        ws = [0]
        self.opname = info.opname
        self.opcode_token = index
        self.operands(info.operands, ws, result)
        if not self.at_new_instruction() and not self.words[self.pos].startswith("!"):
            raise _Fail(f"too many operands for {info.opname}: '{self.words[self.pos]}'",
                        self.pos)
        if len(ws) > MAX_WORD_COUNT:
            raise _Fail(f"{info.opname} has more than 65535 words", index)
        ws[0] = (len(ws) << 16) | info.opcode
        return ws

    def raw_instruction(self, word: str, index: int) -> list[int]:
        ws = [self.raw_word(word, index)]
        self.generic_operands(ws)
        return ws

    def raw_word(self, word: str, index: int) -> int:
        try:
            value, _ = parse_c_integer(word[1:])
        except LiteralError:
            raise _Fail(f"invalid raw word '{word}'", index) from None
        if not 0 <= value <= 0xFFFFFFFF:
            raise _Fail(f"raw word '{word}' does not fit in 32 bits", index)
        return value

    def integer(self, word: str, index: int) -> int:
        try:
            return encode_integer(word, 32, False)[0]
        except LiteralError as exc:
            raise _Fail(str(exc), index) from None

    # -- operands -------------------------------------------------------------------------

    def operands(self, specs: Sequence[OperandSpec], ws: list[int], result: int | None,
                 ext: ExtInstSet | None = None) -> None:
        for spec in specs:
            if self.generic:
                return
            if spec.kind == "IdResult":
                assert result is not None
                ws.append(result)
            elif spec.quantifier == ONE:
                if self.at_new_instruction():
                    what = spec.name.strip("'") or spec.kind
                    if self.at_end():
                        raise _Fail(f"missing operand {what} of {self.opname}", None)
                    raise _Fail(f"missing operand {what} of {self.opname}: found "
                                f"'{self.words[self.pos]}'", self.pos)
                self.one(spec.kind, ws, ext)
            elif spec.quantifier == OPTIONAL:
                if not self.at_new_instruction():
                    self.one(spec.kind, ws, ext)
            else:
                assert spec.quantifier == MANY
                while not self.at_new_instruction():
                    self.one(spec.kind, ws, ext)

    def one(self, kind: str, ws: list[int], ext: ExtInstSet | None) -> None:
        word, index = self.take(kind)
        if word.startswith("!"):
            # As in spirv-as: after a raw word, the grammar no longer says what follows, so
            # the rest of the instruction is raw words, ids, integers and strings.
            ws.append(self.raw_word(word, index))
            self.generic_operands(ws)
            self.generic = True
            return
        if kind in ID_KINDS:
            ws.append(self.id_of(word, index))
            return
        if kind == "LiteralString":
            if len(word) < 2 or word[0] != '"' or word[-1] != '"':
                raise _Fail(f"expected a quoted string, found '{word}'", index)
            ws.extend(encode_string(unescape_string(word[1:-1])))
            return
        if kind == "LiteralInteger":
            ws.append(self.integer(word, index))
            return
        if kind == "LiteralFloat":
            ws.extend(self.float(word, index, 32))
            return
        if kind == "LiteralContextDependentNumber":
            ws.extend(self.typed(word, index, ws[1] if len(ws) > 1 else 0, "constant"))
            return
        if kind == "LiteralSpecConstantOpInteger":
            self.spec_constant_op(word, index, ws)
            return
        if kind == "LiteralExtInstInteger":
            self.ext_inst(word, index, ws)
            return
        try:
            okind = self.g.operand_kind(kind, ext)
        except KeyError:
            ws.append(self.integer(word, index))  # a literal kind of an extended set
            return
        if okind.category == "Composite":
            self.pos -= 1
            if kind == "PairLiteralIntegerIdRef" and self.opname == "OpSwitch":
                w, i = self.take("case literal")
                if w.startswith("!"):
                    ws.append(self.raw_word(w, i))
                else:
                    selector_type = (self.ctx.value_type(ws[1]) or 0) if len(ws) > 1 else 0
                    ws.extend(self.typed(w, i, selector_type, "selector"))
                self.operands([OperandSpec("IdRef", ONE, "'Label'")], ws, None, ext)
                return
            self.operands([OperandSpec(b, ONE, "") for b in okind.bases], ws, None, ext)
            return
        if not okind.is_enum:
            ws.append(self.integer(word, index))
            return
        value = 0
        params: list[OperandSpec] = []
        parts = word.split("|") if okind.is_bit_enum else [word]
        found: list[int] = []
        for part in parts:
            e = okind.by_name.get(part)
            if e is None:
                try:
                    v, _ = parse_c_integer(part)
                except LiteralError:
                    raise _Fail(f"unknown {kind} '{part}'", index) from None
                if not 0 <= v <= 0xFFFFFFFF:
                    raise _Fail(f"{kind} value '{part}' does not fit in 32 bits", index)
                value |= v
                if okind.is_bit_enum:
                    found.extend(b for b in okind.enumerants if b and v & b == b)
                else:
                    found.append(v)
            else:
                value |= e.value
                found.append(e.value)
        if okind.is_bit_enum:
            for bit in sorted(set(found)):
                e = okind.enumerants.get(bit)
                if e is not None and bit & value:
                    params.extend(e.parameters)
        else:
            e = okind.enumerants.get(value)
            if e is not None:
                params.extend(e.parameters)
        ws.append(value)
        if params:
            self.operands([OperandSpec(p.kind, ONE, p.name) for p in params], ws, None, ext)

    def float(self, word: str, index: int, width: int) -> list[int]:
        try:
            return encode_float(word, width)
        except LiteralError as exc:
            raise _Fail(str(exc), index) from None

    def typed(self, word: str, index: int, type_id: int, what: str) -> list[int]:
        t = self.ctx.numeric_type(type_id)
        if t is not None and t[0] == "f" and what == "selector":
            raise _Fail("the selector's type must be a scalar integer type", index)
        if t is None:
            raise _Fail(f"the {what}'s type must be a scalar integer or float type", index)
        kind, width = t
        try:
            if kind == "f":
                return encode_float(word, width)
            return encode_integer(word, width, kind == "s")
        except LiteralError as exc:
            raise _Fail(str(exc), index) from None

    def spec_constant_op(self, word: str, index: int, ws: list[int]) -> None:
        info = self.g.by_name.get("Op" + word) or self.g.by_name.get(word)
        if info is None:
            try:
                v, _ = parse_c_integer(word)
            except LiteralError:
                raise _Fail(f"unknown opcode '{word}' in OpSpecConstantOp", index) from None
            info = self.g.instructions.get(v)
            if info is None:
                raise _Fail(f"unknown opcode {v} in OpSpecConstantOp", index)
        ws.append(info.opcode)
        saved = self.opname
        self.opname = info.opname
        self.operands([o for o in info.operands if o.kind not in ("IdResultType", "IdResult")],
                      ws, None)
        self.opname = saved

    def ext_inst(self, word: str, index: int, ws: list[int]) -> None:
        set_name = self.ctx.ext_set_name(ws[3]) if len(ws) > 3 else None
        if set_name is None:
            raise _Fail(f"the set of {self.opname} is not an OpExtInstImport seen before",
                        index)
        ext = ext_inst_set(set_name)
        einfo = ext.by_name.get(word) if ext is not None else None
        if einfo is None:
            try:
                number, _ = parse_c_integer(word)
            except LiteralError:
                raise _Fail(f"unknown {set_name} instruction '{word}'", index) from None
            if not 0 <= number <= 0xFFFFFFFF:
                raise _Fail(f"extended instruction number {word} is out of range", index)
            einfo = ext.instructions.get(number) if ext is not None else None
            if einfo is None:
                if ext is not None or not set_name.startswith("NonSemantic."):
                    raise _Fail(f"unknown {set_name} instruction {number}", index)
                ws.append(number)
                self.generic_operands(ws)
                return
        ws.append(einfo.opcode)
        self.operands(einfo.operands, ws, None, ext)

    def generic_operands(self, ws: list[int]) -> None:
        """Operands read by their spelling alone: those of a NonSemantic set without a
        grammar, and those after an instruction given as a raw `!<n>` word."""
        while not self.at_new_instruction():
            w, i = self.take("an operand")
            if w.startswith("!"):
                ws.append(self.raw_word(w, i))
            elif w[0] == "%":
                ws.append(self.id_of(w, i))
            elif w[0] == '"':
                ws.extend(encode_string(unescape_string(w[1:-1])))
            else:
                ws.append(self.integer(w, i))


def _header_value(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    head_end = 0
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith(";"):
            break
        head_end += len(line)
    return pattern.search(text, 0, head_end)


def _generator_word(label: str, version: int) -> int | None:
    m = _UNKNOWN_TOOL.match(label)
    if m:
        tool = int(m.group(1))
        return (tool << 16) | version if tool <= 0xFFFF else None
    for tool, (vendor, name) in sorted(grammar().generators.items()):
        if (f"{vendor} {name}" if name else vendor) == label:
            return (tool << 16) | version
    return None


def assemble(text: str, *, version: int | None = None,
             preserve_numeric_ids: bool | None = None, keep_header: bool = False) -> Module:
    """Assemble SPIRV-Tools assembly text into a Module.

    `version`: the header's version word; else the text's `; Version: X.Y` comment; else
    SPIR-V 1.6. `keep_header=True` also takes the generator, bound and schema from the
    header comments that `disassemble`/spirv-dis write (where present).
    `preserve_numeric_ids` (`%5` stays id 5) defaults to `keep_header`, so that
    `assemble(disassemble(m, raw_id=True), keep_header=True)` gives `m` back word for word.

    What it returns passes the reader's checks (instructions given as raw `!<n>` words
    included), so it can always be written and read back.
    """
    if preserve_numeric_ids is None:
        preserve_numeric_ids = keep_header
    asm = _Assembler(text, preserve_numeric_ids)
    asm.run()
    if version is None:
        m = _header_value(_VERSION, text)
        if m is None:
            version = DEFAULT_VERSION
        else:
            major, minor = int(m.group(1)), int(m.group(2))
            version = version_word(major, minor) if max(major, minor) <= 0xFF else -1
            if version < 0 or version_error(version) is not None:
                raise asm.error_at(f"unknown SPIR-V version {m.group(1)}.{m.group(2)}",
                                   m.start(1))
    generator, schema = SPVLINK_GENERATOR, 0
    header_bound: re.Match[str] | None = None
    if keep_header:
        gm = _header_value(_GENERATOR, text)
        if gm is not None:
            word = _generator_word(gm.group(1).strip(), int(gm.group(2)) & 0xFFFF)
            if word is not None:
                generator = word
        header_bound = _header_value(_BOUND, text)
        sm = _header_value(_SCHEMA, text)
        if sm is not None:
            schema = int(sm.group(1))
            if schema > 0xFFFFFFFF:
                raise asm.error_at(f"schema {schema} does not fit in 32 bits", sm.start(1))
    try:
        module = Module.from_instructions(asm.insts, version=version, generator=generator,
                                          schema=schema)
    except InstructionError as exc:
        raise asm.error_at(exc.message, asm.offsets[asm.inst_tokens[exc.index]]) from None
    bound = max([module.bound, *(v + 1 for v in asm.ids.values())])
    if header_bound is not None and int(header_bound.group(1)) > bound:
        bound = int(header_bound.group(1))
        if bound_error(bound) is not None or bound > 0xFFFFFFFF:
            raise asm.error_at(bound_error(bound) or f"id bound {bound} does not fit in 32 "
                               "bits", header_bound.start(1))
    problem = bound_error(bound)
    if problem is not None:
        top = str(bound - 1)
        where = next((asm.offsets[k] for k, w in enumerate(asm.words)
                      if w[0] == "%" and asm.ids.get(w[1:]) == bound - 1), 0)
        raise asm.error_at(f"id %{top}: {problem}", where)
    return module.with_header(bound=bound)


__all__ = ["DEFAULT_VERSION", "SPVLINK_GENERATOR", "assemble"]
