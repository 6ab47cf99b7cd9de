"""Friendly id names, as plain `spirv-dis` (SPIRV-Tools' FriendlyNameMapper) makes them.

One pass over the instructions in order: `OpName` suggests a name (the first one for an
id wins), `OpDecorate ... BuiltIn X` suggests `gl_X` style names, types and constants get
names built from their operands (`uint`, `v4float`, `_ptr_Function_uint`, `uint_0`,
`int_n1`), every other result id its number. Names are sanitised to `[A-Za-z0-9_]` byte by
byte and made unique with `_0`, `_1`, ... suffixes.
"""

from __future__ import annotations

from collections.abc import Callable

from ..grammar import grammar
from ..ir import Module
from ..ir.layout import Word
from ..ir.module import decode_string
from ..spec import Decoration, Op
from .literals import format_number

_VALID = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")

_GL = "gl_"
# BuiltIn value name -> suggested name.
_BUILTIN_NAMES = {
    "Position": _GL + "Position", "PointSize": _GL + "PointSize",
    "ClipDistance": _GL + "ClipDistance", "CullDistance": _GL + "CullDistance",
    "VertexId": _GL + "VertexID", "InstanceId": _GL + "InstanceID",
    "PrimitiveId": _GL + "PrimitiveID", "InvocationId": _GL + "InvocationID",
    "Layer": _GL + "Layer", "ViewportIndex": _GL + "ViewportIndex",
    "TessLevelOuter": _GL + "TessLevelOuter", "TessLevelInner": _GL + "TessLevelInner",
    "TessCoord": _GL + "TessCoord", "PatchVertices": _GL + "PatchVertices",
    "FragCoord": _GL + "FragCoord", "PointCoord": _GL + "PointCoord",
    "FrontFacing": _GL + "FrontFacing", "SampleId": _GL + "SampleID",
    "SamplePosition": _GL + "SamplePosition", "SampleMask": _GL + "SampleMask",
    "FragDepth": _GL + "FragDepth", "HelperInvocation": _GL + "HelperInvocation",
    "NumWorkgroups": _GL + "NumWorkGroups", "WorkgroupSize": _GL + "WorkGroupSize",
    "WorkgroupId": _GL + "WorkGroupID", "LocalInvocationId": _GL + "LocalInvocationID",
    "GlobalInvocationId": _GL + "GlobalInvocationID",
    "LocalInvocationIndex": _GL + "LocalInvocationIndex",
    "WorkDim": "WorkDim", "GlobalSize": "GlobalSize",
    "EnqueuedWorkgroupSize": "EnqueuedWorkgroupSize", "GlobalOffset": "GlobalOffset",
    "GlobalLinearId": "GlobalLinearId", "SubgroupSize": "SubgroupSize",
    "SubgroupMaxSize": "SubgroupMaxSize", "NumSubgroups": "NumSubgroups",
    "NumEnqueuedSubgroups": "NumEnqueuedSubgroups", "SubgroupId": "SubgroupId",
    "SubgroupLocalInvocationId": "SubgroupLocalInvocationId",
    "VertexIndex": _GL + "VertexIndex", "InstanceIndex": _GL + "InstanceIndex",
    "SubgroupEqMask": "SubgroupEqMaskKHR", "SubgroupGeMask": "SubgroupGeMaskKHR",
    "SubgroupGtMask": "SubgroupGtMaskKHR", "SubgroupLeMask": "SubgroupLeMaskKHR",
    "SubgroupLtMask": "SubgroupLtMaskKHR",
}

_INT_ROOTS = {8: "char", 16: "short", 32: "int", 64: "long"}
_FLOAT_NAMES = {16: "half", 32: "float", 64: "double"}


def sanitize(name: str) -> str:
    raw = name.encode("utf-8", errors="surrogateescape")
    if not raw:
        return "_"
    return "".join(chr(b) if b in _VALID else "_" for b in raw)


