"""Deterministic GNU ar archives (Rust rlib style): bytes in, bytes out.

`write_archive` produces the same bytes as binutils' `ar rcD` for members that are not ELF
objects (no symbol table): zero mtime, uid and gid, mode 644, names of at most 15 bytes as
`name/`, longer ones in a GNU `//` long-name table referenced as `/<offset>`.

`read_archive` also reads binutils archives with a symbol table (`/`, `/SYM64/`, skipped) and BSD
`#1/<len>` names. Corrupt input raises `ArchiveError`, never `IndexError` or `ValueError`.

This module depends only on `spvlink.errors` and the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence

from spvlink.errors import ArchiveError

__all__ = ["MAGIC", "is_archive", "make_rlib", "read_archive", "write_archive"]

MAGIC = b"!<arch>\n"
_THIN_MAGIC = b"!<thin>\n"
_HEADER_SIZE = 60
_FMAG = b"`\n"
_MAX_SHORT_NAME = 15
_SYMBOL_TABLES = (b"/", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED")


def is_archive(data: bytes) -> bool:
    """True if `data` starts with an ar global header (a thin archive's too, which
    `read_archive` refuses with a clear error)."""
    return bytes(data[: len(MAGIC)]) in (MAGIC, _THIN_MAGIC)


def _check_name(name: bytes | str) -> str:
    if isinstance(name, str):
        try:
            raw = name.encode("utf-8")
        except UnicodeEncodeError:
            raise ArchiveError(f"archive member name {name!r} is not valid UTF-8") from None
        text = name
    else:
        raw = bytes(name)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ArchiveError(f"archive member name {raw!r} is not valid UTF-8") from None
    if not raw:
        raise ArchiveError("archive member name is empty")
    if b"/" in raw:
        raise ArchiveError(f"archive member name {text!r} contains '/'")
    if b"\n" in raw or b"\0" in raw:
        raise ArchiveError(f"archive member name {text!r} contains a newline or NUL")
    return text


def extraction_name(name: str, *, source: str = "<archive>") -> str:
    """`name` if a member of that name can be extracted as a file of the extraction
    directory itself; else `ArchiveError`. binutils' `ar x` has the same rule (PR
    binutils/17533, "Do not allow directory traversal outside of the current directory
    tree"), but it warns "illegal output pathname for archive member" and extracts the
    base name; spvlink refuses, so a crafted archive never writes where it did not say."""
    bad = None
    if not name:
        bad = "is empty"
    elif "\0" in name:
        bad = "contains NUL"
    elif name.startswith("/"):
        bad = "is an absolute path"
    elif "/" in name:
        bad = "contains '/'"
    elif name in (".", ".."):
        bad = "is not a file name"
    if bad is not None:
        raise ArchiveError(f"{source}: member name {name!r} {bad}; refusing to extract it "
                           "outside the extraction directory")
    return name


def _header(name: bytes, size: int, *, blank_meta: bool = False) -> bytes:
    if blank_meta:
        meta = b" " * 12 + b" " * 6 + b" " * 6 + b" " * 8
    else:
        meta = b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"644".ljust(8)
    head = name.ljust(16) + meta + str(size).encode("ascii").ljust(10) + _FMAG
    assert len(head) == _HEADER_SIZE
    return head


def write_archive(members: Sequence[tuple[bytes | str, bytes]]) -> bytes:
    """Write a deterministic GNU ar archive of `(name, data)` members, in order.

    Raises `ArchiveError` for an empty, duplicate, non-UTF-8 name or one containing '/'.
    """
    names: list[bytes] = []
    seen: set[str] = set()
    for name, _data in members:
        text = _check_name(name)
        if text in seen:
            raise ArchiveError(f"duplicate archive member name {text!r}")
        seen.add(text)
        names.append(text.encode("utf-8"))

    table = bytearray()
    header_names: list[bytes] = []
    for raw in names:
        if len(raw) <= _MAX_SHORT_NAME:
            header_names.append(raw + b"/")
        else:
            header_names.append(b"/" + str(len(table)).encode("ascii"))
            table += raw + b"/\n"

    out = bytearray(MAGIC)
    if table:
        if len(table) % 2:
            table += b"\n"  # binutils counts this padding in the table's size
        out += _header(b"//", len(table), blank_meta=True)
        out += table
    for header_name, (_name, data) in zip(header_names, members, strict=True):
        payload = bytes(data)
        out += _header(header_name, len(payload))
        out += payload
        if len(payload) % 2:
            out += b"\n"
    return bytes(out)


def make_rlib(objects: Sequence[tuple[bytes | str, bytes]], metadata: bytes = b"") -> bytes:
    """An rlib-shaped archive: `lib.rmeta` holding `metadata` first, then `objects` in order."""
    return write_archive([("lib.rmeta", metadata), *objects])


def _field_int(field: bytes, what: str, offset: int, source: str, *, base: int = 10) -> int:
    text = field.strip(b" ")
    if not text or not all(0x30 <= c <= 0x39 for c in text):
        raise ArchiveError(
            f"{source}: bad {what} field {field.decode('latin-1').strip()!r} in member header "
            f"at byte offset {offset}"
        )
    return int(text, base)


def read_archive(data: bytes, *, source: str = "<archive>") -> list[tuple[str, bytes]]:
    """Read the members of an ar archive as `(name, data)` pairs, in order.

    Symbol tables are skipped; GNU `//` long names and BSD `#1/len` names are resolved.
    Raises `ArchiveError` naming `source` for any corrupt input.
    """
    data = bytes(data)
    if data[: len(_THIN_MAGIC)] == _THIN_MAGIC:
        raise ArchiveError(f"{source}: thin archives are not supported")
    if data[: len(MAGIC)] != MAGIC:
        raise ArchiveError(f"{source}: not an ar archive (bad magic)")
    pos = len(MAGIC)
    long_names: bytes | None = None
    result: list[tuple[str, bytes]] = []
    while pos < len(data):
        if len(data) - pos < _HEADER_SIZE:
            if data[pos:].strip(b"\n") == b"":
                break  # trailing padding
            raise ArchiveError(
                f"{source}: truncated member header at byte offset {pos} "
                f"({len(data) - pos} of {_HEADER_SIZE} bytes)"
            )
        header = data[pos : pos + _HEADER_SIZE]
        if header[58:60] != _FMAG:
            raise ArchiveError(f"{source}: bad member header terminator at byte offset {pos}")
        raw_name = header[0:16].rstrip(b" ")
        size = _field_int(header[48:58], "size", pos, source)
        start = pos + _HEADER_SIZE
        end = start + size
        if end > len(data):
            raise ArchiveError(
                f"{source}: member at byte offset {pos} runs past the end of the archive "
                f"(size {size}, {len(data) - start} bytes left)"
            )
        body = data[start:end]
        next_pos = end + (size % 2)

        if raw_name in _SYMBOL_TABLES:
            pos = next_pos
            continue
        if raw_name == b"//":
            if long_names is not None:
                raise ArchiveError(f"{source}: second long-name table at byte offset {pos}")
            long_names = body
            pos = next_pos
            continue

        name_bytes: bytes
        if raw_name.startswith(b"#1/"):
            nlen = _field_int(raw_name[3:], "BSD name length", pos, source)
            if nlen > size:
                raise ArchiveError(
                    f"{source}: BSD name length {nlen} exceeds member size {size} "
                    f"at byte offset {pos}"
                )
            name_bytes = body[:nlen].rstrip(b"\0")
            body = body[nlen:]
        elif raw_name.startswith(b"/") and len(raw_name) > 1:
            off = _field_int(raw_name[1:], "long-name reference", pos, source)
            if long_names is None:
                raise ArchiveError(
                    f"{source}: long-name reference {raw_name.decode('latin-1')!r} at byte "
                    f"offset {pos} but the archive has no '//' table"
                )
            if off >= len(long_names):
                raise ArchiveError(
                    f"{source}: long-name reference {raw_name.decode('latin-1')!r} at byte "
                    f"offset {pos} is past the end of the '//' table ({len(long_names)} bytes)"
                )
            stop = long_names.find(b"/\n", off)
            if stop < 0:
                raise ArchiveError(
                    f"{source}: unterminated long name at offset {off} of the '//' table"
                )
            name_bytes = long_names[off:stop]
        elif raw_name.endswith(b"/"):
            name_bytes = raw_name[:-1]
        else:
            name_bytes = raw_name  # BSD short name
        if not name_bytes:
            raise ArchiveError(f"{source}: empty member name at byte offset {pos}")
        try:
            name = name_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise ArchiveError(
                f"{source}: member name {name_bytes!r} at byte offset {pos} is not valid UTF-8"
            ) from None
        result.append((name, body))
        pos = next_pos
    return result
