"""Bodies of functions that dead-code elimination will remove, found before the merge copies
them: the inputs laid end to end, with imports bound to exports by name alone.

Libraries export far more than a program calls (the bench's chain modules: four of each
five functions; a Rust-GPU `core`: most of it). Every pass between the merge and DCE would
copy, index and rewrite those bodies only for DCE to drop them. This pass finds them on
the joined inputs, so that the merged module is made without them.

The rule is DCE's (`dce.py`) made coarser, so that it can only keep more: a function is
kept if a root reaches it, where

- roots are the functions any instruction outside functions uses (the entry points, an
  initializer's function pointer, debug info), except a name or a decoration's target;
  in a library, every exported function; and every export whose name is defined more than
  once (import resolution compares their bodies, `symbols.definition_key`);
- a function reaches every function whose ids its body uses, and an import reaches every
  definition of its name, whatever the types (the resolver checks those later).

A dead function keeps its declaration (OpFunction, its parameters, OpFunctionEnd): import
resolution still sees every symbol, with its type and decorations, and reports the same
problems as before; DCE removes the declaration after it. Names and decorations of the
body's ids go with it.

Needs: inputs laid end to end (ids disjoint), no decoration groups. Guarantees: every
instruction it drops is one DCE would drop from the resolved module; the link's output
is unchanged (`tests/test_link_shortcuts.py` checks that, differentially).
"""

from __future__ import annotations

import numpy as np

from ..ir import Module, Section
from ..ir.facts import functions, linkage_entries
from ..ir.layout import Word
from ..ir.module import is_in
from ..spec import LinkageType, Op

_DECLARATION = [Op.Function, Op.FunctionParameter, Op.FunctionEnd]


def dead_function_bodies(m: Module, *, library: bool) -> np.ndarray | None:
    """Per instruction of `m`, True where it belongs to a function body no root reaches
    (or names or decorates an id defined there); None when there is no such body."""
    fns = functions(m)
    n_fn = fns.ids.size
    if n_fn < 2:
        return None
    # Per id word: the function defining the id, where that is not the one using it.
    owner = fns.owner.astype(np.int32)  # per instruction; -1 outside functions
    inside = owner >= 0
    rid = m.result_ids
    def_fn = np.full(m.bound, -1, dtype=np.int32)
    def_fn[rid[inside]] = owner[inside]
    def_fn[0] = -1
    used_fn = def_fn[m.words[m.id_pos]]
    user_fn = owner[m.id_inst]
    at = np.flatnonzero((used_fn >= 0) & (used_fn != user_fn))
    used_fn, user_fn = used_fn[at], user_fn[at]

    # Uses from outside functions are roots, but for names and decoration targets.
    outside = user_fn < 0
    inst = m.id_inst[at[outside]]
    section = m.sections[inst]
    target_word = m.id_pos[at[outside]] == m.starts[inst] + Word.NAME_TARGET
    weak = (section == int(Section.DEBUG_NAME)) | ((section == int(Section.ANNOTATION))
                                                     & target_word)
    roots = used_fn[outside][~weak].tolist()

    # The graph, one list of callees per function: uses across functions...
    callees: list[list[int]] = [[] for _ in range(n_fn)]
    for a, b in zip(user_fn[~outside].tolist(), used_fn[~outside].tolist(), strict=True):
        callees[a].append(b)
    # ...and imports, which reach every definition of their name. Exports defined twice
    # stay whole, and in a library every export is a root.
    definitions: dict[str, list[int]] = {}
    imports: list[tuple[int, str]] = []
    entries = linkage_entries(m)
    fn_of = def_fn[[t for _i, t, _n, _l in entries]].tolist() if entries else []
    for k, (_i, _t, name, ltype) in zip(fn_of, entries, strict=True):
        if k < 0:
            continue  # a variable: its initializer's uses are roots already
        if ltype == LinkageType.Import:
            imports.append((k, name))
        else:
            definitions.setdefault(name, []).append(k)
    for k, name in imports:
        callees[k] += definitions.get(name, ())
    for ks in definitions.values():
        if library or len(ks) > 1:
            roots += ks

    reached = bytearray(n_fn)
    while roots:
        k = roots.pop()
        if not reached[k]:
            reached[k] = 1
            roots += callees[k]
    live = np.frombuffer(reached, dtype=bool)
    if live.all():
        return None

    dead = inside & ~live[np.maximum(owner, 0)] & ~is_in(m.opcodes, _DECLARATION)
    if not dead.any():
        return None
    gone = np.zeros(m.bound, dtype=bool)
    gone[rid[dead]] = True
    gone[0] = False
    named = np.flatnonzero((m.sections == int(Section.DEBUG_NAME))
                           | (m.sections == int(Section.ANNOTATION)))
    dead[named[gone[m.operand(named, Word.NAME_TARGET)]]] = True
    return dead


__all__ = ["dead_function_bodies"]
