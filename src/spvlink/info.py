"""A module's summary for `spvlink info`: `describe(module) -> dict`, `render_text(dict)`.

The dict is plain JSON data (`spvlink info --json`): header, capabilities, extensions,
memory model, entry points (execution model, modes, interface), imports and exports with
readable types, resources with descriptor set and binding, push constants and
specialization constants.
"""

from __future__ import annotations

import struct
from typing import Any

from ._words import opcode_of
from .grammar import generator_name, grammar
from .ir import Module, Section, decode_string
from .ir.facts import global_defs
from .ir.types import describe_type
from .spec import Decoration, Op
from .text.disassembler import raw_words

# Storage classes that hold resources bound through descriptors.
_RESOURCE_CLASSES = ("UniformConstant", "Uniform", "StorageBuffer", "Image",
                     "ShaderRecordBufferKHR", "TileImageEXT")


def _enum(kind: str, value: int) -> str:
    e = grammar().operand_kinds[kind].enumerants.get(value)
    return e.name if e else str(value)


def _names(m: Module) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in m.indices_of(Op.Name).tolist():
        ws = m.inst_words(i)
        out.setdefault(ws[1], decode_string(ws[2:]))
    return out


def _decorations(m: Module) -> dict[int, dict[str, Any]]:
    """Target id -> {decoration name: first parameter (or True)}, whole-id decorations."""
    out: dict[int, dict[str, Any]] = {}
    for i in m.indices_of(Op.Decorate).tolist():
        ws = m.inst_words(i)
        if len(ws) < 3:
            continue
        name = _enum("Decoration", ws[2])
        if ws[2] == Decoration.LinkageAttributes:
            value: Any = [decode_string(ws[3:-1]), _enum("LinkageType", ws[-1])]
        elif ws[2] == Decoration.BuiltIn and len(ws) > 3:
            value = _enum("BuiltIn", ws[3])
        elif len(ws) > 3:
            value = ws[3]
        else:
            value = True
        out.setdefault(ws[1], {})[name] = value
    return out


def _scalar_value(m: Module, type_id: int, words: list[int], defs: dict[int, int]) -> Any:
    i = defs.get(type_id)
    if i is None or not words:
        # No global numeric type to read the words by (a module out of order, or a bad
        # id): the raw words, spelled as the disassembler spells them.
        return raw_words(words)
    tw = m.inst_words(i)
    op = opcode_of(tw[0])
    raw = 0
    for k, w in enumerate(words):
        raw |= w << (32 * k)
    if op == Op.TypeInt:
        width, signed = tw[2], tw[3]
        if signed and raw >= 1 << (width - 1):
            raw -= 1 << width
        return raw
    if op == Op.TypeFloat:
        width = tw[2]
        if width == 32:
            return struct.unpack("<f", struct.pack("<I", raw & 0xFFFFFFFF))[0]
        if width == 64:
            return struct.unpack("<d", struct.pack("<Q", raw))[0]
        if width == 16:
            return struct.unpack("<e", struct.pack("<I", raw)[:2])[0]
    return raw


