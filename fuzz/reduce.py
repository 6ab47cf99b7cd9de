"""Automatic reduction of a failing input: delta debugging (Zeller's ddmin) over its
instructions (binary) or lines (text), then over single words of what is left.

A candidate "still fails" when the pipeline gives the same outcome with the same
signature (stage, exception type and place), so reduction never slides from one bug to
another. Runs inside a worker (`fuzz.worker`), each try under the case's limits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .mutate import HEADER, from_words, join, split_instructions, to_words

MAX_TRIES = 300
MAX_TRIES_HANG = 12  # each try of a hang costs up to its time limit


def ddmin(items: Sequence[Any], fails: Callable[[Sequence[Any]], bool],
          budget: list[int]) -> list[Any]:
    """A 1-minimal (within `budget[0]` tries) sublist of `items` that still fails."""
    items = list(items)
    n = 2
    while len(items) >= 2 and budget[0] > 0:
        chunk = max(len(items) // n, 1)
        parts = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        reduced = False
        for k in range(len(parts)):
            if budget[0] <= 0:
                break
            rest = [x for j, p in enumerate(parts) if j != k for x in p]
            budget[0] -= 1
            if fails(rest):
                items, n, reduced = rest, max(n - 1, 2), True
                break
        if not reduced:
            if n >= len(items):
                break
            n = min(n * 2, len(items))
    return items


def reduce_case(data: bytes, config: dict[str, Any], outcome: str,
                signature: str) -> dict[str, Any]:
    """The smallest input found that fails the same way, and how many tries it took."""
    from .worker import run_limited

    budget = [MAX_TRIES_HANG if outcome == "hang" else MAX_TRIES]
    start = budget[0]

    def same(candidate: bytes) -> bool:
        r = run_limited(candidate, config)
        return bool(r["outcome"] == outcome and r["signature"] == signature)

    if config.get("kind") == "asm":
        lines = data.split(b"\n")
        kept = ddmin(lines, lambda ls: same(b"\n".join(ls)), budget)
        best = b"\n".join(kept)
    else:
        words, order = to_words(data)
        tail = data[len(data) // 4 * 4:]
        if len(words) <= HEADER:
            best = data
        else:
            header = words[:HEADER]
            insts = ddmin(split_instructions(words),
                          lambda xs: same(from_words(join(header, xs), order) + tail), budget)
            flat = join(header, insts)
            body = ddmin(flat[HEADER:], lambda ws: same(from_words([*header, *ws], order)
                                                           + tail), budget)
            best = from_words([*header, *body], order) + tail
            if not same(best):  # the word pass may have dropped the tail's effect
                best = from_words(flat, order) + tail
    return {"data": best, "tries": start - budget[0]}


__all__ = ["ddmin", "reduce_case"]
