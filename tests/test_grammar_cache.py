"""The grammar cache (issue 11): checked on load (format, payload checksum, checksums of
the grammar files it came from), rebuilt when stale or corrupt, written through an
exclusively created temporary file renamed into place."""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from spvlink import grammar as g


@pytest.fixture()
def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the installed grammar files (the real ones), and a private cache folder."""
    real = g._headers_dir()
    core = tmp_path / "spirv" / "unified1"
    core.mkdir(parents=True)
    for name in g._SOURCE_NAMES:
        if (real / name).is_file():
            shutil.copy2(real / name, core / name)
    shutil.copy2(real.parent / "spir-v.xml", core.parent / "spir-v.xml")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return core


def cache_of(core: Path) -> Path:
    path = g._cache_path(core)
    assert path is not None
    return path


def test_cache_is_written_then_used(core: Path) -> None:
    raw, cached = g._load_raw(core)
    assert not cached and cache_of(core).is_file()
    again, cached = g._load_raw(core)
    assert cached and again == raw
    assert [p.name for p in cache_of(core).parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("content", [
    marshal.dumps({"format": 3}),  # what issue 11 found: every later run failed
    marshal.dumps({"magic": g._CACHE_MAGIC, "format": g._CACHE_FORMAT}),
    b"\x00garbage",
    b"",
])
def test_corrupt_cache_is_rebuilt(core: Path, content: bytes) -> None:
    fresh, _ = g._load_raw(core)
    cache_of(core).write_bytes(content)
    raw, cached = g._load_raw(core)
    assert not cached and raw == fresh
    assert g._load_raw(core) == (fresh, True)  # and written back sound


def test_payload_checksum_catches_a_changed_byte(core: Path) -> None:
    fresh, _ = g._load_raw(core)
    outer = marshal.loads(cache_of(core).read_bytes())
    payload = bytearray(outer["payload"])
    payload[len(payload) // 2] ^= 0x01
    outer["payload"] = bytes(payload)
    cache_of(core).write_bytes(marshal.dumps(outer))
    assert g._load_raw(core) == (fresh, False)


def test_stale_cache_is_rebuilt_when_a_grammar_file_changes(core: Path) -> None:
    first, _ = g._load_raw(core)
    grammar_file = core / "spirv.core.grammar.json"
    # Same content, new modification time: the checksum still matches, the cache is kept.
    st = grammar_file.stat()
    os.utime(grammar_file, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert g._load_raw(core) == (first, True)
    # New content (a revision bump): rebuilt from the JSON.
    text = grammar_file.read_text()
    grammar_file.write_text(text.replace(f'"revision" : {first["revision"]}',
                                         f'"revision" : {first["revision"] + 1}', 1))
    raw, cached = g._load_raw(core)
    assert not cached and raw["revision"] == first["revision"] + 1


def test_cache_that_checks_out_but_does_not_build_is_rebuilt(tmp_path: Path) -> None:
    """A consistent cache (right magic, checksums) whose tables are wrong: `grammar()`
    in a fresh process rebuilds it instead of failing every run."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    code = ("from spvlink.grammar import grammar; "
            "print(grammar().instructions[3].opname)")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True)
    assert first.returncode == 0 and first.stdout.strip() == "OpSource"
    [cache] = (tmp_path / "cache" / "spvlink").glob("grammar-*.marshal")
    outer = marshal.loads(cache.read_bytes())
    raw = marshal.loads(outer["payload"])
    raw["instructions"] = [("not", "an", "instruction")]  # wrong arity: fails to build
    outer["payload"] = marshal.dumps(raw)
    outer["checksum"] = zlib.crc32(outer["payload"])
    cache.write_bytes(marshal.dumps(outer))
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "OpSource"
    assert marshal.loads(marshal.loads(cache.read_bytes())["payload"])["instructions"] != [
        ("not", "an", "instruction")]


def test_unwritable_cache_folder_still_loads(core: Path) -> None:
    folder = cache_of(core).parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_bytes(b"a file where the folder should be")
    raw, cached = g._load_raw(core)
    assert not cached and raw["instructions"]


def test_repeats_are_shared_in_the_cache_and_the_records(core: Path) -> None:
    """Equal operand lists and strings are one object in the compiled tables, so marshal
    writes a repeat as a reference (the cache is about half the size of one written
    without sharing) and each distinct operand list is built into records once: OpIAdd and
    OpISub hold the same record tuple. What loads from the cache equals what was compiled."""
    raw, _ = g._load_raw(core)
    again, cached = g._load_raw(core)
    assert cached and again == raw
    by_name = {inst[1]: inst for inst in again["instructions"]}
    assert by_name["OpIAdd"][2] is by_name["OpISub"][2]
    unshared = marshal.dumps(raw, 2)  # version 2 writes no references
    assert len(marshal.dumps(again)) < 0.7 * len(unshared)
    built = g._build_grammar(again)
    iadd, isub = built.by_name["OpIAdd"], built.by_name["OpISub"]
    assert iadd.operands is isub.operands
    assert [o.kind for o in iadd.operands] == ["IdResultType", "IdResult", "IdRef", "IdRef"]


def test_each_cache_format_has_its_own_file(core: Path) -> None:
    """Two spvlink versions sharing one home directory (the bench's baseline beside the
    working tree, a user upgrading): the format is in the file's name, so neither rebuilds
    the other's cache on every run."""
    path = cache_of(core)
    assert path.name.endswith(f"-v{g._CACHE_FORMAT}.marshal")
    g._load_raw(core)
    older = path.with_name(path.name.replace(f"-v{g._CACHE_FORMAT}.", "-v4."))
    older.write_bytes(b"another version's cache")
    _, cached = g._load_raw(core)
    assert cached and older.read_bytes() == b"another version's cache"
