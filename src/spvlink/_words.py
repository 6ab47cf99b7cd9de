"""Grammar-blind facts of a SPIR-V binary: the header, the magic number, instruction
header words, strings packed in words, byte order.

Nothing here knows an opcode; everything above may use it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, overload

MAGIC = 0x07230203
MAGIC_SWAPPED = 0x03022307  # the magic number of a big-endian module read as little-endian
HEADER_WORDS = 5  # magic, version, generator, bound, schema
MAX_MINOR = 6  # the newest SPIR-V 1.x the grammar describes

# spirv-val's default limit on the id bound (`--max-id-bound`, SPIRV-Tools'
# `spv_validator_limit_max_id_bound`, 0x3FFFFF). A module claiming more is refused before
# anything is sized by its bound.
MAX_ID_BOUND = 4_194_303

WORD_COUNT_SHIFT = 16
OPCODE_MASK = 0xFFFF
MAX_WORD_COUNT = 0xFFFF


@overload
def opcode_of(header: int) -> int: ...
@overload
def opcode_of(header: Any) -> Any: ...
def opcode_of(header: Any) -> Any:
    """The opcode of an instruction's first word (or of a numpy array of them)."""
    return header & OPCODE_MASK


@overload
def word_count_of(header: int) -> int: ...
@overload
def word_count_of(header: Any) -> Any: ...
def word_count_of(header: Any) -> Any:
    """The word count of an instruction's first word (or of a numpy array of them)."""
    return header >> WORD_COUNT_SHIFT


def header_word(word_count: int, opcode: int) -> int:
    return (word_count << WORD_COUNT_SHIFT) | opcode


def version_word(major: int, minor: int) -> int:
    return (major << 16) | (minor << 8)


def version_of(word: int) -> tuple[int, int]:
    """(major, minor) of a version word."""
    return (word >> 16) & 0xFF, (word >> 8) & 0xFF


def version_error(word: int) -> str | None:
    """Why a header's version word is not one the grammar describes; None when it is."""
    major, minor = version_of(word)
    if word & 0xFF0000FF or major != 1 or minor > MAX_MINOR:
        return f"unknown SPIR-V version word {word:#010x}"
    return None


def bound_error(bound: int) -> str | None:
    """Why an id bound is refused; None when it is accepted."""
    if bound > MAX_ID_BOUND:
        return (f"id bound {bound} is over {MAX_ID_BOUND}, spirv-val's default limit "
                "(--max-id-bound)")
    return None


# Strings: UTF-8 bytes, NUL-terminated, padded with NULs to whole words, little-endian
# within each word. Bytes that are not UTF-8 are kept as lone surrogates (Python's
# "surrogateescape"), so a string is written back byte for byte as it was read.
STRING_ERRORS = "surrogateescape"


def encode_string(text: str) -> list[int]:
    raw = text.encode("utf-8", STRING_ERRORS) + b"\0"
    raw += b"\0" * (-len(raw) % 4)
    return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]


def string_bytes(words: Sequence[int]) -> bytes:
    """The bytes of a string operand, up to (not including) its NUL."""
    raw = struct.pack(f"<{len(words)}I", *words)
    end = raw.find(b"\0")
    return raw[: end if end >= 0 else len(raw)]


def decode_string(words: Sequence[int]) -> str:
    return string_bytes(words).decode("utf-8", STRING_ERRORS)


def text_bytes(text: str) -> bytes:
    """Assembly text as bytes: strings that were not UTF-8 get their own bytes back, as
    spirv-dis prints them."""
    return text.encode("utf-8", STRING_ERRORS)


def text_of(data: bytes) -> str:
    """Assembly text from bytes; bytes that are not UTF-8 are kept (see `text_bytes`)."""
    return data.decode("utf-8", STRING_ERRORS)
