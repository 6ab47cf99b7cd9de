"""Dead-code elimination over the id graph.

Nodes are "slots": a global instruction is its own slot, and every instruction of a
function belongs to the slot of its OpFunction, so a live function keeps its whole body
(and what the body uses) alive. Edges come straight from the id positions, already
grouped by slot in word order, so the graph needs no sorting. Reachability is a
vectorised frontier walk.

Roots: the kept entry points, plus the caller's extra roots (exports in library mode,
unresolved imports in partial mode), plus, with `preserve_bindings`, every global variable
decorated with DescriptorSet or Binding (what spirv-opt's `--preserve-bindings` keeps:
"Ensure that the optimizer preserves all bindings declared within the module"). Names,
decorations and execution modes live only while their target lives. Global debug-info instructions are weak: they never keep a
function or variable alive, and go when one they name is dead. Unused pure instructions
inside live functions are removed too.

Needs: a module whose decoration groups are flattened (`flatten_decoration_groups`) and
whose ids are defined once. Guarantees: every id a kept instruction uses is defined by a
kept instruction (or is a forward-declared pointer, kept with its declaration).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..ir import Module, Section
from ..ir.facts import functions
from ..ir.layout import EXT_INST_OPCODES, Word
from ..ir.module import is_in, opcode_facts, ranges, unique
from ..spec import Decoration, Op


def live_instructions(m: Module, *, extra_roots: Iterable[int] = (),
                      entry_points: Iterable[int] | None = None,
                      remove_pure: bool = True,
                      preserve_bindings: bool = False) -> np.ndarray:
    """The keep-mask of dead-code elimination: what some root reaches. `entry_points`
    selects which OpEntryPoint instructions (by index) are roots; by default all of them.

    Phases: the slot graph; the roots and what they reach; ids that OpDecorateId keeps;
    the weak debug instructions; the keep-mask; unused pure instructions; names and
    decorations after their targets.
    """
    g = _SlotGraph(m)
    eps = m.indices(Section.ENTRY_POINT)
    kept_eps = eps if entry_points is None else np.asarray(sorted(entry_points), dtype=np.int64)
    mode_keep = _visit_roots(m, g, kept_eps, extra_roots, preserve_bindings)
    _visit_decorate_id_operands(m, g)
    _visit_weak_debug_info(m, g)
    keep = _keep_mask(m, g, kept_eps, mode_keep)
    if remove_pure:
        keep = _remove_unused_pure(m, keep, g.is_fn_inst)
    return _follow_targets(m, keep)


class _SlotGraph:
    """The id graph between slots, and which slots are alive so far.

    Edges from every id word to the slot defining it. A result id, and any use inside
    one function, points at its own slot: no edge. Edges out of instructions nothing
    can reach (names, decorations, entry points) are harmless; those out of weak ones
    are dropped. Id positions are in word order, so the edges come grouped by slot."""

    def __init__(self, m: Module) -> None:
        n = len(m)
        fns = functions(m)
        self.is_fn_inst = fns.owner >= 0
        self.slot = slot = np.arange(n, dtype=np.int64)
        slot[self.is_fn_inst] = fns.first[fns.owner[self.is_fn_inst]]
        # Which slot defines each id.
        rid = m.result_ids
        self.def_slot = np.full(m.bound, -1, dtype=np.int64)
        has = rid > 0
        self.def_slot[rid[has]] = slot[has]
        # Weak instructions: global non-semantic OpExtInst (debug info).
        self.glob = m.sections == int(Section.GLOBAL)
        self.weak = self.glob & is_in(m.opcodes, list(EXT_INST_OPCODES))

        edge_src = slot[m.id_inst]
        edge_dst = self.def_slot[m.words[m.id_pos]]
        ok = (edge_dst >= 0) & (edge_dst != edge_src)
        if self.weak.any():
            ok &= ~self.weak[m.id_inst]
        edge_src, self.edge_dst = edge_src[ok], edge_dst[ok]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(edge_src, minlength=n))])
        self.alive = np.zeros(n, dtype=bool)

        # The call graph can be as deep as the input is long (a chain of modules), so it is
        # walked in Python; everything else is shallow and expands a whole frontier at once.
        self.is_fn_slot = np.zeros(n, dtype=bool)
        self.is_fn_slot[fns.first] = True
        calls = self.is_fn_slot[edge_src] & self.is_fn_slot[self.edge_dst]
        self.callees: dict[int, list[int]] = {}
        for a, b in zip(edge_src[calls].tolist(), self.edge_dst[calls].tolist(), strict=True):
            self.callees.setdefault(a, []).append(b)

    def visit(self, seeds: np.ndarray) -> None:
        """Mark alive every slot the `seeds` slots reach (negative seeds: none)."""
        alive, is_fn_slot, callees = self.alive, self.is_fn_slot, self.callees
        frontier = unique(seeds[(seeds >= 0) & ~alive[seeds]])
        while frontier.size:
            stack = frontier[is_fn_slot[frontier]].tolist()
            reached = []
            while stack:
                f = stack.pop()
                if alive[f]:
                    continue
                alive[f] = True
                reached.append(f)
                stack.extend(g for g in callees.get(f, ()) if not alive[g])
            plain = frontier[~is_fn_slot[frontier]]
            alive[plain] = True
            new = np.concatenate([plain, np.asarray(reached, dtype=np.int64)])
            lo, hi = self.indptr[new], self.indptr[new + 1]
            cnt = hi - lo
            total = int(cnt.sum())
            if not total:
                break
            nxt = self.edge_dst[ranges(lo, cnt)]
            frontier = unique(nxt[~alive[nxt]])


def _visit_roots(m: Module, g: _SlotGraph, kept_eps: np.ndarray, extra_roots: Iterable[int],
                 preserve_bindings: bool) -> np.ndarray:
    """Visit the kept entry points' functions, the extra roots, the binding variables
    (`preserve_bindings`) and the operands of the kept entry points' execution modes;
    the keep-mask of those execution modes."""
    root_ids = m.operand(kept_eps, Word.ENTRY_FUNCTION).tolist()
    root_ids.extend(extra_roots)
    if preserve_bindings:
        root_ids.extend(binding_variables(m))
    ep_funcs = set(root_ids[: kept_eps.size])
    mode_keep = np.zeros(len(m), dtype=bool)
    for i in m.indices(Section.EXECUTION_MODE).tolist():
        if int(m.operand(i, Word.NAME_TARGET)) in ep_funcs:  # the mode's entry point
            mode_keep[i] = True
            s = int(m.starts[i])
            lo, hi = np.searchsorted(m.id_pos, [s, s + int(m.sizes[i])])
            root_ids.extend(int(x) for x in m.words[m.id_pos[lo + 1:hi]])
    g.visit(g.def_slot[np.asarray(root_ids, dtype=np.int64)] if root_ids
            else np.zeros(0, np.int64))
    return mode_keep


def _visit_decorate_id_operands(m: Module, g: _SlotGraph) -> None:
    """Decorations that take ids (OpDecorateId) keep those ids alive while their target is."""
    deco_id_idx = m.indices_of(Op.DecorateId)
    changed = bool(deco_id_idx.size)
    while changed:
        changed = False
        for i in deco_id_idx.tolist():
            ws = m.inst_words(i)
            t = g.def_slot[ws[1]]
            if t >= 0 and g.alive[t]:
                extra = g.def_slot[np.asarray(ws[3:], dtype=np.int64)]
                extra = extra[extra >= 0]
                extra = extra[~g.alive[extra]] if extra.size else extra
                if extra.size:
                    g.visit(extra)
                    changed = True


def _visit_weak_debug_info(m: Module, g: _SlotGraph) -> None:
    """Weak debug instructions: alive unless they name something dead; what a live one
    names (its type, other operands) is then visited."""
    weak_idx = np.flatnonzero(g.weak)
    if not weak_idx.size:
        return
    weak, def_slot, alive = g.weak, g.def_slot, g.alive
    is_entity = is_in(m.opcodes, [Op.Function, Op.Variable])
    weak_alive_ids: set[int] = set()
    seeds: list[int] = []
    for i in weak_idx.tolist():
        s = int(m.starts[i])
        lo, hi = np.searchsorted(m.id_pos, [s, s + int(m.sizes[i])])
        refs = m.words[m.id_pos[lo:hi]].tolist()
        ok_all = True
        for r in refs[2:]:  # skip result type and result id
            d = int(def_slot[r]) if r < m.bound else -1
            if d < 0:
                continue
            if weak[d]:
                if r not in weak_alive_ids:
                    ok_all = False
                    break
            elif is_entity[d] and not alive[d]:
                ok_all = False
                break
        if ok_all:
            weak_alive_ids.add(int(m.result_ids[i]))
            alive[i] = True
            seeds.extend(int(def_slot[r]) for r in refs[:1] + refs[2:]
                         if r < m.bound and def_slot[r] >= 0 and not weak[def_slot[r]])
    if seeds:
        g.visit(np.asarray(seeds, dtype=np.int64))


def _keep_mask(m: Module, g: _SlotGraph, kept_eps: np.ndarray,
               mode_keep: np.ndarray) -> np.ndarray:
    """Instructions of alive slots, and the module-level ones that always stay."""
    glob, rid, sections = g.glob, m.result_ids, m.sections
    keep = np.zeros(len(m), dtype=bool)
    code = glob | g.is_fn_inst
    keep[code] = g.alive[g.slot[code]]
    # Global instructions without a result (OpLine, OpNoLine) stay; a forward pointer
    # declaration stays while its pointer type does.
    keep[glob & (rid == 0)] = True
    fwd = np.flatnonzero(glob & (m.opcodes == Op.TypeForwardPointer))
    if fwd.size:
        ptr = m.operand(fwd, Word.FORWARD_POINTER).astype(np.int64)
        keep[fwd] = g.alive[g.def_slot[ptr]] & (g.def_slot[ptr] >= 0)
    for sec in (Section.CAPABILITY, Section.EXTENSION, Section.EXT_INST_IMPORT,
                Section.MEMORY_MODEL, Section.DEBUG_STRING, Section.DEBUG_MODULE_PROCESSED):
        keep[sections == int(sec)] = True
    keep[kept_eps] = True
    keep |= mode_keep
    return keep


def _follow_targets(m: Module, keep: np.ndarray) -> np.ndarray:
    """Names and decorations stay while their target does; an OpExtInstImport while some
    kept instruction uses it."""
    rid, sections = m.result_ids, m.sections
    alive_id = np.zeros(m.bound, dtype=bool)
    alive_id[rid[keep & (rid > 0)]] = True
    for sec in (Section.DEBUG_NAME, Section.ANNOTATION):
        idx = np.flatnonzero(sections == int(sec))
        if idx.size:
            targets = m.operand(idx, Word.NAME_TARGET).astype(np.int64)
            keep[idx] = alive_id[targets]
    # OpGroupDecorate lists (if any survive flattening) and OpExtInstImports nobody uses.
    used = np.zeros(m.bound, dtype=bool)
    kept_uses = keep[m.id_inst] & ~m.id_is_result
    used[m.words[m.id_pos[kept_uses]]] = True
    imports = m.indices(Section.EXT_INST_IMPORT)
    if imports.size:
        keep[imports] = used[rid[imports]]
    return keep


def _remove_unused_pure(m: Module, keep: np.ndarray, is_fn_inst: np.ndarray) -> np.ndarray:
    """Drop pure instructions in live functions whose results nobody uses, to a fixpoint.

    Use counts are taken once; each round subtracts only the uses of what it removed.
    """
    pure = opcode_facts().pure[m.opcodes] & is_fn_inst
    if not pure.any():
        return keep
    keep = keep.copy()
    use = ~m.id_is_result
    rid = m.result_ids
    in_code = (m.sections == int(Section.GLOBAL)) | is_fn_inst
    live = use & keep[m.id_inst] & in_code[m.id_inst]
    counts = np.bincount(m.words[m.id_pos[live]].astype(np.int64), minlength=m.bound)
    def_inst = np.full(m.bound, -1, dtype=np.int64)
    has = rid > 0
    def_inst[rid[has]] = np.flatnonzero(has)
    dead = pure & keep & (counts[rid] == 0)
    while dead.any():
        gone = np.flatnonzero(dead)
        keep[gone] = False
        # The uses of the removed instructions: their id ranges, results excluded.
        w0 = m.starts[gone].astype(np.int64)
        lo = np.searchsorted(m.id_pos, w0)
        hi = np.searchsorted(m.id_pos, w0 + m.sizes[gone])
        n = hi - lo
        at = ranges(lo, n)
        at = at[use[at]]
        np.subtract.at(counts, m.words[m.id_pos[at]].astype(np.int64), 1)
        dead = np.zeros_like(dead)
        defs = def_inst[m.words[m.id_pos[at]].astype(np.int64)]
        defs = defs[defs >= 0]
        dead[defs] = pure[defs] & keep[defs] & (counts[rid[defs]] == 0)
    return keep


def binding_variables(m: Module) -> list[int]:
    """The global variables decorated with DescriptorSet or Binding, in module order."""
    decos = m.indices_of(Op.Decorate)
    kinds = m.operand(decos, Word.DECORATION)
    targets = m.operand(decos[is_in(kinds, [Decoration.DescriptorSet, Decoration.Binding])],
                        Word.NAME_TARGET)
    is_var = (m.opcodes == Op.Variable) & (m.sections == int(Section.GLOBAL))
    ids = m.result_ids[is_var]
    return ids[is_in(ids, targets)].tolist()
