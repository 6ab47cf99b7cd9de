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
    """A consistent cache (right magic, checksums, shape) holding a row that does not
    build: the record is built from the JSON instead, in a fresh process, and the cache
    is rewritten, rather than every run failing. Rows are built on first use, so this is
    found when OpSource's record is first asked for."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    code = ("from spvlink.grammar import grammar; "
            "print(grammar().instructions[3].opname)")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True)
    assert first.returncode == 0 and first.stdout.strip() == "OpSource"
    [cache] = (tmp_path / "cache" / "spvlink").glob("grammar-*.marshal")
    outer = marshal.loads(cache.read_bytes())
    raw = marshal.loads(outer["payload"])
    bad = marshal.dumps(("not", "an", "instruction"))  # wrong arity: fails to build
    raw["instructions"][3] = bad
    outer["payload"] = marshal.dumps(raw)
    outer["checksum"] = zlib.crc32(outer["payload"])
    cache.write_bytes(marshal.dumps(outer))
    assert g._looks_compiled(raw)
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "OpSource"
    rewritten = marshal.loads(marshal.loads(cache.read_bytes())["payload"])
    assert rewritten["instructions"][3] != bad


def test_unwritable_cache_folder_still_loads(core: Path) -> None:
    folder = cache_of(core).parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_bytes(b"a file where the folder should be")
    raw, cached = g._load_raw(core)
    assert not cached and raw["instructions"]


def test_records_are_built_on_first_use_and_repeats_are_shared(core: Path) -> None:
    """Each instruction and operand kind is its own marshalled row, built into a record
    when first asked for: a link builds a few dozen of the 858 instructions. Equal operand
    lists are still one tuple of records (OpIAdd and OpISub hold the same one). What loads
    from the cache equals what was compiled."""
    raw, _ = g._load_raw(core)
    again, cached = g._load_raw(core)
    assert cached and again == raw
    built = g._build_grammar(again)
    records = built.instructions
    assert isinstance(records, g._Records) and not records._built
    iadd, isub = built.by_name["OpIAdd"], built.by_name["OpISub"]
    assert iadd.operands is isub.operands
    assert [o.kind for o in iadd.operands] == ["IdResultType", "IdResult", "IdRef", "IdRef"]
    assert sorted(records._built) == sorted([iadd.opcode, isub.opcode])
    assert "OpIAdd" in built.by_name and iadd.opcode in records and 0xFFFF not in records
    assert built.instructions.get(0xFFFF) is None and built.by_name.get("OpNope") is None


def test_opcode_table_agrees_with_every_record(core: Path) -> None:
    """The columns that whole-grammar tables read (opcode facts, the disassembler's
    names) say what each instruction's record says."""
    built = g._build_grammar(g._load_raw(core)[0])
    t = built.table
    assert sorted(t.opcode) == sorted(built.instructions)
    for op, name, klass, typed, result, min_words in zip(*t, strict=True):
        info = built.instructions[op]
        assert (name, klass, typed, result) == (info.opname, info.klass,
                                                info.has_result_type, info.has_result)
        assert min_words == 1 + sum(1 for o in info.operands if o.quantifier == g.ONE)
        assert built.by_name[name] is info


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


def test_an_opcode_named_twice_keeps_its_first_row(core: Path) -> None:
    """Older grammars listed an alias as a second instruction with the same opcode
    (OpDecorateStringGOOGLE beside OpDecorateString). The first row is the record; the
    second name finds it, as an alias would."""
    import json

    path = core / "spirv.core.grammar.json"
    doc = json.loads(path.read_text())
    doc["instructions"].append({"opname": "OpSourceOld", "opcode": 3, "class": "Debug",
                                "operands": []})
    path.write_text(json.dumps(doc))
    built = g._build_grammar(g._load_raw(core)[0])
    assert built.instructions[3].opname == "OpSource"
    assert built.by_name["OpSourceOld"] is built.instructions[3]
    assert "OpSourceOld" in built.instructions[3].aliases
    assert built.table.opcode.count(3) == 1
