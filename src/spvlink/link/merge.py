"""Merge: check the inputs agree, shift ids apart, concatenate section by section."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import LinkError, ModelMismatch, VersionMismatch
from ..grammar import grammar
from ..ir import Module, Section, concatenate, decode_string

MAX_BOUND = 1 << 32


def _name(m: Module, k: int) -> str:
    return m.source or f"input #{k + 1}"


def _version_text(word: int) -> str:
    return f"{(word >> 16) & 0xFF}.{(word >> 8) & 0xFF}"


def check_inputs(modules: Sequence[Module], *, use_highest_version: bool) -> int:
    """Check versions and memory models agree; returns the output version word."""
    if not modules:
        raise LinkError("no input modules to link")
    problems: list[LinkError] = []
    versions = {m.version for m in modules}
    if len(versions) > 1 and not use_highest_version:
        notes = [f"{_name(m, k)} is SPIR-V {_version_text(m.version)}"
                 for k, m in enumerate(modules)]
        problems.append(VersionMismatch(
            "input modules have different SPIR-V versions (use --use-highest-version to "
            "link them as the highest)", notes=notes))
    models: dict[tuple[int, int], list[str]] = {}
    for k, m in enumerate(modules):
        idx = _section_range(m, Section.MEMORY_MODEL)
        if idx.size == 0:
            problems.append(LinkError(f"{_name(m, k)} has no OpMemoryModel"))
            continue
        ws = m.inst_words(int(idx[0]))
        models.setdefault((ws[1], ws[2]), []).append(_name(m, k))
    seen_entries: dict[tuple[int, str], str] = {}
    for k, m in enumerate(modules):
        for i in _section_range(m, Section.ENTRY_POINT).tolist():
            ws = m.inst_words(i)
            key = (ws[1], decode_string(ws[3:]))
            if key in seen_entries:
                model = grammar().operand_kinds["ExecutionModel"].enumerants.get(ws[1])
                problems.append(LinkError(
                    f"entry point \"{key[1]}\" ({model.name if model else ws[1]}) is defined "
                    f"more than once", notes=[f"defined by {seen_entries[key]}",
                                              f"defined by {_name(m, k)}"]))
            else:
                seen_entries[key] = _name(m, k)
    if len(models) > 1:
        g = grammar()
        notes = []
        for (addressing, memory), names in models.items():
            a = g.operand_kinds["AddressingModel"].enumerants.get(addressing)
            mm = g.operand_kinds["MemoryModel"].enumerants.get(memory)
            notes.append(f"{', '.join(names)}: {a.name if a else addressing} "
                         f"{mm.name if mm else memory}")
        problems.append(ModelMismatch("input modules use different addressing or memory models",
                                      notes=notes))
    if problems:
        raise _collect(problems)
    return max(versions)


def _section_range(m: Module, section: Section) -> np.ndarray:
    """Indices of one section's instructions; a binary search in a well-ordered module
    (a thousand inputs make a scan of each noticeable)."""
    sec = m.sections
    lo, hi = np.searchsorted(sec, [int(section), int(section) + 1])
    if hi > lo and (sec[lo:hi] == int(section)).all() and (lo == 0 or sec[lo - 1] < int(section)):
        return np.arange(lo, hi)
    return np.flatnonzero(sec == int(section))  # out-of-order input: scan


def _collect(problems: list[LinkError]) -> LinkError:
    if len(problems) == 1:
        return problems[0]
    return LinkError(f"{len(problems)} link errors", errors=problems)


def merge(modules: Sequence[Module], *, version: int, generator: int) -> tuple[Module, list[int]]:
    """Concatenate the modules with their ids shifted apart, sorted into Logical Layout
    sections (stable, so input order holds within a section). Returns the merged module
    and the id shift applied to each input.
    """
    shifts = []
    total = 0
    for m in modules:
        shifts.append(total)
        total += max(m.bound - 1, 0)
    bound = total + 1
    if bound >= MAX_BOUND:
        raise LinkError(f"the merged module needs {bound} ids, more than fit in 32 bits")
    merged = concatenate(modules, shifts, version=version, generator=generator, bound=bound)
    order = np.argsort(merged.sections, kind="stable")
    # One OpMemoryModel: keep the first.
    mm = order[merged.sections[order] == int(Section.MEMORY_MODEL)]
    if mm.size > 1:
        drop = np.zeros(len(merged), dtype=bool)
        drop[mm[1:]] = True
        order = order[~drop[order]]
    return merged.select(order), shifts
