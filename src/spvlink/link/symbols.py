"""Import/export resolution through `LinkageAttributes`.

Each import binds to the one export of its name (or the first LinkOnceODR definition),
after a structural check of the types and of the decorations. The import's declaration,
names and decorations go; every use points at the definition. All problems are collected
before failing.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from ..errors import DecorationMismatch, DuplicateExport, LinkError, TypeMismatch, UnresolvedSymbol
from ..ir import Module, Section, decode_string
from ..ir.module import is_in
from ..spec import Capability, LinkageType, Op
from .facts import (
    Decorations,
    Functions,
    decoration_key,
    decorations,
    describe_type,
    functions,
    global_defs,
    types_equal,
)

LINKONCE_EXTENSION = "SPV_KHR_linkonce_odr"


class Symbol(NamedTuple):
    name: str
    target: int  # the decorated id (OpFunction or OpVariable result)
    linkage: int  # LinkageType value
    decoration: int  # index of the LinkageAttributes instruction
    is_function: bool


class Resolution(NamedTuple):
    module: Module
    exports: list[int]  # ids of kept exports (after remap)
    unresolved: list[int]  # ids of kept imports


def origin_namer(modules: Sequence[Module], shifts: Sequence[int]) -> Callable[[int], str]:
    """Which input file an id of the merged module came from."""
    names = [m.source or f"input #{k + 1}" for k, m in enumerate(modules)]

    def origin(id_: int) -> str:
        k = bisect.bisect_left(list(shifts), id_) - 1
        return names[max(k, 0)]
    return origin


def collect_symbols(m: Module, decos: Decorations) -> list[Symbol]:
    fn_ids = set(functions(m).ids.tolist())
    defs = global_defs(m)
    out = []
    for i, target, name, ltype in decos.linkage:
        is_fn = target in fn_ids
        if not is_fn:
            d = defs.get(target)
            if d is None or int(m.opcodes[d]) != Op.Variable:
                continue
            if target in decos.builtin:
                continue  # llvm-spirv marks builtin variables as imports: not symbols
        out.append(Symbol(name, target, ltype, i, is_fn))
    return out


def resolve(m: Module, origin: Callable[[int], str], *, create_library: bool,
            allow_partial_linkage: bool) -> Resolution:
    decos = decorations(m)
    symbols = collect_symbols(m, decos)
    defs = global_defs(m)
    fns = functions(m)
    fn_index = fns.index_of()
    problems: list[LinkError] = []

    exports: dict[str, list[Symbol]] = {}
    linkonce: dict[str, list[Symbol]] = {}
    imports: list[Symbol] = []
    for s in symbols:
        if s.linkage == LinkageType.Export:
            exports.setdefault(s.name, []).append(s)
        elif s.linkage == LinkageType.LinkOnceODR:
            linkonce.setdefault(s.name, []).append(s)
        elif s.linkage == LinkageType.Import:
            imports.append(s)

    for name, defs_of in exports.items():
        if len(defs_of) > 1:
            problems.append(DuplicateExport(
                f"symbol \"{name}\" is exported more than once",
                notes=[f"exported by {origin(s.target)}" for s in defs_of]))

    canon = np.arange(m.bound, dtype=np.uint32)
    keep = np.ones(len(m), dtype=bool)
    removed_ids: set[int] = set()
    linkage_decos = {i for i, _t, _n, _l in decos.linkage}
    decorated = {t for t, idx in decos.by_target.items()
                 if any(i not in linkage_decos for i in idx)}

    def drop_function(target: int) -> None:
        k = fn_index[target]
        first, last = int(fns.first[k]), int(fns.last[k])
        keep[first:last + 1] = False
        removed_ids.update(int(x) for x in m.result_ids[first:last + 1] if x)

    def drop_variable(target: int) -> None:
        keep[defs[target]] = False
        removed_ids.add(target)

    def definition_of(name: str) -> Symbol | None:
        if name in exports:
            return exports[name][0]
        if name in linkonce:
            return linkonce[name][0]
        return None

    def check_pair(imp: Symbol, exp: Symbol, what: str) -> bool:
        if imp.is_function != exp.is_function:
            problems.append(TypeMismatch(
                f"symbol \"{imp.name}\" is a {'function' if imp.is_function else 'variable'} "
                f"in {origin(imp.target)} but a {'function' if exp.is_function else 'variable'} "
                f"in {origin(exp.target)}"))
            return False
        ti, te = _symbol_type(m, imp, defs, fns, fn_index), _symbol_type(m, exp, defs, fns, fn_index)
        if not types_equal(m, ti, te, defs):
            problems.append(TypeMismatch(
                f"type mismatch for symbol \"{imp.name}\"",
                notes=[f"{what} by {origin(imp.target)}: {describe_type(m, ti, defs)}",
                       f"defined by {origin(exp.target)}: {describe_type(m, te, defs)}"]))
            return False
        pairs = [(imp.target, exp.target, "")]
        if imp.is_function:
            params_i, params_e = params_of(imp.target), params_of(exp.target)
            pairs += [(a, b, f" (parameter {k})")
                      for k, (a, b) in enumerate(zip(params_i, params_e, strict=False))]
        for a, b, where in pairs:
            if a not in decorated and b not in decorated:
                continue  # nothing but linkage on either side
            di = decoration_key(m, decos.by_target.get(a, []), skip_param_attr=True)
            de = decoration_key(m, decos.by_target.get(b, []), skip_param_attr=True)
            if di != de:
                problems.append(DecorationMismatch(
                    f"decorations of symbol \"{imp.name}\"{where} differ between import and "
                    f"definition",
                    notes=[f"{what} by {origin(imp.target)}: {_describe_decos(di)}",
                           f"defined by {origin(exp.target)}: {_describe_decos(de)}"]))
                return False
        return True

    def params_of(fn_id: int) -> list[int]:
        k = fn_index[fn_id]
        first, last = int(fns.first[k]), int(fns.last[k])
        out = []
        for i in range(first + 1, last):
            if int(m.opcodes[i]) != Op.FunctionParameter:
                break
            out.append(int(m.result_ids[i]))
        return out

    unresolved: list[Symbol] = []
    for imp in imports:
        exp = definition_of(imp.name)
        if exp is None:
            if allow_partial_linkage:
                unresolved.append(imp)
            else:
                problems.append(UnresolvedSymbol(f"unresolved symbol \"{imp.name}\"",
                                                 notes=[f"imported by {origin(imp.target)}"]))
            continue
        if not check_pair(imp, exp, "imported"):
            continue
        canon[imp.target] = exp.target
        (drop_function if imp.is_function else drop_variable)(imp.target)

    # LinkOnceODR: the first definition wins, the others go.
    for name, group in linkonce.items():
        winner = exports[name][0] if name in exports else group[0]
        for loser in group:
            if loser is winner:
                continue
            if not check_pair(loser, winner, "also defined"):
                continue
            canon[loser.target] = winner.target
            (drop_function if loser.is_function else drop_variable)(loser.target)

    if problems:
        if len(problems) == 1:
            raise problems[0]
        raise LinkError(f"{len(problems)} link errors", errors=problems)

    # Linkage decorations: which stay depends on the mode.
    kept_symbols: set[int] = set()
    for s in symbols:
        if s.target in removed_ids:
            continue
        stays = (create_library and s.linkage in (LinkageType.Export, LinkageType.LinkOnceODR)) \
            or (s.linkage == LinkageType.Import and any(u is s for u in unresolved))
        if not stays:
            keep[s.decoration] = False
        else:
            kept_symbols.add(s.decoration)
    # Builtin variables marked as imports by llvm-spirv: their linkage decoration goes in
    # an executable, like every other.
    symbol_decos = {s.decoration for s in symbols}
    for i, _target, _name, _ltype in decos.linkage:
        if i not in symbol_decos and not (create_library or allow_partial_linkage):
            keep[i] = False
        elif i not in symbol_decos:
            kept_symbols.add(i)

    # Names and decorations of removed ids (import declarations and their parameters).
    named = m.indices(Section.DEBUG_NAME, Section.ANNOTATION)
    if named.size and removed_ids:
        targets = m.words[m.starts[named] + 1].astype(np.int64)
        keep[named[is_in(targets, np.fromiter(removed_ids, dtype=np.int64))]] = False

    # The Linkage capability and SPV_KHR_linkonce_odr go when nothing needs them.
    any_linkage = bool(kept_symbols)
    any_linkonce = any(s.linkage == LinkageType.LinkOnceODR and s.decoration in kept_symbols
                       for s in symbols)
    for i in m.indices(Section.CAPABILITY, Section.EXTENSION).tolist():
        ws = m.inst_words(i)
        if ws[0] & 0xFFFF == Op.Capability and ws[1] == Capability.Linkage and not any_linkage:
            keep[i] = False
        elif ws[0] & 0xFFFF == Op.Extension and decode_string(ws[1:]) == LINKONCE_EXTENSION \
                and not any_linkonce:
            keep[i] = False

    out = m.select(np.flatnonzero(keep), remap=canon)
    exported = [int(canon[s.target]) for s in symbols
                if s.linkage != LinkageType.Import and s.target not in removed_ids]
    return Resolution(out, exports=exported,
                      unresolved=[int(canon[s.target]) for s in unresolved])


def _symbol_type(m: Module, s: Symbol, defs: dict[int, int], fns: Functions,
                 fn_index: dict[int, int]) -> int:
    if s.is_function:
        first = int(fns.first[fn_index[s.target]])
        return int(m.words[m.starts[first] + 4])  # OpFunction's function type
    return int(m.result_types[defs[s.target]])


def _describe_decos(key: tuple[tuple[int, ...], ...]) -> str:
    from ..grammar import grammar

    if not key:
        return "no decorations"
    kinds = grammar().operand_kinds["Decoration"].enumerants
    parts = []
    for row in key:
        op, rest = row[0], row[1:]
        if op in (Op.MemberDecorate, Op.MemberDecorateString):
            e = kinds.get(rest[1])
            parts.append(f"member {rest[0]} {e.name if e else rest[1]}")
        else:
            e = kinds.get(rest[0])
            args = " ".join(str(x) for x in rest[1:])
            parts.append(f"{e.name if e else rest[0]}{' ' + args if args else ''}")
    return ", ".join(parts)


