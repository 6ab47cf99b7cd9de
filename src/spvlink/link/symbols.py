"""Import/export resolution through `LinkageAttributes`.

Needs: a deduplicated module (`dedup`), so that two types are the same exactly when they
are the same id (the identity of `ir.types`).
Guarantees: every import bound to a definition is gone (declaration, names, decorations)
and its uses point at the definition; unresolved imports stay only under partial linkage;
function declarations come before definitions; every problem is collected before failing.

The symbol rules, for the modules real producers write:
- several exports of one name whose definitions are the same (type, body after id
  identity, decorations) are one definition, as if LinkOnceODR (C++ for OpenCL at -O0
  exports every template instantiation from each unit that uses it);
- exports of one name with different types are overloads (glslang `--no-link`): an import
  binds to the one whose type is its own; none or several is an error naming each;
- one name, one type, different bodies: an error if imported, else a warning (both kept);
- with `allow_pointer_mismatch`, in a Physical addressing model, an import whose pointer
  types differ from the definition's only in the pointee binds, with OpBitcast inserted;
- function control and parameter decorations come from the definition (SPIR-V 2.13:
  "When resolving imported functions, the Function Control and all Function Parameter
  Attributes are taken from the function definition, and not from the function
  declaration"): differing decorations, or a Pure/Const the declaration promises and
  the definition lacks, are a warning (inlining hints differ silently: llvm-spirv's
  definitions say DontInline at -O0). A variable's decorations must match.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .._words import opcode_of
from ..errors import (
    DecorationMismatch,
    DuplicateExport,
    LinkError,
    LinkWarning,
    TypeMismatch,
    UnresolvedSymbol,
)
from ..ir import Module, Section, decode_string
from ..ir.facts import Functions, decoration_key, decorations, functions, global_defs
from ..ir.layout import Word
from ..ir.module import is_in, ranges
from ..ir.types import describe_decorations, describe_type, first_difference
from ..spec import AddressingModel, Capability, FunctionControl, LinkageType, Op, StorageClass

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
    warnings: list[LinkWarning] = []


def origin_namer(names: Sequence[str], shifts: Sequence[int]) -> Callable[[int], str]:
    """Which input file an id of the merged module came from (`names`: the inputs' names
    as `merge.input_name` gives them; `shifts`: merge's id shift of each)."""
    names = list(names)
    bounds = list(shifts)

    def origin(id_: int) -> str:
        k = bisect.bisect_left(bounds, id_) - 1
        return names[max(k, 0)]
    return origin


def resolve(m: Module, origin: Callable[[int], str], *, create_library: bool,
            allow_partial_linkage: bool, allow_pointer_mismatch: bool = False) -> Resolution:
    r = _Resolver(m, origin, allow_pointer_mismatch=allow_pointer_mismatch)
    r.merge_identical_exports()
    r.bind_imports(allow_partial_linkage=allow_partial_linkage)
    r.merge_linkonce()
    r.warn_unimported_duplicates()
    if r.problems:
        if len(r.problems) == 1:
            raise r.problems[0]
        raise LinkError(f"{len(r.problems)} link errors", errors=r.problems)
    return r.rewrite(create_library=create_library,
                     allow_partial_linkage=allow_partial_linkage)


class _Resolver:
    """The state of one resolution: which ids map where, which instructions go, and the
    problems and warnings found. Each phase is a method; `rewrite` applies them."""

    def __init__(self, m: Module, origin: Callable[[int], str], *,
                 allow_pointer_mismatch: bool) -> None:
        self.m = m
        self.origin = origin
        self.decos = decorations(m)
        self.defs = global_defs(m)
        self.fns = functions(m)
        self.fn_index = self.fns.index_of()
        # Per function, as Python lists (read once per symbol, not per numpy call).
        self.fn_type = m.operand(self.fns.first, Word.FUNCTION_TYPE).tolist()
        self.fn_control = m.operand(self.fns.first, Word.FUNCTION_CONTROL).tolist()
        # Every OpFunctionParameter's function and id; and per function, its ids in order.
        self.param_owner, self.param_ids = _parameter_arrays(m, self.fns)
        self.params = _parameters(self.param_owner, self.param_ids, self.fns.ids.size)
        linkage = {i for i, _t, _n, _l in self.decos.linkage}
        # Ids with decorations other than linkage: only these can differ in decorations.
        # (Most symbols have their linkage decoration alone: one set lookup, no generator.)
        self.decorated = {t for t, idx in self.decos.by_target.items()
                          if (idx[0] not in linkage if len(idx) == 1
                              else any(i not in linkage for i in idx))}
        self.canon = np.arange(m.bound, dtype=np.uint32)
        self.keep = np.ones(len(m), dtype=bool)
        self.removed_ids: set[int] = set()
        self.problems: list[LinkError] = []
        self.warnings: list[LinkWarning] = []
        self.unresolved: list[Symbol] = []
        self.casts: list[tuple[Symbol, Symbol]] = []  # (import, definition) bound through casts
        self.cast_pairs: set[tuple[int, int]] = set()  # (import id, definition id) of casts
        self.import_types: dict[int, int] = {}  # import id -> its own type, for the casts
        # The storage classes an OpBitcast may bridge (None: all), when asked to.
        self.physical = _physical_storage(m) if allow_pointer_mismatch else frozenset()
        self.symbols = self._collect()
        self.exports: dict[str, list[Symbol]] = {}
        self.linkonce: dict[str, list[Symbol]] = {}
        self.imports: list[Symbol] = []
        for s in self.symbols:
            if s.linkage == LinkageType.Export:
                self.exports.setdefault(s.name, []).append(s)
            elif s.linkage == LinkageType.LinkOnceODR:
                self.linkonce.setdefault(s.name, []).append(s)
            elif s.linkage == LinkageType.Import:
                self.imports.append(s)
        self.imported_names = {s.name for s in self.imports}

    # -- facts about symbols -------------------------------------------------------------

    def _collect(self) -> list[Symbol]:
        m = self.m
        out = []
        for i, target, name, ltype in self.decos.linkage:
            is_fn = target in self.fn_index
            if not is_fn:
                d = self.defs.get(target)
                if d is None or int(m.opcodes[d]) != Op.Variable:
                    continue
                if target in self.decos.builtin:
                    continue  # llvm-spirv marks builtin variables as imports: not symbols
            out.append(Symbol(name, target, ltype, i, is_fn))
        return out

    def type_of(self, s: Symbol) -> int:
        if s.is_function:
            return self.fn_type[self.fn_index[s.target]]
        return int(self.m.result_types[self.defs[s.target]])

    def params_of(self, fn_id: int) -> list[int]:
        return self.params[self.fn_index[fn_id]]

    def _decoration_rows(self, target: int) -> tuple[tuple[int, ...], ...]:
        if target not in self.decorated:
            return ()
        return decoration_key(self.m, self.decos.by_target.get(target, []),
                              skip_param_attr=True)

    def definition_key(self, s: Symbol) -> tuple:
        """What makes two definitions the same: the words of the variable or of the whole
        function, ids of the function's own results numbered in order, other ids by
        identity (after the merges so far), debug lines left out; and the decorations of
        the variable, or of the function and every result it defines."""
        m = self.m
        canon = self.canon
        if not s.is_function:
            ws = m.inst_words(self.defs[s.target])
            return (tuple(int(canon[w]) for w in (ws[1], *ws[3:])), ws[0],
                    self._decoration_rows(s.target))
        k = self.fn_index[s.target]
        first, last = int(self.fns.first[k]), int(self.fns.last[k])
        local = {int(x): n for n, x in enumerate(m.result_ids[first:last + 1].tolist()) if x}
        w0 = int(m.starts[first])
        w1 = int(m.starts[last] + m.sizes[last])
        words = m.words[w0:w1].astype(np.int64)
        lo, hi = np.searchsorted(m.id_pos, [w0, w1])
        pos = (m.id_pos[lo:hi] - w0).astype(np.int64)
        ids = words[pos]
        words[pos] = [-1 - local[x] if x in local else int(canon[x]) for x in ids.tolist()]
        skip = is_in(m.opcodes[first:last + 1], [Op.Line, Op.NoLine])
        parts = [tuple(words[int(a) - w0:int(a + n) - w0].tolist())
                 for a, n, sk in zip(m.starts[first:last + 1].tolist(),
                                     m.sizes[first:last + 1].tolist(), skip.tolist(),
                                     strict=True) if not sk]
        # Decorations of the function, its parameters and its own results (NoContraction
        # on one multiply makes another function): by the results' order.
        own = tuple((n, self._decoration_rows(x)) for x, n in local.items()
                    if x in self.decorated)
        return (tuple(parts), own)

    # -- phases --------------------------------------------------------------------------

    def merge_identical_exports(self) -> None:
        """Several exports of one name and the same definition become the first one.
        Repeated until nothing merges: a definition calling two copies of one function is
        the same as another only once the copies are one."""
        changed = True
        while changed:
            changed = False
            for name, group in self.exports.items():
                if len(group) < 2:
                    continue
                first_of: dict[tuple, Symbol] = {}
                survivors = []
                for s in group:
                    key = (s.is_function, self.type_of(s), self.definition_key(s))
                    winner = first_of.setdefault(key, s)
                    if winner is s:
                        survivors.append(s)
                        continue
                    self._replace(s, winner)
                    changed = True
                self.exports[name] = survivors

    def bind_imports(self, *, allow_partial_linkage: bool) -> None:
        plain = self._bind_plain_imports()
        for n, imp in enumerate(self.imports):
            if n in plain:
                continue
            candidates = self.exports.get(imp.name) or self.linkonce.get(imp.name, [])[:1]
            if not candidates:
                if allow_partial_linkage:
                    self.unresolved.append(imp)
                else:
                    self.problems.append(UnresolvedSymbol(
                        f"unresolved symbol \"{imp.name}\"",
                        notes=[f"imported by {self.origin(imp.target)}"]))
                continue
            exp = self._choose(imp, candidates)
            if exp is not None and self.check_pair(imp, exp, "imported"):
                self._replace(imp, exp)

    def _bind_plain_imports(self) -> set[int]:
        """Bind, all at once, the imports every check would pass without a word: a function
        imported once under its name, with one definition of that name, a function of
        its type; neither function nor any of their parameters decorated (but for
        linkage); the definition keeping the declaration's promises (Pure, Const). What
        `_choose`, `check_pair` and `_replace` would do one by one, they do here for all
        (a thousand chained modules: 25 of 30 ms). Returns their indices in `imports`;
        the rest take the general path."""
        candidates = []
        targets = [s.target for s in self.imports]
        for n, imp in enumerate(self.imports):
            if not imp.is_function:
                continue
            defs = self.exports.get(imp.name)
            if defs is not None and len(defs) == 1 and defs[0].is_function \
                    and defs[0].target != imp.target:
                candidates.append((n, imp.target, defs[0].target))
        if not candidates:
            return set()
        fn_index = self.fn_index
        n_at = np.array([c[0] for c in candidates], dtype=np.int64)
        ik = np.array([fn_index[c[1]] for c in candidates], dtype=np.int64)
        ek = np.array([fn_index[c[2]] for c in candidates], dtype=np.int64)
        fn_type = np.asarray(self.fn_type, dtype=np.int64)
        control = np.asarray(self.fn_control, dtype=np.int64)
        decorated = self._decorated_functions()
        # A target imported twice (under two names) takes the general path, in order.
        _, which, count = np.unique(np.asarray(targets, dtype=np.int64), return_inverse=True,
                                    return_counts=True)
        once = count[which[n_at]] == 1
        ok = (once & (fn_type[ik] == fn_type[ek]) & ~decorated[ik] & ~decorated[ek]
              & ((control[ik] & _PROMISES & ~control[ek]) == 0))
        if not ok.any():
            return set()
        ik, ek = ik[ok], ek[ok]
        self.canon[self.fns.ids[ik]] = self.fns.ids[ek]
        first, last = self.fns.first[ik], self.fns.last[ik]
        gone = ranges(first, last - first + 1)
        self.keep[gone] = False
        rid = self.m.result_ids[gone]
        self.removed_ids.update(rid[rid > 0].tolist())
        return set(n_at[ok].tolist())

    def _decorated_functions(self) -> np.ndarray:
        """Per function: it or one of its parameters has a decoration other than linkage."""
        out = np.zeros(self.fns.ids.size, dtype=bool)
        if not self.decorated:
            return out
        is_decorated = np.zeros(self.m.bound, dtype=bool)
        is_decorated[list(self.decorated)] = True
        out |= is_decorated[self.fns.ids]
        owner = self.param_owner
        out[owner[(owner >= 0) & is_decorated[self.param_ids]]] = True
        return out

    def _choose(self, imp: Symbol, candidates: list[Symbol]) -> Symbol | None:
        """The definition an import binds to: the one with its kind and type; under
        `allow_pointer_mismatch` the one that differs only in pointees. None (with the
        problem recorded) when there is none or more than one."""
        t = self.type_of(imp)
        same = [c for c in candidates if c.is_function == imp.is_function and self.type_of(c) == t]
        if len(same) == 1:
            return same[0]
        if len(same) > 1:
            self.problems.append(DuplicateExport(
                f"symbol \"{imp.name}\" is exported more than once with different definitions",
                notes=[f"imported by {self.origin(imp.target)}"]
                + [f"defined by {self.origin(c.target)}" for c in same]))
            return None
        if self.physical is None or self.physical:
            close = [c for c in candidates if c.is_function == imp.is_function
                     and _differ_in_pointees(self.m, self.defs, t, self.type_of(c),
                                             self.physical)]
            if len(close) == 1:
                self.casts.append((imp, close[0]))
                self.cast_pairs.add((imp.target, close[0].target))
                self.import_types[imp.target] = t
                return close[0]
        if len(candidates) == 1:
            return candidates[0]  # check_pair says how it differs
        self.problems.append(TypeMismatch(
            f"no export of symbol \"{imp.name}\" has the type it is imported with",
            notes=[f"imported by {self.origin(imp.target)}: {self._describe(imp)}"]
            + [f"candidate in {self.origin(c.target)}: {self._describe(c)}"
               for c in candidates]))
        return None

    def _describe(self, s: Symbol) -> str:
        return describe_type(self.m, self.type_of(s), self.defs)

    def check_pair(self, imp: Symbol, exp: Symbol, what: str) -> bool:
        """Kinds and types must be the same (or differ only in pointees, for a cast
        binding); a variable's decorations too. Function control and parameter
        decorations are the definition's: a difference is a warning."""
        if imp.is_function != exp.is_function:
            fi, fe = self.origin(imp.target), self.origin(exp.target)
            kinds = ("function" if imp.is_function else "variable",
                     "function" if exp.is_function else "variable")
            self.problems.append(TypeMismatch(
                f"symbol \"{imp.name}\" is a {kinds[0]} in {fi} but a {kinds[1]} in {fe}"))
            return False
        ti, te = self.type_of(imp), self.type_of(exp)
        if ti != te and (imp.target, exp.target) not in self.cast_pairs:
            fi, fe = self.origin(imp.target), self.origin(exp.target)
            notes = [f"{what} by {fi}: {self._describe(imp)}",
                     f"defined by {fe}: {self._describe(exp)}"]
            diff = first_difference(self.m, ti, te)
            if diff is not None and diff.path:
                notes.append(f"{diff.path}: {diff.left} in {fi}, {diff.right} in {fe}")
            elif diff is not None and diff.left != describe_type(self.m, ti, self.defs):
                notes.append(f"{diff.left} in {fi}, {diff.right} in {fe}")
            if _physical_storage(self.m) != frozenset() and _differ_in_pointees(
                    self.m, self.defs, ti, te, _physical_storage(self.m)):
                notes.append("they differ only in pointee types: allow_pointer_mismatch=True "
                             "binds them, with OpBitcast where the types meet")
            self.problems.append(TypeMismatch(f"type mismatch for symbol \"{imp.name}\"",
                                              notes=notes))
            return False
        di, de = self._decoration_rows(imp.target), self._decoration_rows(exp.target)
        if not imp.is_function:
            if di != de:
                fi, fe = self.origin(imp.target), self.origin(exp.target)
                self.problems.append(DecorationMismatch(
                    f"decorations of symbol \"{imp.name}\" differ between import and definition",
                    notes=[f"{what} by {fi}: {describe_decorations(di)}",
                           f"defined by {fe}: {describe_decorations(de)}"]))
                return False
            return True
        self._warn_function_attributes(imp, exp, what)
        return True

    def _warn_function_attributes(self, imp: Symbol, exp: Symbol, what: str) -> None:
        def files() -> tuple[str, str]:
            return self.origin(imp.target), self.origin(exp.target)

        # The function itself (k = -1), then its parameters in order.
        pairs = zip([imp.target, *self.params_of(imp.target)],
                    [exp.target, *self.params_of(exp.target)], strict=False)
        for k, (a, b) in enumerate(pairs, start=-1):
            if a not in self.decorated and b not in self.decorated:
                continue
            da, db = self._decoration_rows(a), self._decoration_rows(b)
            if da != db:
                where = f" (parameter {k})" if k >= 0 else ""
                fi, fe = files()
                self.warnings.append(LinkWarning(
                    f"decorations of symbol \"{imp.name}\"{where} differ between "
                    f"declaration and definition; the definition's are used",
                    notes=[f"{what} by {fi}: {describe_decorations(da)}",
                           f"defined by {fe}: {describe_decorations(db)}"]))
        ci, ce = (self.fn_control[self.fn_index[t]] for t in (imp.target, exp.target))
        # Inline, DontInline and OptNone are hints (llvm-spirv's definitions say DontInline
        # at -O0, its declarations None): silent. A Pure or Const the declaration promises
        # and the definition does not make is worth a word: callers may have relied on it.
        if ci & _PROMISES & ~ce:
            fi, fe = files()
            self.warnings.append(LinkWarning(
                f"function control of symbol \"{imp.name}\" differs between declaration "
                f"and definition; the definition's is used",
                notes=[f"{what} by {fi}: {_function_control(int(ci))}",
                       f"defined by {fe}: {_function_control(int(ce))}"]))

    def merge_linkonce(self) -> None:
        """LinkOnceODR: the export of the name, else the first definition, wins."""
        for name, group in self.linkonce.items():
            winner = self.exports[name][0] if name in self.exports else group[0]
            for loser in group:
                if loser is not winner and self.check_pair(loser, winner, "also defined"):
                    self._replace(loser, winner)

    def warn_unimported_duplicates(self) -> None:
        for name, group in self.exports.items():
            if name in self.imported_names or len(group) < 2:
                continue
            by_type: dict[tuple[bool, int], list[Symbol]] = {}
            for s in group:
                by_type.setdefault((s.is_function, self.type_of(s)), []).append(s)
            for same in by_type.values():
                if len(same) > 1:
                    self.warnings.append(LinkWarning(
                        f"symbol \"{name}\" is exported more than once with different "
                        f"definitions; nothing imports it, so all are kept",
                        notes=[f"defined by {self.origin(s.target)}" for s in same]))

    def _replace(self, gone: Symbol, by: Symbol) -> None:
        """`gone`'s declaration or definition goes; its uses become `by`'s (a variable
        bound through a cast keeps its own id until the casts are inserted)."""
        cast = (gone.target, by.target) in self.cast_pairs
        if not (cast and not gone.is_function):
            self.canon[gone.target] = by.target
        if gone.is_function:
            k = self.fn_index[gone.target]
            first, last = int(self.fns.first[k]), int(self.fns.last[k])
            self.keep[first:last + 1] = False
            self.removed_ids.update(x for x in self.m.result_ids[first:last + 1].tolist() if x)
        else:
            self.keep[self.defs[gone.target]] = False
            self.removed_ids.add(gone.target)

    # -- the result ----------------------------------------------------------------------

    def rewrite(self, *, create_library: bool, allow_partial_linkage: bool) -> Resolution:
        m, keep = self.m, self.keep
        unresolved_ids = {s.target for s in self.unresolved}
        kept_symbols: set[int] = set()
        for s in self.symbols:
            if s.target in self.removed_ids:
                continue
            stays = (create_library and s.linkage in (LinkageType.Export, LinkageType.LinkOnceODR)) \
                or (s.linkage == LinkageType.Import and s.target in unresolved_ids)
            if stays:
                kept_symbols.add(s.decoration)
            else:
                keep[s.decoration] = False
        # Builtin variables marked as imports by llvm-spirv: their linkage decoration goes in
        # an executable, like every other.
        symbol_decos = {s.decoration for s in self.symbols}
        for i, _target, _name, _ltype in self.decos.linkage:
            if i not in symbol_decos and not (create_library or allow_partial_linkage):
                keep[i] = False
            elif i not in symbol_decos:
                kept_symbols.add(i)

        # Names and decorations of removed ids (import declarations and their parameters).
        named = m.indices(Section.DEBUG_NAME, Section.ANNOTATION)
        if named.size and self.removed_ids:
            targets = m.operand(named, Word.NAME_TARGET).astype(np.int64)
            keep[named[is_in(targets, np.fromiter(self.removed_ids, dtype=np.int64))]] = False

        # The Linkage capability and SPV_KHR_linkonce_odr go when nothing needs them.
        any_linkonce = any(s.linkage == LinkageType.LinkOnceODR and s.decoration in kept_symbols
                           for s in self.symbols)
        for i in m.indices(Section.CAPABILITY, Section.EXTENSION).tolist():
            ws = m.inst_words(i)
            if opcode_of(ws[0]) == Op.Capability and ws[1] == Capability.Linkage \
                    and not kept_symbols:
                keep[i] = False
            elif opcode_of(ws[0]) == Op.Extension and decode_string(ws[1:]) == LINKONCE_EXTENSION \
                    and not any_linkonce:
                keep[i] = False

        out = m.select(np.flatnonzero(keep), remap=self.canon)
        if self.casts:
            out = _insert_pointer_casts(out, self.casts, self.canon, self.import_types)
        if unresolved_ids:
            out = declarations_first(out)
        canon = self.canon
        exported = [int(canon[s.target]) for s in self.symbols
                    if s.linkage != LinkageType.Import and s.target not in self.removed_ids]
        return Resolution(out, exports=exported,
                          unresolved=[int(canon[s.target]) for s in self.unresolved],
                          warnings=self.warnings)


def _parameter_arrays(m: Module, fns: Functions) -> tuple[np.ndarray, np.ndarray]:
    """Every OpFunctionParameter's function (an index into `fns`; -1 outside any) and
    result id, in module order."""
    at = np.flatnonzero(m.opcodes == Op.FunctionParameter)
    return fns.owner[at], m.result_ids[at]


def _parameters(owner: np.ndarray, ids: np.ndarray, n_fn: int) -> list[list[int]]:
    """Per function, the result ids of its OpFunctionParameters, in order."""
    cut = np.searchsorted(owner, np.arange(n_fn + 1))
    flat = ids.tolist()
    return [flat[a:b] for a, b in zip(cut[:-1].tolist(), cut[1:].tolist(), strict=True)]


def _physical_storage(m: Module) -> frozenset[int] | None:
    """The storage classes whose pointers are physical (an OpBitcast may change their
    pointee): every one under Physical32/64, only PhysicalStorageBuffer under
    PhysicalStorageBuffer64 (a StorageBuffer pointer stays logical); empty under Logical.
    None stands for every storage class."""
    mm = m.indices_of(Op.MemoryModel)
    model = int(m.operand(mm[0], Word.ADDRESSING_MODEL)) if mm.size else AddressingModel.Logical
    if model in (AddressingModel.Physical32, AddressingModel.Physical64):
        return None
    if model == AddressingModel.PhysicalStorageBuffer64:
        return frozenset({StorageClass.PhysicalStorageBuffer})
    return frozenset()


def _differ_in_pointees(m: Module, defs: dict[int, int], a: int, b: int,
                        physical: frozenset[int] | None) -> bool:
    """Function or pointer types that are the same but where physical pointers (of the
    `physical` storage classes; None: all) point at different types, in the same
    storage class."""
    if a == b:
        return True
    ia, ib = defs.get(a), defs.get(b)
    if ia is None or ib is None:
        return False
    wa, wb = m.inst_words(ia), m.inst_words(ib)
    if wa[0] != wb[0]:
        return False
    op = opcode_of(wa[0])
    if op == Op.TypePointer:
        return wa[2] == wb[2] and (physical is None or wa[2] in physical)
    if op == Op.TypeFunction:
        return all(_differ_in_pointees(m, defs, x, y, physical)
                   for x, y in zip(wa[2:], wb[2:], strict=True))
    return False


_PROMISES = FunctionControl.Pure | FunctionControl.Const


def _function_control(mask: int) -> str:
    from ..grammar import grammar

    kinds = grammar().operand_kinds["FunctionControl"].enumerants
    names = [e.name for v, e in sorted(kinds.items()) if v and mask & v == v]
    return " | ".join(names) or "None"


def _insert_pointer_casts(m: Module, casts: list[tuple[Symbol, Symbol]], canon: np.ndarray,
                          import_types: dict[int, int]) -> Module:
    """OpBitcast where a binding through `allow_pointer_mismatch` needs the other pointer
    type: for a variable, once at the start of each function that uses the import (its
    uses there read the cast); around each call of such a function whose argument or
    result types differ from the definition's. `import_types`: each import's own type."""
    defs = global_defs(m)
    fns = functions(m)
    fn_index = fns.index_of()
    rid, rtype = m.result_ids, m.result_types
    has = (rid > 0) & (rtype > 0)
    type_of = dict(zip(rid[has].tolist(), rtype[has].tolist(), strict=True))
    words = m.words.copy()
    next_id = m.bound
    prepend: dict[int, list[list[int]]] = {}

    def cast(to_type: int, value: int) -> tuple[int, list[int]]:
        nonlocal next_id
        next_id += 1
        type_of[next_id - 1] = to_type
        return next_id - 1, [(4 << 16) | Op.Bitcast, to_type, next_id - 1, value]

    for imp, exp in casts:
        if imp.is_function:
            continue
        var, by = imp.target, int(canon[exp.target])
        uses = m.id_pos[words[m.id_pos] == var]
        owner = fns.owner[m.id_inst[np.searchsorted(m.id_pos, uses)]]
        words[uses[owner < 0]] = by  # outside functions (interfaces): the definition itself
        for k in np.unique(owner[owner >= 0]).tolist():
            new, inst = cast(import_types[var], by)
            words[uses[owner == k]] = new
            at = int(fns.first[k]) + 1
            while at < int(fns.last[k]) and int(m.opcodes[at]) in _ENTRY_BLOCK_HEAD:
                at += 1
            prepend.setdefault(at, []).append(inst)

    def inst_words(i: int) -> list[int]:
        s = int(m.starts[i])
        return words[s:s + int(m.sizes[i])].tolist()

    replace: dict[int, list[list[int]]] = {}
    targets = {int(canon[exp.target]) for imp, exp in casts if imp.is_function}
    for i in m.indices_of(Op.FunctionCall).tolist():
        ws = inst_words(i)
        if ws[3] not in targets:
            continue
        fn_type = m.inst_words(defs[int(m.operand(fns.first[fn_index[ws[Word.CALLEE]]], Word.FUNCTION_TYPE))])
        before: list[list[int]] = []
        call = list(ws)
        for n, want in enumerate(fn_type[3:]):
            if 4 + n < len(call) and type_of.get(call[4 + n]) != want:
                call[4 + n], inst = cast(want, call[4 + n])
                before.append(inst)
        after: list[list[int]] = []
        if ws[1] != fn_type[2]:  # the call returns the definition's type, cast back
            call[1], call[2] = fn_type[2], next_id
            next_id += 1
            after.append([(4 << 16) | Op.Bitcast, ws[1], ws[2], call[2]])
        if before or after:
            replace[i] = [*before, call, *after]
    for at, insts in prepend.items():
        replace[at] = insts + replace.get(at, [inst_words(at)])
    out = m.with_words(words)
    if next_id != m.bound:
        out = out.with_header(bound=next_id)
    return out.splice(replace)


# What a function starts with before its first real instruction: casts go after these.
_ENTRY_BLOCK_HEAD = frozenset({Op.FunctionParameter, Op.Label, Op.Variable, Op.Line,
                               Op.NoLine})


def declarations_first(m: Module) -> Module:
    """Function declarations (no body) moved before the definitions, each group in its
    order: the Logical Layout asks for it, whatever order the inputs came in."""
    fns = functions(m)
    body = fns.has_body.astype(np.int8)
    if not body.size or bool((np.diff(body) >= 0).all()):
        return m
    ranges = [np.arange(a, b + 1) for a, b in zip(fns.first.tolist(), fns.last.tolist(),
                                                   strict=True)]
    order = [np.arange(int(fns.first[0]))]
    order += [r for r, b in zip(ranges, body.tolist(), strict=True) if not b]
    order += [r for r, b in zip(ranges, body.tolist(), strict=True) if b]
    order.append(np.arange(int(fns.last[-1]) + 1, len(m)))
    return m.select(np.concatenate(order))


__all__ = ["Resolution", "Symbol", "declarations_first", "origin_namer", "resolve"]
