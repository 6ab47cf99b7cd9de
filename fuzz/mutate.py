"""Structure-aware mutators of SPIR-V binaries and of assembly text.

Every mutator takes a `random.Random` and returns new bytes or text; nothing here imports
spvlink, so the campaign's parent process stays small. Binary mutators know the header
(5 words, the bound in word 3) and the instruction framing (word count in the high half
of each instruction's first word), which is what lets them reach past the reader's first
checks: a flipped bit in a literal, an id at or past the bound, a word count that runs
off the end, an instruction moved out of its section or spliced in from another module.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence

HEADER = 5
INTERESTING = (0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x10001, 0x3FFFFF,
               0x400000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
BOUNDS = (0, 1, 2, 3, 0x3FFFFF, 0x400000, 1 << 26, 1 << 29, 0x7FFFFFFF, 0xFFFFFFFF)


def to_words(data: bytes) -> tuple[list[int], str]:
    """The words of a module (little- or big-endian by its magic), and the byte order."""
    n = len(data) // 4
    order = ">" if data[:4] == b"\x07\x23\x02\x03" else "<"
    return list(struct.unpack(f"{order}{n}I", data[:n * 4])), order


def from_words(words: Sequence[int], order: str = "<") -> bytes:
    return struct.pack(f"{order}{len(words)}I", *(w & 0xFFFFFFFF for w in words))


def split_instructions(words: Sequence[int]) -> list[list[int]]:
    """The instructions after the header, by their word counts; a count of 0 or one that
    runs past the end makes the rest one chunk (so joining the chunks gives the words)."""
    out: list[list[int]] = []
    i = HEADER
    while i < len(words):
        n = words[i] >> 16
        if n == 0 or i + n > len(words):
            out.append(list(words[i:]))
            break
        out.append(list(words[i:i + n]))
        i += n
    return out


def join(header: Sequence[int], insts: Sequence[Sequence[int]]) -> list[int]:
    return [*header, *(w for inst in insts for w in inst)]


# ---------------------------------------------------------------------------------------
# Binary mutators: (rng, words, donors) -> words


Donors = Sequence[list[list[int]]]  # instructions of other modules, to splice in


def _flip_bits(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    out = list(words)
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        k = rng.randrange(len(out))
        out[k] ^= 1 << rng.randrange(32)
    return out


def _interesting_word(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    out = list(words)
    k = rng.randrange(HEADER if len(out) > HEADER else 0, len(out))
    bound = words[3] if len(words) > 3 else 1
    choices = [*INTERESTING, bound, bound - 1, bound + 1, rng.randrange(1, max(bound, 2))]
    out[k] = rng.choice(choices) & 0xFFFFFFFF
    return out


def _bound(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    out = list(words)
    if len(out) > 3:
        out[3] = rng.choice((*BOUNDS, max(out[3] - 1, 0), out[3] + 1, rng.getrandbits(32)))
    return out


def _word_count(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    insts = split_instructions(words)
    if not insts:
        return list(words)
    inst = insts[rng.randrange(len(insts))]
    n = inst[0] >> 16
    inst[0] = (rng.choice((0, 1, n - 1, n + 1, n + 2, 0xFFFF)) & 0xFFFF) << 16 | inst[0] & 0xFFFF
    return join(words[:HEADER], insts)


def _opcode(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    insts = split_instructions(words)
    if not insts:
        return list(words)
    inst = insts[rng.randrange(len(insts))]
    other = rng.choice(rng.choice(donors)) if donors and rng.random() < 0.7 else [rng.randrange(400)]
    inst[0] = inst[0] & 0xFFFF0000 | other[0] & 0xFFFF
    return join(words[:HEADER], insts)


def _splice(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    insts = split_instructions(words)
    donor = rng.choice(donors) if donors else insts
    if not donor:
        return list(words)
    k = rng.randrange(len(donor))
    piece = [list(x) for x in donor[k:k + rng.choice((1, 1, 2, 5))]]
    at = rng.randrange(len(insts) + 1)
    return join(words[:HEADER], insts[:at] + piece + insts[at:])


def _duplicate(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    insts = split_instructions(words)
    if not insts:
        return list(words)
    k = rng.randrange(len(insts))
    at = k + 1 if rng.random() < 0.5 else rng.randrange(len(insts) + 1)
    return join(words[:HEADER], insts[:at] + [list(insts[k])] + insts[at:])


def _move(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    insts = split_instructions(words)
    if len(insts) < 2:
        return list(words)
    inst = insts.pop(rng.randrange(len(insts)))
    insts.insert(rng.randrange(len(insts) + 1), inst)
    return join(words[:HEADER], insts)


def _delete(rng: random.Random, words: list[int], donors: Donors) -> list[int]:
    insts = split_instructions(words)
    if not insts:
        return list(words)
    k = rng.randrange(len(insts))
    del insts[k:k + rng.choice((1, 1, 1, 3))]
    return join(words[:HEADER], insts)


BINARY_MUTATORS: dict[str, Callable[[random.Random, list[int], Donors], list[int]]] = {
    "flip-bits": _flip_bits,
    "interesting-word": _interesting_word,
    "bound": _bound,
    "word-count": _word_count,
    "opcode": _opcode,
    "splice": _splice,
    "duplicate": _duplicate,
    "move": _move,
    "delete": _delete,
}


def mutate_binary(rng: random.Random, data: bytes, donors: Donors) -> tuple[bytes, list[str]]:
    """One to three stacked mutations of a module; sometimes truncated, byte-swapped or
    given trailing garbage. Returns the bytes and the mutators' names."""
    words, order = to_words(data)
    names = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        name = rng.choice(list(BINARY_MUTATORS))
        if len(words) <= HEADER and name not in ("bound", "flip-bits", "splice"):
            name = "splice"
        words = BINARY_MUTATORS[name](rng, words, donors) if words else words
        names.append(name)
    if rng.random() < 0.05:
        order = ">" if order == "<" else "<"
        names.append("byte-order")
    out = from_words(words, order)
    r = rng.random()
    if r < 0.08:
        out = out[:rng.randrange(len(out) + 1)]
        names.append("truncate")
    elif r < 0.10:
        out += bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 9)))
        names.append("trailing-bytes")
    return out, names


