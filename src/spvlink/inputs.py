"""Loading inputs the way the `spvlink` command does, for Python users:

    import spvlink
    modules = spvlink.load(["main.spvasm", "libhash.rlib", "extra.spv"])
    result = spvlink.link(modules)

An input is a SPIR-V binary (any extension, either byte order), an ar archive (an rlib:
its members except `lib.rmeta`, in archive order) or SPIR-V assembly text (SPIRV-Tools'
form, recognised by its `Op...` instructions and assembled as `spvlink as` would). Every
error names the file: `ParseError`, `AssemblyError`, `ArchiveError` or `InputError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AssemblyError, InputError

if TYPE_CHECKING:
    from .ir import Module

# An instruction line of SPIR-V assembly: `OpCapability Shader` or `%x = OpTypeInt 32 0`.
_INSTRUCTION = re.compile(rb"^[ \t]*(?:%[\w.-]+[ \t]*=[ \t]*)?Op[A-Z]\w*", re.MULTILINE)
_SPIRV_MAGIC = (b"\x03\x02\x23\x07", b"\x07\x23\x02\x03")
_ARCHIVE_MAGIC = (b"!<arch>\n", b"!<thin>\n")
_SNIFF = 1 << 16  # bytes looked at to tell text from a binary


def looks_like_text(data: bytes) -> bool:
    """No NUL byte and valid UTF-8 in the first 64 KiB, and not a SPIR-V or ar header."""
    if data.startswith(_SPIRV_MAGIC) or data.startswith(_ARCHIVE_MAGIC):
        return False
    head = data[:_SNIFF]
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Only a character cut in two by the 64 KiB window is forgiven.
        return len(data) > _SNIFF and exc.start >= len(head) - 3
    return True


def is_assembly(data: bytes) -> bool:
    """Whether `data` is SPIR-V assembly text rather than a binary module or archive."""
    return looks_like_text(data) and _INSTRUCTION.search(data[:_SNIFF]) is not None


def decode_input(name: str, data: bytes) -> tuple[bytes, bool]:
    """(SPIR-V binary, whether it was assembled): assembly text is assembled (the text's
    `; Version:` comment, else SPIR-V 1.6, as `spvlink as`); anything else is returned as
    it is for the binary reader. Text that is not assembly (a GLSL or OpenCL C source, say)
    is an `InputError` that says what to do."""
    if not looks_like_text(data) or not data.strip():
        return data, False
    if _INSTRUCTION.search(data[:_SNIFF]) is None:
        raise InputError(f"{name}: text, but not SPIR-V assembly (no Op... instruction)",
                         notes=["inputs are SPIR-V modules, ar archives of them, or SPIR-V "
                                "assembly text; compile sources to SPIR-V first"])
    from .binary import write
    from .text import assemble

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte offset {exc.start})") from None
    try:
        return write(assemble(text)), True
    except AssemblyError as exc:
        exc.message = f"{name}:{exc.message}"
        exc.args = (exc.message,)
        raise


def load(paths: Sequence[str | Path] | str | Path) -> list[Module]:
    """The modules that `paths` hold, in order, loaded as `spvlink link` loads its inputs:
    SPIR-V binaries, archives (each member except `lib.rmeta`) and assembly text; `-` is
    standard input. One path may be given alone."""
    from .stage import load_inputs

    if isinstance(paths, (str, Path)):
        paths = [paths]
    return [im.module for im in load_inputs(list(paths))]


__all__ = ["decode_input", "is_assembly", "load", "looks_like_text"]
