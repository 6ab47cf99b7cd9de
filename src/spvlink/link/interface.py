"""Recompute each OpEntryPoint's interface from what its call graph reaches.

Before SPIR-V 1.4 the interface lists the Input and Output variables used; from 1.4 on,
every global variable used. Variables already listed keep their order; new ones follow
in module order. With `preserve_bindings`, every variable an entry point listed and that
is still there stays listed, used or not: Rust-GPU's `gather_all_interface_vars_from_uses`
("`preserve_bindings` retains any declared entry point vars"); and from SPIR-V 1.4 on, where
the interface lists every global variable, each kept DescriptorSet/Binding variable is listed
too, so that reflection on the entry point sees the binding.

Needs: the keep-mask of dead-code elimination (`keep`), so that only kept variables and
calls count. Guarantees: each kept OpEntryPoint lists exactly the variables it reaches (and,
with `preserve_bindings`, those it declared), none twice, none removed by `keep`.
"""

from __future__ import annotations

import numpy as np

from ..ir import Instruction, Module, Operand, Section
from ..ir.facts import functions
from ..ir.layout import Word
from ..spec import Op, StorageClass
from .dce import binding_variables


def interface_replacements(m: Module, keep: np.ndarray | None = None, *,
                           preserve_bindings: bool = False) -> dict[int, list[Instruction]]:
    """The rewritten OpEntryPoint instructions (by index) whose interface changes; with
    `keep`, as if only the kept instructions were there."""
    eps = m.indices(Section.ENTRY_POINT)
    if keep is not None:
        eps = eps[keep[eps]]
    if not eps.size:
        return {}
    fns = functions(m)
    fn_index = fns.index_of()
    rid = m.result_ids

    is_glob_var = (m.opcodes == Op.Variable) & (m.sections == int(Section.GLOBAL))
    if keep is not None:
        is_glob_var &= keep
    glob_vars = np.flatnonzero(is_glob_var)
    var_order = {int(rid[i]): k for k, i in enumerate(glob_vars.tolist())}
    var_class = dict(zip(rid[glob_vars].tolist(),
                         m.operand(glob_vars, Word.VARIABLE_STORAGE).tolist(), strict=True))
    is_var = np.zeros(m.bound, dtype=bool)
    is_var[rid[glob_vars]] = True
    is_fn = np.zeros(m.bound, dtype=bool)
    is_fn[fns.ids] = True

    # Per function: the variables and functions its body names. Only the few id words
    # naming a global variable or a function are looked at closely.
    named = m.words[m.id_pos]
    interesting = (is_var[named] | is_fn[named]) & ~m.id_is_result
    if keep is not None:
        interesting &= keep[m.id_inst]
    at = np.flatnonzero(interesting)
    owner = fns.owner[m.id_inst[at]]
    inside = owner >= 0
    owners = owner[inside]
    ids = named[at[inside]].astype(np.int64)
    var_uses: dict[int, set[int]] = {}
    callees: dict[int, set[int]] = {}
    vmask = is_var[ids]
    for f, v in zip(owners[vmask].tolist(), ids[vmask].tolist(), strict=True):
        var_uses.setdefault(f, set()).add(v)
    fmask = is_fn[ids]
    for f, g in zip(owners[fmask].tolist(), ids[fmask].tolist(), strict=True):
        callees.setdefault(f, set()).add(fn_index[g])

    all_globals = m.version >= 0x00010400
    bindings = ({v for v in binding_variables(m) if v in var_class}
                if preserve_bindings else set())
    replace: dict[int, list[Instruction]] = {}
    for i in eps.tolist():
        inst = m.instruction(i)
        entry = inst.operands[1].value
        start = fn_index.get(entry)
        used: set[int] = set()
        if start is not None:
            seen = {start}
            stack = [start]
            while stack:
                f = stack.pop()
                used |= var_uses.get(f, set())
                for g in callees.get(f, ()):
                    if g not in seen:
                        seen.add(g)
                        stack.append(g)
        if not all_globals:
            used = {v for v in used
                    if var_class[v] in (StorageClass.Input, StorageClass.Output)}
        listed = [op.value for op in inst.operands[3:]]
        if preserve_bindings:
            used |= {v for v in listed if v in var_class}
            if all_globals:
                used |= bindings
        new_list = list(dict.fromkeys(v for v in listed if v in used))
        new_list += sorted(used - set(new_list), key=var_order.__getitem__)
        if new_list != listed:
            inst.operands = inst.operands[:3] + [Operand("IdRef", (v,)) for v in new_list]
            replace[i] = [inst]
    return replace