# ---------------------------------------------------------------------------------------
# Text mutators: (rng, lines, donor lines) -> lines

TOKENS = ("!0", "!0xFFFFFFFF", "!0x00010000", "!0x00020011", "%undefined", "%1", "%0",
          "0x100000000", "-1", "4294967296", "1e400", "-0x1p-1074", "nan", '"\\xff"',
          '"' + "x" * 300 + '"', "OpNop", "None", "Shader", "|", "=", "\"", "\\", "\t", "🙂",
          "%" + "n" * 200, "0x", "-", "2147483648")
LINES = ("!0", "!0xFFFFFFFF", "!0x00010000 !1", "!0x00030047 !1 !2", "; Bound: 4294967296",
         "; Bound: 4194304", "; Version: 9.9", "; Generator: Khronos; 99999", "; Schema: 7",
         "%x = OpUndef %x", "OpFunctionEnd", "%f = OpFunction %void None %fn", "OpNop",
         "OpCapability 99999", "OpExtInstImport \"NoSuch.set\"", "%a = OpTypeInt 64 1",
         "%c = OpConstant %a 0x100000000", "OpName %1 \"dup\"", "OpName %2 \"dup\"",
         "OpSwitch %1 %2 1 %3 2 %4")


def _lines_delete(rng: random.Random, lines: list[str], donor: list[str]) -> list[str]:
    k = rng.randrange(len(lines))
    return lines[:k] + lines[k + rng.choice((1, 1, 4)):]


def _lines_duplicate(rng: random.Random, lines: list[str], donor: list[str]) -> list[str]:
    k = rng.randrange(len(lines))
    at = rng.randrange(len(lines) + 1)
    return lines[:at] + [lines[k]] + lines[at:]


def _lines_swap(rng: random.Random, lines: list[str], donor: list[str]) -> list[str]:
    out = list(lines)
    a, b = rng.randrange(len(out)), rng.randrange(len(out))
    out[a], out[b] = out[b], out[a]
    return out


def _token(rng: random.Random, lines: list[str], donor: list[str]) -> list[str]:
    out = list(lines)
    k = rng.randrange(len(out))
    parts = out[k].split(" ")
    j = rng.randrange(len(parts))
    parts[j] = (rng.choice(TOKENS) if rng.random() < 0.7 or not donor
                else rng.choice(rng.choice(donor).split(" ")))
    out[k] = " ".join(parts)
    return out


def _insert_line(rng: random.Random, lines: list[str], donor: list[str]) -> list[str]:
    at = rng.randrange(len(lines) + 1)
    new = rng.choice(LINES) if rng.random() < 0.6 or not donor else rng.choice(donor)
    return lines[:at] + [new] + lines[at:]


def _characters(rng: random.Random, lines: list[str], donor: list[str]) -> list[str]:
    out = list(lines)
    k = rng.randrange(len(out))
    s = out[k]
    p = rng.randrange(len(s) + 1)
    out[k] = s[:p] + rng.choice(("\x00", "\udcff", "\u00e9", "\"", "\\", "%", ";", "\r",
                                "\u2028", "\x7f")) + s[p:]
    return out


TEXT_MUTATORS: dict[str, Callable[[random.Random, list[str], list[str]], list[str]]] = {
    "delete-line": _lines_delete,
    "duplicate-line": _lines_duplicate,
    "swap-lines": _lines_swap,
    "token": _token,
    "insert-line": _insert_line,
    "characters": _characters,
}


def mutate_text(rng: random.Random, text: str, donor: str) -> tuple[bytes, list[str]]:
    """One to three stacked mutations of assembly text; returned as UTF-8 bytes (lone
    surrogates become the bytes they stand for, so invalid UTF-8 is tried too)."""
    lines = text.splitlines() or [""]
    donor_lines = donor.splitlines()
    names = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        name = rng.choice(list(TEXT_MUTATORS))
        lines = TEXT_MUTATORS[name](rng, lines, donor_lines) or [""]
        names.append(name)
    return "\n".join(lines).encode("utf-8", "surrogateescape"), names
