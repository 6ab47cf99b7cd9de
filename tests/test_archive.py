"""spvlink.archive: deterministic GNU ar writing, reading, interop with binutils, bad input."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from spvlink.archive import is_archive, make_rlib, read_archive, write_archive
from spvlink.errors import ArchiveError

AR: str = shutil.which("ar") or ""
needs_ar = pytest.mark.skipif(not AR, reason="binutils ar not installed")

LONG = "a_very_long_member_name.spv"  # > 15 bytes
MEMBERS: list[tuple[str, bytes]] = [
    ("a.spv", b"\x03\x02\x23\x07abc"),  # odd size: padded
    (LONG, b"hello world!"),
    ("exactly15bytes_", b""),  # 15 bytes: short form
    ("another_long_name_x.o", bytes(range(256))),
]


def test_deterministic() -> None:
    assert write_archive(MEMBERS) == write_archive(MEMBERS)
    assert make_rlib(MEMBERS, b"meta") == make_rlib(MEMBERS, b"meta")


def test_round_trip() -> None:
    data = write_archive(MEMBERS)
    assert is_archive(data)
    assert read_archive(data) == MEMBERS


def test_empty_archive() -> None:
    assert write_archive([]) == b"!<arch>\n"
    assert read_archive(b"!<arch>\n") == []


def test_layout() -> None:
    data = write_archive([("a.o", b"abc"), ("b", b"xy")])
    assert data[:8] == b"!<arch>\n"
    head = data[8:68]
    assert head[:16] == b"a.o/".ljust(16)
    assert head[16:28] == b"0".ljust(12)
    assert head[28:34] == b"0".ljust(6)
    assert head[34:40] == b"0".ljust(6)
    assert head[40:48] == b"644".ljust(8)
    assert head[48:58] == b"3".ljust(10)
    assert head[58:60] == b"`\n"
    assert data[68:72] == b"abc\n"  # 2-byte alignment padding
    assert data[72:88] == b"b/".ljust(16)


def test_long_names_table() -> None:
    data = write_archive([("short.o", b"1"), (LONG, b"2"), ("second_long_name.o", b"3")])
    # The first member is the GNU `//` table holding `name/\n` entries.
    assert data[8:24] == b"//".ljust(16)
    size = int(data[8 + 48 : 8 + 58])
    table = data[68 : 68 + size]
    assert table.startswith(LONG.encode() + b"/\nsecond_long_name.o/\n")
    assert size % 2 == 0
    assert b"/0".ljust(16) in data
    assert b"/" + str(len(LONG) + 2).encode() in data
    assert read_archive(data) == [("short.o", b"1"), (LONG, b"2"), ("second_long_name.o", b"3")]


def test_make_rlib() -> None:
    data = make_rlib([("x.spv", b"12"), ("y.spv", b"345")], b"rmeta!")
    assert read_archive(data) == [("lib.rmeta", b"rmeta!"), ("x.spv", b"12"), ("y.spv", b"345")]
    assert read_archive(make_rlib([]))[0] == ("lib.rmeta", b"")


def test_unicode_name() -> None:
    members = [("shäder_ünïcode_long.spv", b"x"), ("ü.o", b"y")]
    assert read_archive(write_archive(members)) == members


@pytest.mark.parametrize(
    "name, needle",
    [
        ("", "empty"),
        ("a/b.o", "'/'"),
        (b"\xff\xfe.o", "UTF-8"),
        ("\udcff.o", "UTF-8"),
    ],
)
def test_bad_names(name: str | bytes, needle: str) -> None:
    with pytest.raises(ArchiveError, match=needle):
        write_archive([(name, b"x")])


def test_duplicate_names() -> None:
    with pytest.raises(ArchiveError, match="duplicate.*'x.o'"):
        write_archive([("x.o", b"1"), ("y.o", b"2"), ("x.o", b"3")])
    with pytest.raises(ArchiveError, match="duplicate"):
        write_archive([(LONG, b"1"), (LONG.encode(), b"2")])


def test_is_archive() -> None:
    assert is_archive(b"!<arch>\nrest")
    assert not is_archive(b"\x03\x02\x23\x07")
    assert not is_archive(b"")


# --- corrupt input ------------------------------------------------------------------------


def _good() -> bytes:
    return write_archive([("a.o", b"abcd"), (LONG, b"xy")])


def _corrupt_cases() -> list[tuple[str, bytes, str]]:
    good = _good()
    # offsets: 8 = `//` header, then table, then a.o header
    table_size = int(good[8 + 48 : 8 + 58])
    a_hdr = 8 + 60 + table_size
    long_hdr = a_hdr + 60 + 4

    def patch(at: int, new: bytes) -> bytes:
        return good[:at] + new + good[at + len(new) :]

    return [
        ("bad magic", b"!<arch>X" + good[8:], "bad magic"),
        ("not archive", b"\x03\x02\x23\x07" * 4, "bad magic"),
        ("empty", b"", "bad magic"),
        ("truncated header", good[: a_hdr + 30], "truncated member header"),
        ("bad size", patch(a_hdr + 48, b"12x4      "), "bad size field"),
        ("negative size", patch(a_hdr + 48, b"-4        "), "bad size field"),
        ("empty size", patch(a_hdr + 48, b" " * 10), "bad size field"),
        ("past end", patch(a_hdr + 48, b"9999      "), "runs past the end"),
        ("truncated body", good[: a_hdr + 62], "runs past the end"),
        ("bad fmag", patch(a_hdr + 58, b"xx"), "terminator"),
        ("bad long ref", patch(long_hdr, b"/999".ljust(16)), "past the end of the '//' table"),
        ("non-numeric ref", patch(long_hdr, b"/abc".ljust(16)), "long-name reference"),
        (
            "no table",
            write_archive([("a.o", b"ab")]).replace(b"a.o/".ljust(16), b"/0".ljust(16)),
            "no '//' table",
        ),
        (
            "unterminated long name",
            patch(8 + 60 + len(LONG), b"XX"),
            "unterminated long name",
        ),
    ]


@pytest.mark.parametrize(
    "label, data, needle", _corrupt_cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_corrupt(label: str, data: bytes, needle: str) -> None:
    with pytest.raises(ArchiveError) as info:
        read_archive(data, source="lib/foo.rlib")
    assert "lib/foo.rlib" in str(info.value)
    assert needle in str(info.value), str(info.value)


def test_corrupt_prefixes_never_escape() -> None:
    """Every truncation and every single-byte corruption gives members or ArchiveError."""
    good = _good()
    for n in range(len(good)):
        try:
            read_archive(good[:n])
        except ArchiveError:
            pass
    for i in range(len(good)):
        for b in (0, 0x20, 0x2F, 0x39, 0xFF):
            try:
                read_archive(good[:i] + bytes([b]) + good[i + 1 :])
            except ArchiveError:
                pass


def test_bsd_names() -> None:
    body = b"long_bsd_member_name.o" + b"payload"
    hdr = (
        b"#1/22".ljust(16)
        + b"0".ljust(12)
        + b"0".ljust(6)
        + b"0".ljust(6)
        + b"644".ljust(8)
        + str(len(body)).encode().ljust(10)
        + b"`\n"
    )
    data = b"!<arch>\n" + hdr + body + (b"\n" if len(body) % 2 else b"")
    assert read_archive(data) == [("long_bsd_member_name.o", b"payload")]


# --- interop with binutils ----------------------------------------------------------------


def _write_files(tmp: Path, members: list[tuple[str, bytes]]) -> list[str]:
    for name, data in members:
        (tmp / name).write_bytes(data)
    return [name for name, _ in members]


@needs_ar
@pytest.mark.parametrize("flags", ["rcD", "rc"])
def test_read_binutils_archive(tmp_path: Path, flags: str) -> None:
    names = _write_files(tmp_path, MEMBERS)
    subprocess.run([AR, flags, "out.a", *names], cwd=tmp_path, check=True)
    got = read_archive((tmp_path / "out.a").read_bytes(), source="out.a")
    assert got == MEMBERS


@needs_ar
def test_binutils_D_is_byte_identical(tmp_path: Path) -> None:
    names = _write_files(tmp_path, MEMBERS)
    subprocess.run([AR, "rcD", "out.a", *names], cwd=tmp_path, check=True)
    assert (tmp_path / "out.a").read_bytes() == write_archive(MEMBERS)


@needs_ar
def test_read_binutils_archive_with_symbol_table(tmp_path: Path) -> None:
    """An ELF object makes binutils write a `/` symbol table member, which is skipped."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to make an ELF object")
    (tmp_path / "f.c").write_text("int spvlink_test_symbol(void) { return 1; }\n")
    subprocess.run([cc, "-c", "f.c", "-o", "long_object_file_name.o"], cwd=tmp_path, check=True)
    _write_files(tmp_path, [("x.spv", b"xyz")])
    subprocess.run(
        [AR, "rcs", "lib.a", "long_object_file_name.o", "x.spv"],
        cwd=tmp_path,
        check=True,
    )
    data = (tmp_path / "lib.a").read_bytes()
    assert data[8:10] == b"/ "  # the symbol table comes first
    got = read_archive(data)
    assert [n for n, _ in got] == ["long_object_file_name.o", "x.spv"]
    assert got[0][1] == (tmp_path / "long_object_file_name.o").read_bytes()


@needs_ar
def test_binutils_reads_ours(tmp_path: Path) -> None:
    archive = tmp_path / "ours.a"
    archive.write_bytes(make_rlib(MEMBERS, b"metadata"))
    listed = subprocess.run(
        [AR, "t", str(archive)], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert listed == ["lib.rmeta", *(n for n, _ in MEMBERS)]
    for name, data in [("lib.rmeta", b"metadata"), *MEMBERS]:
        out = subprocess.run([AR, "p", str(archive), name], check=True, capture_output=True).stdout
        assert out == data, name