def describe(m: Module) -> dict[str, Any]:
    """Everything `spvlink info` shows, as JSON-ready data."""
    defs = global_defs(m)
    names = _names(m)
    decos = _decorations(m)

    def typ(t: int) -> str:
        return describe_type(m, t, defs)

    out: dict[str, Any] = {
        "version": "{}.{}".format(*m.version_tuple),
        "generator": generator_name(m.generator),
        "generator_word": m.generator,
        "bound": m.bound,
        "instructions": len(m),
        "capabilities": [],
        "extensions": [],
        "ext_inst_imports": [],
        "addressing_model": None,
        "memory_model": None,
        "entry_points": [],
        "imports": [],
        "exports": [],
        "resources": [],
        "push_constants": [],
        "spec_constants": [],
    }
    for i in m.indices(Section.CAPABILITY).tolist():
        out["capabilities"].append(_enum("Capability", m.inst_words(i)[1]))
    for i in m.indices(Section.EXTENSION).tolist():
        out["extensions"].append(decode_string(m.inst_words(i)[1:]))
    for i in m.indices(Section.EXT_INST_IMPORT).tolist():
        out["ext_inst_imports"].append(decode_string(m.inst_words(i)[2:]))
    for i in m.indices(Section.MEMORY_MODEL).tolist():
        ws = m.inst_words(i)
        out["addressing_model"] = _enum("AddressingModel", ws[1])
        out["memory_model"] = _enum("MemoryModel", ws[2])

    # Global variables: storage class and pointee type.
    variables: dict[int, tuple[str, int]] = {}
    for i in m.indices_of(Op.Variable).tolist():
        if int(m.sections[i]) == Section.FUNCTION:
            continue
        ws = m.inst_words(i)
        ptr = defs.get(ws[1])
        pointee = m.inst_words(ptr)[3] if ptr is not None and len(m.inst_words(ptr)) > 3 else 0
        variables[ws[2]] = (_enum("StorageClass", ws[3]), pointee)

    def var_info(v: int) -> dict[str, Any]:
        sc, pointee = variables.get(v, ("?", 0))
        d: dict[str, Any] = {"id": v, "storage_class": sc, "type": typ(pointee) if pointee
                             else "?"}
        if v in names:
            d["name"] = names[v]
        for key in ("BuiltIn", "Location", "DescriptorSet", "Binding", "Component"):
            if key in decos.get(v, {}):
                d[key[0].lower() + key[1:]] = decos[v][key]
        return d

    # Entry points and their execution modes.
    modes: dict[int, list[str]] = {}
    for i in m.indices(Section.EXECUTION_MODE).tolist():
        ws = m.inst_words(i)
        params = [f"%{w}" if opcode_of(ws[0]) == Op.ExecutionModeId else str(w)
                  for w in ws[3:]]
        modes.setdefault(ws[1], []).append(" ".join([_enum("ExecutionMode", ws[2]), *params]))
    for i in m.indices(Section.ENTRY_POINT).tolist():
        ws = m.inst_words(i)
        name = decode_string(ws[3:])
        n_name = (len(name.encode("utf-8")) + 4) // 4
        interface = ws[3 + n_name:]
        out["entry_points"].append({
            "name": name,
            "execution_model": _enum("ExecutionModel", ws[1]),
            "function": ws[2],
            "execution_modes": modes.get(ws[2], []),
            "interface": [var_info(v) for v in interface],
        })

    # Imports and exports.
    for target, d in decos.items():
        link = d.get("LinkageAttributes")
        if link is None:
            continue
        sym_name, kind = link
        i = defs.get(target)
        if i is None:  # a function: find its OpFunction
            fn = [k for k in m.indices_of(Op.Function).tolist() if m.inst_words(k)[2] == target]
            what, type_text = "function", typ(m.inst_words(fn[0])[4]) if fn else "?"
        elif int(m.opcodes[i]) == Op.Variable:
            what, type_text = "variable", typ(variables.get(target, ("?", 0))[1])
        else:
            what, type_text = _opname(int(m.opcodes[i])), typ(m.inst_words(i)[1])
        entry = {"name": sym_name, "kind": what, "type": type_text, "id": target}
        out["imports" if kind == "Import" else "exports"].append(entry)
    for key in ("imports", "exports"):
        out[key].sort(key=lambda e: e["name"])

    # Resources and push constants.
    for v, (sc, _pointee) in variables.items():
        d = decos.get(v, {})
        if sc == "PushConstant":
            out["push_constants"].append(var_info(v))
        elif sc in _RESOURCE_CLASSES or "DescriptorSet" in d or "Binding" in d:
            out["resources"].append(var_info(v))
    out["resources"].sort(key=lambda r: (r.get("descriptorSet", -1), r.get("binding", -1),
                                         r["id"]))

    # Specialization constants.
    spec_ops = (Op.SpecConstantTrue, Op.SpecConstantFalse, Op.SpecConstant,
                Op.SpecConstantComposite, Op.SpecConstantOp)
    for i in m.indices_of(*spec_ops).tolist():
        ws = m.inst_words(i)
        op = opcode_of(ws[0])
        rid = ws[2]
        default: Any
        if op == Op.SpecConstantTrue:
            default = True
        elif op == Op.SpecConstantFalse:
            default = False
        elif op == Op.SpecConstant:
            default = _scalar_value(m, ws[1], ws[3:], defs)
        elif op == Op.SpecConstantComposite:
            default = [f"%{c}" for c in ws[3:]]
        else:
            default = f"{_opname(ws[3])} " + " ".join(f"%{c}" for c in ws[4:])
        entry = {"id": rid, "type": typ(ws[1]), "default": default}
        if "SpecId" in decos.get(rid, {}):
            entry["spec_id"] = decos[rid]["SpecId"]
        if rid in names:
            entry["name"] = names[rid]
        out["spec_constants"].append(entry)
    return out


def _opname(op: int) -> str:
    return grammar().opname(op)


def _var_line(v: dict[str, Any]) -> str:
    parts = [v.get("name") or f"%{v['id']}", v["storage_class"], v["type"]]
    for key in ("builtIn", "location", "descriptorSet", "binding", "component"):
        if key in v:
            label = {"builtIn": "BuiltIn", "descriptorSet": "set"}.get(key, key)
            parts.append(f"{label} {v[key]}")
    return "  ".join(str(p) for p in parts)


def render_text(d: dict[str, Any]) -> str:
    """A readable summary of `describe`'s data."""
    lines = [
        f"version:        SPIR-V {d['version']}",
        f"generator:      {d['generator']}",
        f"bound:          {d['bound']}",
        f"instructions:   {d['instructions']}",
        f"capabilities:   {', '.join(d['capabilities']) or '-'}",
        f"extensions:     {', '.join(d['extensions']) or '-'}",
        f"ext imports:    {', '.join(d['ext_inst_imports']) or '-'}",
        f"memory model:   {d['addressing_model'] or '-'} {d['memory_model'] or ''}".rstrip(),
    ]
    lines.append(f"entry points:   {len(d['entry_points']) or '-'}")
    for ep in d["entry_points"]:
        lines.append(f"  {ep['execution_model']} {ep['name']!r} (function %{ep['function']})")
        for mode in ep["execution_modes"]:
            lines.append(f"    mode {mode}")
        for v in ep["interface"]:
            lines.append(f"    interface {_var_line(v)}")
    for key, title in (("imports", "imports"), ("exports", "exports")):
        lines.append(f"{title + ':':<16}{len(d[key]) or '-'}")
        for s in d[key]:
            lines.append(f"  {s['kind']} {s['name']!r}: {s['type']}")
    for key, title in (("resources", "resources"), ("push_constants", "push constants")):
        lines.append(f"{title + ':':<16}{len(d[key]) or '-'}")
        for v in d[key]:
            lines.append(f"  {_var_line(v)}")
    lines.append(f"{'spec constants:':<16}{len(d['spec_constants']) or '-'}")
    for c in d["spec_constants"]:
        sid = f"SpecId {c['spec_id']}" if "spec_id" in c else "no SpecId"
        label = c.get("name") or f"%{c['id']}"
        default = c["default"]
        if isinstance(default, list):
            default = "(" + ", ".join(default) + ")"
        elif isinstance(default, bool):
            default = str(default).lower()
        lines.append(f"  {label}  {sid}  {c['type']} = {default}")
    return "\n".join(lines) + "\n"


__all__ = ["describe", "render_text"]
