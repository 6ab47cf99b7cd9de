"""Merge: check the inputs agree, shift ids apart, concatenate section by section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..errors import LinkError, ModelMismatch, VersionMismatch
from ..grammar import grammar
from ..ir import Module, Section, concatenate, decode_string
from ..ir.layout import Word
from ..ir.module import unique
from ..spec import Op

MAX_BOUND = 1 << 32


def input_name(m: Module, k: int) -> str:
    """How diagnostics name input `k`: its source, else its place."""
    return m.source or f"input #{k + 1}"


def _version_text(word: int) -> str:
    return f"{(word >> 16) & 0xFF}.{(word >> 8) & 0xFF}"


def _check_inputs(modules: Sequence[Module], joined: Module, inst_base: np.ndarray, *,
                  use_highest_version: bool) -> int:
    """Check versions, memory models and entry points agree, on the inputs laid end to
    end (`joined`; `inst_base`: where each input's instructions begin); returns the output
    version word."""
    problems: list[LinkError] = []
    versions = {m.version for m in modules}
    if len(versions) > 1 and not use_highest_version:
        notes = [f"{input_name(m, k)} is SPIR-V {_version_text(m.version)}"
                 for k, m in enumerate(modules)]
        problems.append(VersionMismatch(
            "input modules have different SPIR-V versions (use_highest_version=True links "
            "them at the highest)", notes=notes))
    mm = np.flatnonzero(joined.opcodes == Op.MemoryModel)
    owner = np.searchsorted(inst_base, mm, side="right") - 1
    owner, first = np.unique(owner, return_index=True)  # each input's first OpMemoryModel
    mm = mm[first]
    if owner.size < len(modules):
        has = np.zeros(len(modules), dtype=bool)
        has[owner] = True
        problems += [LinkError(f"{input_name(modules[k], k)} has no OpMemoryModel")
                     for k in np.flatnonzero(~has).tolist()]
    seen_entries: dict[tuple[int, str], str] = {}
    eps = np.flatnonzero(joined.opcodes == Op.EntryPoint)
    for i, k in zip(eps.tolist(), (np.searchsorted(inst_base, eps, side="right") - 1).tolist(),
                    strict=True):
        ws = joined.inst_words(i)
        key = (ws[1], decode_string(ws[3:]))
        if key in seen_entries:
            model = grammar().operand_kinds["ExecutionModel"].enumerants.get(ws[1])
            problems.append(LinkError(
                f"entry point \"{key[1]}\" ({model.name if model else ws[1]}) is defined "
                f"more than once", notes=[f"defined by {seen_entries[key]}",
                                          f"defined by {input_name(modules[k], k)}"]))
        else:
            seen_entries[key] = input_name(modules[k], k)
    addressing = joined.operand(mm, Word.ADDRESSING_MODEL)
    memory = joined.operand(mm, Word.MEMORY_MODEL)
    if mm.size and ((addressing != addressing[0]) | (memory != memory[0])).any():
        models: dict[tuple[int, int], list[str]] = {}
        for k, a, b in zip(owner.tolist(), addressing.tolist(), memory.tolist(), strict=True):
            models.setdefault((a, b), []).append(input_name(modules[k], k))
        g = grammar()
        notes = []
        for (a, b), names in models.items():
            an = g.operand_kinds["AddressingModel"].enumerants.get(a)
            mn = g.operand_kinds["MemoryModel"].enumerants.get(b)
            notes.append(f"{', '.join(names)}: {an.name if an else a} {mn.name if mn else b}")
        problems.append(ModelMismatch("input modules use different addressing or memory models",
                                      notes=notes))
    if problems:
        raise _collect(problems)
    return max(versions)


def _collect(problems: list[LinkError]) -> LinkError:
    if len(problems) == 1:
        return problems[0]
    return LinkError(f"{len(problems)} link errors", errors=problems)


def _dense_ids(m: Module) -> Module:
    """`m` with its ids renumbered 1..n in their order (n: the distinct ids it uses), and
    the bound n + 1. No array is sized by the old bound."""
    ids = m.words[m.id_pos]
    used = unique(ids)
    words = m.words.copy()
    words[m.id_pos] = (np.searchsorted(used, ids) + 1).astype(np.uint32)
    return m.with_words(words).with_header(bound=int(used.size) + 1)


class LaidOut(NamedTuple):
    """The inputs laid end to end with their ids shifted apart (`joined`, sections out of
    order), and the order that sorts them into the merged module: `merged()` applies it.
    A pass that decides on `joined` what goes and how ids map (`dedup.dedup_plan`) is
    applied in the same copy, `merged(keep, remap)`, instead of a copy of its own."""

    joined: Module
    order: np.ndarray  # joined's instructions in Logical Layout order, one OpMemoryModel
    version: int  # the output's SPIR-V version
    shifts: list[int]  # the id shift applied to each input

    def merged(self, keep: np.ndarray | None = None, remap: np.ndarray | None = None
               ) -> Module:
        """The merged module; with `keep` (a mask over joined's instructions) only those,
        and with `remap` every id mapped through it."""
        order = self.order if keep is None else self.order[keep[self.order]]
        return self.joined.select(order, remap=remap, version=self.version)


def merge(inputs: Sequence[Module], *, use_highest_version: bool, generator: int,
          consume: bool = False) -> tuple[Module, list[int]]:
    """`lay_out`, then its order applied: the merged module and each input's id shift."""
    laid = lay_out(inputs, use_highest_version=use_highest_version, generator=generator,
                   consume=consume)
    return laid.merged(), laid.shifts


def lay_out(inputs: Sequence[Module], *, use_highest_version: bool, generator: int,
            consume: bool = False) -> LaidOut:
    """Check the inputs agree, then concatenate them with their ids shifted apart, and
    find the order that sorts them into Logical Layout sections (stable, so input order
    holds within a section). With `consume`, `inputs` (a list) is emptied once the inputs
    are laid end to end: a caller holding no other reference to them frees their arrays
    before the sort, not at the end of the link.

    Needs: inputs that hold the link preconditions (`preconditions.check_link_inputs`).
    Guarantees: applied (`merged()`), one module in Logical Layout order, every input's
    ids disjoint (shifted by the ids each uses, not its header's bound), one
    OpMemoryModel, the highest version; or a LinkError naming every input whose version,
    memory model or entry points clash.
    """
    if consume and not isinstance(inputs, list):
        raise TypeError("consume=True empties the inputs (merge, lay_out): pass a list")
    if not inputs:
        raise LinkError("no input modules to link")
    # Memory follows the input, not a number it claims: a module whose bound is far
    # beyond its size (ids spread thin, or a header's claim) is renumbered densely first.
    modules = [m if m.bound <= 2 * m.words.size + 64 else _dense_ids(m) for m in inputs]
    # (No loop variable: one left naming the last input would keep every input's
    # arrays alive, views of one batch as the reader makes them, through the sort.)
    used = np.array([mod.bound - 1 for mod in modules], dtype=np.int64)
    shifts = (np.cumsum(used) - used).tolist()
    bound = int(used.sum()) + 1
    if bound >= MAX_BOUND:
        raise LinkError(f"the merged module needs {bound} ids, more than fit in 32 bits")
    joined = concatenate(modules, shifts, version=modules[0].version, generator=generator,
                         bound=bound)
    inst_base = np.cumsum([0] + [len(m) for m in modules])
    version = _check_inputs(modules, joined, inst_base, use_highest_version=use_highest_version)
    if consume:
        inputs.clear()  # type: ignore[attr-defined]  # a list, checked above
        del modules
    order = np.argsort(joined.sections, kind="stable")
    # One OpMemoryModel: keep the first.
    mm = order[joined.sections[order] == int(Section.MEMORY_MODEL)]
    if mm.size > 1:
        drop = np.zeros(len(joined), dtype=bool)
        drop[mm[1:]] = True
        order = order[~drop[order]]
    return LaidOut(joined, order, version, shifts)
