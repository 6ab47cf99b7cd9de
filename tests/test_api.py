"""Issue 13: the Python API reads like the CLI. `spvlink.load` loads paths as `spvlink
link` does, errors name their files, results print readably, and every public name has a
docstring (`python -m pydoc spvlink.link` is useful). The README's own Python example runs
against the bundled examples in tests/test_readme.py."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import spvlink
from helpers import ROOT, spirv_as
from spvlink.archive import make_rlib
from spvlink.binary import read_many
from spvlink.errors import InputError, ParseError, SpvError
from spvlink.stage import StageOptions, load_inputs, run_stage

ASM = ROOT / "examples" / "asm"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """mixlib as a binary and in an archive, multi_entry as assembly text."""
    mix = spirv_as((ASM / "mixlib.spvasm").read_text(), "spv1.0")
    (tmp_path / "mixlib.spv").write_bytes(mix)
    (tmp_path / "lib.rlib").write_bytes(make_rlib([("mixlib.spv", mix)], b"meta"))
    (tmp_path / "multi.spvasm").write_text((ASM / "multi_entry.spvasm").read_text())
    return tmp_path


def test_load_reads_what_the_cli_reads(inputs: Path) -> None:
    paths = [inputs / "multi.spvasm", inputs / "mixlib.spv", inputs / "lib.rlib"]
    modules = spvlink.load(paths)
    stage = load_inputs(paths)  # what `spvlink link` reads
    assert [m.source for m in modules] == [im.name for im in stage] == [
        str(paths[0]), str(paths[1]), f"{paths[2]}(mixlib.spv)"]
    assert [spvlink.write(m) for m in modules] == [im.data for im in stage]
    assert [im.assembled for im in stage] == [True, False, False]
    assert spvlink.write(modules[1]) == spvlink.write(modules[2])  # archive member as is
    assert modules[0].version_tuple == (1, 3)  # the text's `; Version:` line
    assert [spvlink.write(m) for m in spvlink.load(inputs / "mixlib.spv")] == \
        [spvlink.write(modules[1])]  # one path alone


@pytest.mark.parametrize("content,words", [
    (b"\x03\x02\x23\x07\x00\x00", "bad.spv: "),
    (b"#version 450\nvoid main() {}\n", "bad.spv: text, but not SPIR-V assembly"),
    (b"OpCapability Shader\nOpBogus\n", "bad.spv:2:"),
])
def test_load_errors_name_the_file(tmp_path: Path, content: bytes, words: str) -> None:
    (tmp_path / "bad.spv").write_bytes(content)
    with pytest.raises(SpvError) as info:
        spvlink.load([tmp_path / "bad.spv"])
    assert str(info.value).startswith(str(tmp_path / words)), str(info.value)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.spv: no such file"):
        spvlink.load([tmp_path / "nope.spv"])


def test_read_many_errors_name_the_source() -> None:
    """The issue's `ParseError: bad magic number` did not say which file."""
    good = spirv_as((ASM / "mixlib.spvasm").read_text(), "spv1.0")
    with pytest.raises(ParseError) as info:
        read_many([good, b"!<arch>\nnot a module"], ["good.spv", "lib.rlib"])
    assert info.value.source == "lib.rlib"
    assert str(info.value).startswith("lib.rlib: ")


def test_reprs_say_what_was_made(inputs: Path, tmp_path: Path) -> None:
    [multi] = spvlink.load([inputs / "multi.spvasm"])
    assert repr(multi) == (f"<Module SPIR-V 1.3, bound {multi.bound}, {len(multi)} "
                           f"instructions, 4 functions, 3 entry points from "
                           f"{str(inputs / 'multi.spvasm')!r}>")
    single = spvlink.link([multi])
    assert repr(single).startswith("LinkResult(entry_points=['double_it', 'square', "
                                   "'add_index'], module=<Module SPIR-V 1.3, bound ")
    per = spvlink.link([multi], spvlink.LinkOptions(module_output="per-entry-point"))
    assert repr(per).startswith("LinkResult(entry_points=['double_it', 'square', "
                                "'add_index'], modules={'double_it': <Module SPIR-V 1.3")
    assert "1 entry point>" in repr(per) and "1 function" not in repr(per)
    out = tmp_path / "o" / "multi.spv"
    res = run_stage([inputs / "multi.spvasm"], StageOptions(
        output=out, module_output="per-entry-point", target_env="vulkan1.1"))
    assert repr(res) == (
        "CompileResult(entry_points=['add_index', 'double_it', 'square'], module={"
        + ", ".join(f"{e!r}: {(tmp_path / 'o' / 'multi.spvs' / f'{e}.spv').as_posix()!r}"
                    for e in ("add_index", "double_it", "square")) + "})")
    mem = run_stage([inputs / "mixlib.spv"], StageOptions(output=None, create_library=True))
    assert repr(mem) == f"CompileResult(entry_points=[], module=<{len(mem.binary or b'')} " \
                        "bytes in memory>)"
    assert "object at 0x" not in repr(res) + repr(single) + repr(multi)


def test_link_is_callable_after_its_subpackage_is_imported(inputs: Path) -> None:
    """`import spvlink.link` makes the attribute `spvlink.link` the subpackage; it still
    links, as the function of that name does."""
    importlib.import_module("spvlink.link")
    [multi] = spvlink.load([inputs / "multi.spvasm"])
    assert spvlink.write(spvlink.link([multi]).module) == \
        spvlink.write(spvlink.link.link([multi]).module)


PUBLIC = ("spvlink", "spvlink.errors", "spvlink.inputs", "spvlink.stage", "spvlink.link",
          "spvlink.binary", "spvlink.text", "spvlink.archive", "spvlink.tools",
          "spvlink.manifest", "spvlink.cli")


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for name in PUBLIC:
        module = importlib.import_module(name)
        if not module.__doc__:
            missing.append(name)
        names = getattr(module, "__all__", None) or [
            n for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == name]
        for n in names:
            obj = getattr(module, n)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not (vars(obj).get("__doc__") if inspect.isclass(obj) else obj.__doc__):
                missing.append(f"{name}.{n}")
            if inspect.isclass(obj):
                for m, v in vars(obj).items():
                    f = v.fget if isinstance(v, property) else v
                    if not m.startswith("_") and inspect.isfunction(f) and not f.__doc__:
                        missing.append(f"{name}.{n}.{m}")
    assert not missing


def test_pydoc_of_link_is_useful() -> None:
    r = subprocess.run([sys.executable, "-m", "pydoc", "spvlink.link"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0
    text = r.stdout
    for words in ("link(modules", "Raises a `LinkError` naming every symbol",
                  "class LinkOptions", "use_highest_version=True", "class LinkResult",
                  "per-entry-point"):
        assert words in text, words
