"""The link stage from Python (`spvlink.stage`): results, the optimiser and validator paths."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import spvlink.link
import spvlink.tools
from helpers import CORPUS, ROOT, spirv_as, spirv_dis, spirv_val
from spvlink.errors import InputError, LinkError, ParseError, ValidationError
from spvlink.link.strip_debug import NATIVE_STEP
from spvlink.stage import (
    CompileResult,
    InvalidModules,
    StageOptions,
    compile_result_json,
    per_entry_dir,
    run_stage,
    write_atomic,
)

SPV = CORPUS / "spv"
EXPORTS = SPV / "linkage_exports.spv"
IMPORTS = SPV / "linkage_imports.spv"
GVS = sorted(SPV.glob("*.gVS.spv"))


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("m") / "multi.spv"
    p.write_bytes(spirv_as((ROOT / "examples" / "asm" / "multi_entry.spvasm").read_text(),
                           "spv1.3"))
    return p


def test_single_result(tmp_path: Path) -> None:
    out = tmp_path / "linked.spv"
    res = run_stage([EXPORTS, IMPORTS], StageOptions(output=out, target_env="vulkan1.2",
                                                     json=tmp_path / "r.json"))
    assert isinstance(res, CompileResult)
    assert res.module == out and res.entry_points == ["main"]
    assert res.binary == out.read_bytes() and res.warnings == []
    assert res.json_path == tmp_path / "r.json"
    assert json.loads(res.json_path.read_text()) == {"entry_points": ["main"],
                                                     "module": out.as_posix()}
    names = [n for n, _ in res.timings]
    assert "read inputs" in names and "spirv-val" in names
    # -O 0 without debug info: spirv-opt's two passes are done natively (issue 14).
    assert NATIVE_STEP in names and "spirv-opt" not in names


def test_per_entry_point_result(tmp_path: Path, multi: Path) -> None:
    res = run_stage([multi], StageOptions(output=tmp_path / "s.spv", module_output="multiple"))
    assert isinstance(res.module, dict)
    assert res.entry_points == ["add_index", "double_it", "square"]  # link.rs: sorted
    assert res.module == {e: tmp_path / "s.spvs" / f"{e}.spv" for e in res.entry_points}
    assert set(res.binaries) == set(res.entry_points)
    assert res.json_path == tmp_path / "s.spv.json"
    assert res.json_path.read_text() == res.to_json()


def test_output_none_returns_binary(multi: Path) -> None:
    res = run_stage([multi], StageOptions(output=None))
    assert res.module is None and res.binary is not None
    assert spirv_val(res.binary, "vulkan1.1") is None
    with pytest.raises(InputError):
        run_stage([multi], StageOptions(output=None, module_output="per-entry-point"))


def test_compile_result_json_exact() -> None:
    assert compile_result_json(["b", "a"], "out.spv") == \
        '{"entry_points":["b","a"],"module":"out.spv"}'
    assert compile_result_json(["b", "a"], {"b": "o/b.spv", "a": "o/a.spv"}) == \
        '{"entry_points":["b","a"],"module":{"a":"o/a.spv","b":"o/b.spv"}}'
    # serde_json writes non-ASCII as is and escapes control characters as \u00XX.
    assert compile_result_json(["é\x01"], "ü.spv") == \
        '{"entry_points":["é\\u0001"],"module":"ü.spv"}'


def test_per_entry_dir() -> None:
    assert per_entry_dir("out.spv") == Path("out.spvs")
    assert per_entry_dir("a/b.bin") == Path("a/b.bin.spvs")


def test_options_checked() -> None:
    with pytest.raises(InputError):
        StageOptions(opt_level="4")
    with pytest.raises(InputError):
        StageOptions(module_output="two")
    with pytest.raises(InputError):
        StageOptions(spirv_metadata="some")
    assert StageOptions(opt_level=2).opt_level == "2"  # type: ignore[arg-type]
    assert StageOptions(module_output="multiple").module_output == "per-entry-point"
    # CodegenArgs: every relaxation is off unless given.
    o = StageOptions()
    assert o.validator == () and o.target_env == "spv1.6"
    assert not (o.relax_struct_store or o.relax_logical_pointer or o.relax_block_layout
                or o.uniform_buffer_standard_layout or o.scalar_block_layout
                or o.skip_block_layout)
    # The linker's options live in one LinkOptions, given flat or whole.
    o = StageOptions(dce=False, scalar_block_layout=True, skip_block_layout=False)
    assert o.link == spvlink.link.LinkOptions(dce=False) and not o.dce
    assert o.validator == ("scalar_block_layout",) and o.scalar_block_layout
    assert o.replace(compact_ids=False).link == spvlink.link.LinkOptions(dce=False,
                                                                         compact_ids=False)
    assert StageOptions(link=spvlink.link.LinkOptions(dce=False)) == StageOptions(dce=False)


def test_spirv_opt_rule() -> None:
    assert StageOptions().spirv_opt_reason() is not None  # debug info off, metadata none
    assert StageOptions(debuginfo=True).spirv_opt_reason() is None
    assert StageOptions(spirv_metadata="full").spirv_opt_reason() is None
    assert StageOptions(debuginfo=True, opt_level="s").spirv_opt_reason() is not None


def test_errors_raise(tmp_path: Path) -> None:
    with pytest.raises(LinkError) as e:
        run_stage([IMPORTS], StageOptions(output=tmp_path / "x.spv"))
    assert len(e.value.errors) == 3
    with pytest.raises(InputError, match="no such file"):
        run_stage([tmp_path / "nope.spv"], StageOptions(output=tmp_path / "x.spv"))
    bad = tmp_path / "bad.spv"
    bad.write_bytes(b"\x03\x02\x23\x07" + b"\0" * 9)
    with pytest.raises(ParseError, match=str(bad)):
        run_stage([bad], StageOptions(output=tmp_path / "x.spv"))
    assert not (tmp_path / "x.spv").exists()


# ---------------------------------------------------------------------------------------
# The optimiser path


@pytest.mark.parametrize("path", GVS[:3], ids=lambda p: p.name)
def test_glslang_gvs_through_spirv_opt(tmp_path: Path, path: Path) -> None:
    """link.rs: the linker strips nothing at `--spirv-metadata none`; EliminateDeadConstant +
    StripDebugInfo do, "if sess.opts.debuginfo == DebugInfo::None && cg_args.spirv_metadata
    == SpirvMetadata::None". At -O 0 that is all spirv-opt would do and the stage does it
    natively (issue 14); at -O 2 spirv-opt runs, and 2025.5 crashes on glslang's
    NonSemantic.Shader.DebugInfo.100: as link.rs ("spirv-opt failed, leaving as
    unoptimized"), a warning and the unoptimised, still valid module."""
    assert "NonSemantic.Shader.DebugInfo.100" in spirv_dis(path.read_bytes())
    out = tmp_path / "o.spv"
    res = run_stage([path], StageOptions(output=out, target_env="vulkan1.1"))
    assert res.warnings == []
    assert "DebugInfo" not in spirv_dis(out.read_bytes())
    assert spirv_val(out.read_bytes(), "vulkan1.1") is None
    res = run_stage([path], StageOptions(output=out, target_env="vulkan1.1", opt_level="2"))
    for w in res.warnings:  # none where a spirv-opt copes
        assert w.startswith(f"spirv-opt failed on {out}, keeping the unoptimised module: "
                            "spirv-opt was killed by SIG")
        assert "-O --eliminate-dead-const --strip-debug" in w
    assert spirv_val(out.read_bytes(), "vulkan1.1") is None


def test_spirv_opt_signal_keeps_unoptimised(tmp_path: Path) -> None:
    """link.rs: when the optimiser fails, "spirv-opt failed, leaving as unoptimized" is a
    warning and the module is the unoptimised one."""
    path = SPV / "vec_add.gVS.spv"
    res = run_stage([path], StageOptions(output=tmp_path / "o.spv", validate=False,
                                         opt_level="2"))
    if not res.warnings:
        pytest.skip("this spirv-opt does not crash on -gVS input")
    plain = run_stage([path], StageOptions(output=tmp_path / "p.spv", spirv_opt=False,
                                           validate=False, opt_level="2"))
    assert (tmp_path / "o.spv").read_bytes() == (tmp_path / "p.spv").read_bytes()
    # The API names its own option; the CLI says --no-spirv-opt (test_cli).
    assert plain.warnings and "(spirv_opt=False)" in plain.warnings[0]


@pytest.mark.parametrize("script,expect", [
    ("echo 'fake failure' >&2; exit 3", "spirv-opt failed (exit status 3): fake failure"),
    ("kill -SEGV $$", "spirv-opt was killed by SIGSEGV"),
])
def test_spirv_opt_failure_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 script: str, expect: str) -> None:
    fake = tmp_path / "spirv-opt"
    fake.write_text(f"#!/bin/sh\ncat >/dev/null\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    real = spvlink.tools.tool_path
    monkeypatch.setattr(spvlink.tools, "tool_path",
                        lambda name: fake if name == "spirv-opt" else real(name))
    res = run_stage([EXPORTS, IMPORTS], StageOptions(output=tmp_path / "o.spv", opt_level="2"))
    # The linker's own warning (ext_clamp's function control differs) comes first.
    tool_warnings = [w for w in res.warnings if isinstance(w, str)]
    assert len(tool_warnings) == 1 and expect in tool_warnings[0]
    assert str(tmp_path / "o.spv") in tool_warnings[0]
    ref = run_stage([EXPORTS, IMPORTS], StageOptions(output=tmp_path / "r.spv",
                                                     spirv_opt=False))
    assert (tmp_path / "o.spv").read_bytes() == (tmp_path / "r.spv").read_bytes()
    assert ref.warnings


# ---------------------------------------------------------------------------------------
# The validator path


def test_validation_error_keeps_module_as_invalid(tmp_path: Path) -> None:
    """Issue 10: a module spirv-val rejects is kept as OUT.invalid.spv (named in the note),
    with no file at -o (an old one is removed: make would take it as up to date) and no
    JSON; link.rs reports "spirv-val failed" with the module's name as a note."""
    out = tmp_path / "o.spv"
    out.write_bytes(b"stale")
    with pytest.raises(ValidationError) as e:
        run_stage([EXPORTS, IMPORTS], StageOptions(output=out, target_env="vulkan1.0",
                                                   json=tmp_path / "o.json"))
    assert str(out) in e.value.message and "Invalid SPIR-V binary version 1.5" in e.value.message
    kept = tmp_path / "o.invalid.spv"
    assert e.value.notes[-1] == f"the module was kept as {kept} for inspection"
    assert not out.exists() and not (tmp_path / "o.json").exists()
    assert spirv_val(kept.read_bytes(), "spv1.5") is None  # valid where 1.5 is allowed


def test_several_invalid_modules(tmp_path: Path, multi: Path) -> None:
    with pytest.raises(InvalidModules) as e:
        run_stage([multi], StageOptions(output=tmp_path / "o.spv", target_env="vulkan1.0",
                                        module_output="per-entry-point"))
    assert len(e.value.errors) == 3
    assert all("o.spvs" in err.message for err in e.value.errors)
    assert sorted(p.name for p in (tmp_path / "o.spvs").iterdir()) == [
        "add_index.invalid.spv", "double_it.invalid.spv", "square.invalid.spv"]
    assert not (tmp_path / "o.spv.json").exists()


# ---------------------------------------------------------------------------------------
# Files


def test_write_atomic(tmp_path: Path) -> None:
    p = write_atomic(tmp_path / "a.bin", b"abc")
    assert p.read_bytes() == b"abc"
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~_umask()
    write_atomic(tmp_path / "a.bin", "text")
    assert p.read_text() == "text"
    assert [x.name for x in tmp_path.iterdir()] == ["a.bin"]
    with pytest.raises(InputError, match="does not exist"):
        write_atomic(tmp_path / "no" / "a.bin", b"")
    with pytest.raises(InputError, match="directory"):
        write_atomic(tmp_path, b"")


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_archive_member_names(tmp_path: Path) -> None:
    from spvlink.archive import make_rlib

    lib = tmp_path / "lib.rlib"
    lib.write_bytes(make_rlib([("imports.spv", IMPORTS.read_bytes())]))
    with pytest.raises(LinkError) as e:
        run_stage([lib], StageOptions(output=tmp_path / "o.spv"))
    assert f"{lib}(imports.spv)" in "\n".join(n for sub in e.value.errors for n in sub.notes)
    lib.write_bytes(make_rlib([("imports.spv", b"\x03\x02\x23\x07junk")]))
    with pytest.raises(ParseError, match=r"lib\.rlib\(imports\.spv\)"):
        run_stage([lib], StageOptions(output=tmp_path / "o.spv"))


def test_link_many_parses_each_input_once(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import spvlink.manifest as manifest
    import spvlink.stage as stage

    calls: list[str] = []
    real = stage.load_input

    def counting(src: str | Path) -> list[stage.InputModule]:
        calls.append(str(src))
        return real(src)

    monkeypatch.setattr(stage, "load_input", counting)
    monkeypatch.setattr(manifest, "_CACHE", {})
    programs = [manifest.Program(f"p{k}", [str(EXPORTS), str(IMPORTS)],
                                 str(tmp_path / f"p{k}.spv")) for k in range(3)]
    done: list[str] = []
    summary = manifest.run_programs(programs, jobs=1, isolate=False,
                                    on_done=lambda n, o: done.append(o.name))
    assert [o.ok for o in summary.outcomes] == [True, True, True]
    assert done == ["p0", "p1", "p2"]
    assert sorted(calls) == sorted([str(EXPORTS), str(IMPORTS)])
    assert (tmp_path / "p0.spv").read_bytes() == (tmp_path / "p2.spv").read_bytes()


def test_read_input_bytes_files_streams_and_limits(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs are read with os-level calls: a regular file whole, a stream (a FIFO) a chunk
    at a time up to the limit; a directory, a missing file or anything over the limit is
    one clear error naming the path."""
    import threading

    from spvlink import stage

    data = IMPORTS.read_bytes()
    assert stage.read_input_bytes(IMPORTS) == data
    assert stage.read_input_bytes(str(IMPORTS)) == data
    empty = tmp_path / "empty.spv"
    empty.write_bytes(b"")
    assert stage.read_input_bytes(empty) == b""
    with pytest.raises(InputError, match=r"x\.spv: no such file"):
        stage.read_input_bytes(tmp_path / "x.spv")
    with pytest.raises(InputError, match="is a directory"):
        stage.read_input_bytes(tmp_path)

    def fed(fifo: Path, payload: bytes) -> threading.Thread:
        def feed() -> None:
            try:
                with open(fifo, "wb") as f:
                    for at in range(0, len(payload), 1000):
                        f.write(payload[at:at + 1000])
            except BrokenPipeError:  # the reader stopped at the limit
                pass
        t = threading.Thread(target=feed)
        t.start()
        return t

    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    t = fed(fifo, data * 3)
    assert stage.read_input_bytes(fifo) == data * 3
    t.join()

    monkeypatch.setattr(stage, "MAX_INPUT_BYTES", len(data) - 4)
    with pytest.raises(InputError, match=r"more than \d+ bytes, the limit on inputs"):
        stage.read_input_bytes(IMPORTS)
    t = fed(fifo, data * 3)
    with pytest.raises(InputError, match=r"in\.fifo: more than \d+ bytes"):
        stage.read_input_bytes(fifo)
    t.join(timeout=30)
    assert not t.is_alive()