def friendly_names(module: Module) -> Callable[[int], str]:
    """A function from id to its friendly name (the number for ids never named)."""
    g = grammar()
    storage = g.operand_kinds["StorageClass"].enumerants
    access = g.operand_kinds["AccessQualifier"].enumerants
    builtins = g.operand_kinds["BuiltIn"].enumerants
    names: dict[int, str] = {}
    used: set[str] = set()
    numeric: dict[int, tuple[str, int]] = {}  # type id -> (kind, width)

    # base -> the smallest suffix that may still be free: names are never given back, so
    # the search for a free `base_k` goes on from where the last one stopped (linear in
    # the ids, where starting from 0 each time was quadratic in the ids sharing a name).
    next_suffix: dict[str, int] = {}

    def save(rid: int, suggested: str) -> None:
        if rid in names:
            return
        base = sanitize(suggested)
        name = base
        if name in used:
            k = next_suffix.get(base, 0)
            while f"{base}_{k}" in used:
                k += 1
            next_suffix[base] = k + 1
            name = f"{base}_{k}"
        used.add(name)
        names[rid] = name

    def name_of(i: int) -> str:
        return names.get(i) or str(i)

    words = module.words.tolist()
    starts = module.starts.tolist()
    opcodes = module.opcodes.tolist()
    result_ids = module.result_ids.tolist()
    for k, op in enumerate(opcodes):
        rid = result_ids[k]
        if op in _SPECIAL:
            s = starts[k]
            ws = words[s:s + (words[s] >> 16)]
            if op == Op.Name:
                if len(ws) >= 3:
                    save(ws[1], decode_string(ws[2:]))
                continue
            if op == Op.Decorate:
                if len(ws) >= 4 and ws[Word.DECORATION] == Decoration.BuiltIn:
                    e = builtins.get(ws[3])
                    suggested = _BUILTIN_NAMES.get(e.name) if e is not None else None
                    if suggested is not None:
                        save(ws[1], suggested)
                continue
            if op == Op.TypeVoid:
                save(rid, "void")
            elif op == Op.TypeBool:
                save(rid, "bool")
            elif op == Op.TypeInt:
                width, signed = ws[2], ws[3]
                root = _INT_ROOTS.get(width)
                prefix = ""
                if root is None:
                    root, prefix = str(width), "i"
                if signed == 0:
                    prefix = "u"
                numeric.setdefault(rid, ("s" if signed else "u", width))  # first counts
                save(rid, prefix + root)
            elif op == Op.TypeFloat:
                width = ws[2]
                numeric.setdefault(rid, ("f", width))  # the first definition counts
                save(rid, _FLOAT_NAMES.get(width, f"fp{width}"))
            elif op == Op.TypeVector:
                save(rid, f"v{ws[3]}{name_of(ws[2])}")
            elif op == Op.TypeMatrix:
                save(rid, f"mat{ws[3]}{name_of(ws[2])}")
            elif op == Op.TypeArray:
                save(rid, f"_arr_{name_of(ws[2])}_{name_of(ws[3])}")
            elif op == Op.TypeRuntimeArray:
                save(rid, f"_runtimearr_{name_of(ws[2])}")
            elif op == Op.TypePointer:
                e = storage.get(ws[2])
                sc = e.name if e is not None else f"StorageClass{ws[2]}"
                save(rid, f"_ptr_{sc}_{name_of(ws[3])}")
            elif op == Op.TypePipe:
                e = access.get(ws[2])
                save(rid, "Pipe" + (e.name if e is not None else f"StorageClass{ws[2]}"))
            elif op == Op.TypeOpaque:
                save(rid, "Opaque_" + sanitize(decode_string(ws[2:])))
            elif op == Op.TypeStruct:
                save(rid, f"_struct_{rid}")
            elif op == Op.ConstantTrue:
                save(rid, "true")
            elif op == Op.ConstantFalse:
                save(rid, "false")
            elif op == Op.Constant:
                kind, width = numeric.get(ws[1], ("u", 32))
                value = format_number(ws[3:], kind, width).replace("-", "n")
                save(rid, f"{name_of(ws[1])}_{value}")
            elif op in _NAMED_TYPES:
                save(rid, _NAMED_TYPES[op])
            elif rid and rid not in names:
                save(rid, str(rid))
        elif rid and rid not in names:
            save(rid, str(rid))
    return lambda i: names.get(i) or str(i)


_NAMED_TYPES = {
    Op.TypeEvent: "Event", Op.TypeDeviceEvent: "DeviceEvent", Op.TypeReserveId: "ReserveId",
    Op.TypeQueue: "Queue", Op.TypePipeStorage: "PipeStorage",
    Op.TypeNamedBarrier: "NamedBarrier",
}

_SPECIAL = frozenset({
    Op.Name, Op.Decorate, Op.TypeVoid, Op.TypeBool, Op.TypeInt, Op.TypeFloat, Op.TypeVector,
    Op.TypeMatrix, Op.TypeArray, Op.TypeRuntimeArray, Op.TypePointer, Op.TypePipe,
    Op.TypeOpaque, Op.TypeStruct, Op.ConstantTrue, Op.ConstantFalse, Op.Constant,
    *_NAMED_TYPES,
})
