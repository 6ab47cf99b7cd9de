"""The Module's invariants, stated in code (`Module` says them in prose).

`check_module(m)` raises `ModuleInvariantError` naming the first invariant broken. The tests
run it after every pass (`LinkOptions(verify=True)`); it is vectorised, so a big module
checks in milliseconds, but the linker does not pay it by default.
"""

from __future__ import annotations

import numpy as np

from .._words import OPCODE_MASK
from ..errors import SpvError
from ..spec import Op
from .layout import Section
from .module import Module, compute_sections, opcode_facts


class ModuleInvariantError(SpvError):
    """A Module whose arrays disagree: a bug in the pass that made it."""


def check_module(m: Module, *, unique_results: bool = True) -> None:
    """Raise `ModuleInvariantError` unless every invariant holds:

    - the instruction starts tile the words: the first at 0, each the previous start plus
      its word count, the last ending at the end; every word count at least 1;
    - each instruction's first word holds its word count and opcode (`sizes`, `opcodes`);
    - `sections` are the Logical Layout sections of the opcodes, in order (non-decreasing);
    - id positions ascend strictly, lie inside the instruction `id_inst` names, and every id
      word is neither 0 nor at or above the bound;
    - (`unique_results`) no result id is defined twice.
    """
    n = len(m)
    problem = _problem(m, n, unique_results)
    if problem:
        where = f" ({m.source})" if m.source else ""
        raise ModuleInvariantError(f"module invariant broken{where}: {problem}")


def _problem(m: Module, n: int, unique_results: bool) -> str | None:
    starts = m.starts.astype(np.int64)
    sizes = m.sizes.astype(np.int64)
    arrays = {"sizes": m.sizes, "opcodes": m.opcodes, "sections": m.sections}
    for name, arr in arrays.items():
        if arr.shape != (n,):
            return f"{name} has {arr.shape[0]} entries for {n} instructions"
    if m.id_inst.shape != m.id_pos.shape:
        return "id_pos and id_inst differ in length"
    if n == 0:
        return "id positions without instructions" if m.id_pos.size else (
            "words without instructions" if m.words.size else None)
    if (sizes < 1).any():
        return f"instruction {int(np.argmax(sizes < 1))} has a word count below 1"
    ends = starts + sizes
    if starts[0] != 0 or (starts[1:] != ends[:-1]).any() or ends[-1] != m.words.size:
        bad = 0 if starts[0] != 0 else int(np.argmax(starts[1:] != ends[:-1])) + 1 \
            if (starts[1:] != ends[:-1]).any() else n - 1
        return f"the instruction starts do not tile the words (at instruction {bad})"
    first = m.words[starts].astype(np.int64)
    if ((first >> 16) != sizes).any():
        return f"instruction {int(np.argmax((first >> 16) != sizes))}'s word count differs " \
               "from its first word"
    if ((first & OPCODE_MASK) != m.opcodes).any():
        return f"instruction {int(np.argmax((first & OPCODE_MASK) != m.opcodes))}'s opcode differs " \
               "from its first word"
    expected = compute_sections(m.opcodes.astype(np.int64))
    if (np.asarray(m.sections) != expected).any():
        return f"instruction {int(np.argmax(np.asarray(m.sections) != expected))} is not " \
               "marked with its section"
    # Before the first function, sections by opcode never go back; from it on, only what
    # may stand inside or between functions (types, lines, non-semantic instructions).
    by_opcode = opcode_facts().section[m.opcodes.astype(np.int64)].astype(np.int64)
    fn = np.flatnonzero(m.opcodes == Op.Function)
    head = by_opcode[: int(fn[0]) if fn.size else n]
    back = np.flatnonzero(np.diff(head) < 0)
    if back.size:
        return f"instruction {int(back[0]) + 1} is out of Logical Layout order"
    if fn.size:
        early = np.flatnonzero(by_opcode[int(fn[0]):] < int(Section.GLOBAL))
        if early.size:
            return f"instruction {int(early[0]) + int(fn[0])} is out of Logical Layout order " \
                   "(after the first function)"
    pos = m.id_pos.astype(np.int64)
    if pos.size:
        if (np.diff(pos) <= 0).any():
            return "id positions do not ascend"
        inst = m.id_inst.astype(np.int64)
        if (inst < 0).any() or (inst >= n).any():
            return "an id position names no instruction"
        inside = (pos > starts[inst]) & (pos < ends[inst])
        if not inside.all():
            return f"id position {int(pos[np.argmax(~inside)])} is outside instruction " \
                   f"{int(inst[np.argmax(~inside)])}"
        ids = m.words[pos].astype(np.int64)
        if ((ids == 0) | (ids >= m.bound)).any():
            bad = int(ids[np.argmax((ids == 0) | (ids >= m.bound))])
            return f"id {bad} is 0 or not below the bound {m.bound}"
    if unique_results:
        rid = m.result_ids
        defined = np.sort(rid[rid > 0])
        if defined.size and (defined[1:] == defined[:-1]).any():
            return f"id {int(defined[1:][defined[1:] == defined[:-1]][0])} is defined twice"
    return None
