"""One module per entry point, with file stems made as Rust-GPU makes them."""

from __future__ import annotations

import re

from ..ir.facts import entry_points

__all__ = ["entry_points", "file_stem", "file_stems"]

# Characters that are unsafe in file names on some system, and control characters.
_UNSAFE = re.compile(r'[/\\?<>:*|"\x00-\x1f\x80-\x9f]')


def file_stem(name: str) -> str:
    stem = _UNSAFE.sub("-", name).replace("--", "-")
    if stem in ("", ".", ".."):
        stem = "-" if not stem else stem.replace(".", "-")
    return stem


def file_stems(names: list[str]) -> dict[str, str]:
    """Entry name -> unique file stem; on a clash `<stem>.<index>`, then `.next` until free."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for index, name in enumerate(names):
        stem = file_stem(name)
        disambiguator: int | None = index
        while stem in taken:
            if disambiguator is not None:
                stem = f"{stem}.{disambiguator}"
                disambiguator = None
            else:
                stem = f"{stem}.next"
        taken.add(stem)
        out[name] = stem
    return out
