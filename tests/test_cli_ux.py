"""Issue 13: the command line for a new user. One test per message or behaviour changed:
a subcommand's own usage on its errors, sorted choices, help for everything, assembly text
accepted where a binary is, output folders created, `archive --list` as `ar t`, and
options named as flags on the command line but as keywords from Python."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, spirv_as
from spvlink import cli
from spvlink.errors import LinkError
from spvlink.inputs import load
from spvlink.link import LinkOptions, link
from spvlink.tools import TARGET_ENVS

ASM = ROOT / "examples" / "asm"
MULTI = ASM / "multi_entry.spvasm"


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spvlink", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder holding the multi-entry example as text and as the binary `spvlink as`
    makes of it (version 1.3, from the text's `; Version:` comment)."""
    shutil.copy(MULTI, tmp_path / "multi.spvasm")
    r = run_cli("as", "multi.spvasm", "-o", "multi.spv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "multi.spv").read_bytes()
    # The same module as spirv-as makes at 1.3, but for the generator word (word 2).
    reference = spirv_as(MULTI.read_text(), "spv1.3")
    assert data[:8] + data[12:] == reference[:8] + reference[12:]
    return tmp_path


# ---------------------------------------------------------------------------------------
# Usage, choices, help


@pytest.mark.parametrize("argv,usage", [
    (["link", "x.spv", "-o", "-", "--module-output", "per-entry-point"], "usage: spvlink link"),
    (["link-many", "m.toml", "-j", "0"], "usage: spvlink link-many"),
    (["val", "x.spv", "--target-env", "vulkan9"], "usage: spvlink val"),
    (["archive", "--list", "x.rlib", "extra.spv"], "usage: spvlink archive"),
])
def test_subcommand_errors_show_its_own_usage(argv: list[str], usage: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """argparse shows the usage of the parser whose `error` is called: the subcommand's."""
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    assert f"{usage.removeprefix('usage: ')}: error: " in err


def test_target_env_choices_are_sorted(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["val", "x.spv", "--target-env", "vulkan9"])
    err = capsys.readouterr().err
    listed = err.split("use one of ", 1)[1].strip().split(", ")
    assert listed == sorted(TARGET_ENVS)


def test_every_subcommand_and_option_is_described() -> None:
    parser = cli.build_parser()
    commands = cli._subcommands(parser)
    assert set(commands) == {"link", "link-many", "archive", "val", "opt", "dis", "as", "info"}
    missing = [a.dest for a in parser._actions if not a.help]
    for name, sub in commands.items():
        if not sub.description:
            missing.append(f"{name}: description")
        missing += [f"{name} {a.option_strings or a.dest}" for a in sub._actions
                    if not a.help and not isinstance(a, argparse._HelpAction)]
    assert not missing


def test_opt_help_explains_preserve_bindings(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        cli.main(["opt", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: spvlink opt")
    assert "keep unused descriptor bindings (spirv-opt --preserve-bindings)" in out


# ---------------------------------------------------------------------------------------
# Assembly text where a binary goes


@pytest.mark.parametrize("command,extra", [
    ("dis", []), ("info", []), ("info", ["--json"]), ("dis", ["--raw-id"]),
])
def test_text_input_reads_as_its_binary(work: Path, command: str, extra: list[str]) -> None:
    """`dis` and `info` of the text print what they print for spirv-as's binary of it."""
    text = run_cli(command, "multi.spvasm", *extra, cwd=work)
    binary = run_cli(command, "multi.spv", *extra, cwd=work)
    assert (text.returncode, binary.returncode) == (0, 0), text.stderr + binary.stderr
    assert text.stdout == binary.stdout
    assert text.stderr == ""  # said only under -v


def test_link_and_opt_of_text_equal_their_binary(work: Path) -> None:
    for src, out in (("multi.spvasm", "a"), ("multi.spv", "b")):
        r = run_cli("link", src, "--target-env", "vulkan1.1", "-o", f"{out}.spv", cwd=work)
        assert r.returncode == 0, r.stderr
        r = run_cli("opt", src, "-O", "2", "-o", f"{out}-opt.spv", cwd=work)
        assert r.returncode == 0, r.stderr
        r = run_cli("val", src, "--target-env", "spv1.6", cwd=work)
        assert r.returncode == 0, r.stderr
    assert (work / "a.spv").read_bytes() == (work / "b.spv").read_bytes()
    assert (work / "a-opt.spv").read_bytes() == (work / "b-opt.spv").read_bytes()


@pytest.mark.parametrize("argv", [
    ["link", "multi.spvasm", "-o", "o.spv"], ["info", "multi.spvasm"],
    ["dis", "multi.spvasm", "-o", "o.txt"], ["val", "multi.spvasm"],
    ["opt", "multi.spvasm", "-O", "s", "-o", "o.spv"],
])
def test_verbose_says_text_was_assembled(work: Path, argv: list[str]) -> None:
    r = run_cli(*argv, "-v", cwd=work)
    assert r.returncode == 0, r.stderr
    assert "note: multi.spvasm: SPIR-V assembly text, assembled as `spvlink as` would\n" \
        in r.stderr


def test_text_that_is_not_assembly_says_what_to_give(work: Path) -> None:
    glsl = work / "lib.comp"
    glsl.write_text("#version 450\nuint f(uint x) { return x; }\n")
    r = run_cli("link", "lib.comp", cwd=work)
    assert r.returncode == 1
    assert r.stderr == (
        "error: lib.comp: text, but not SPIR-V assembly (no Op... instruction)\n"
        "  = note: inputs are SPIR-V modules, ar archives of them, or SPIR-V assembly text; "
        "compile sources to SPIR-V first\n")
    assert not (work / "out.spv").exists()


def test_bad_assembly_names_file_line_and_column(work: Path) -> None:
    (work / "bad.spvasm").write_text("OpCapability Shader\nOpMemoryModel Logical Bogus\n")
    r = run_cli("link", "bad.spvasm", cwd=work)
    assert r.returncode == 1
    assert r.stderr.startswith("error: bad.spvasm:2:"), r.stderr
    assert "Traceback" not in r.stderr


# ---------------------------------------------------------------------------------------
# Outputs in folders that do not exist yet


def test_outputs_create_their_folders(work: Path) -> None:
    """rustc_interface's passes.rs: `if fs::create_dir_all(dir).is_err() { ... "failed to
    find or create the directory specified by --out-dir" }`: the output folder is made."""
    cmds = [
        ["link", "multi.spv", "-o", "a/b/out.spv", "--json", "j/k/out.json"],
        ["link", "multi.spv", "--module-output", "per-entry-point", "-o", "pe/x/m.spv"],
        ["opt", "multi.spv", "-O", "2", "-o", "o/p/t.spv"],
        ["dis", "multi.spv", "-o", "d/i/s.spvasm"],
        ["as", "multi.spvasm", "-o", "a/s/m.spv"],
        ["archive", "-o", "r/l/lib.rlib", "multi.spv"],
    ]
    for argv in cmds:
        r = run_cli(*argv, cwd=work)
        assert r.returncode == 0, (argv, r.stderr)
    for made in ("a/b/out.spv", "j/k/out.json", "pe/x/m.spvs/square.spv", "pe/x/m.spv.json",
                 "o/p/t.spv", "d/i/s.spvasm", "a/s/m.spv", "r/l/lib.rlib"):
        assert (work / made).is_file(), made


def test_output_folder_that_cannot_be_made_is_one_error(work: Path) -> None:
    (work / "file").write_text("")
    r = run_cli("link", "multi.spv", "-o", "file/sub/out.spv", cwd=work)
    assert r.returncode == 1
    assert r.stderr.startswith("error: cannot write file/sub/out.spv: cannot create directory "
                               "file/sub: "), r.stderr
    assert r.stderr.count("\n") == 1


def test_link_many_creates_output_folders(work: Path) -> None:
    (work / "m.toml").write_text(
        '[[programs]]\nname = "one"\ninputs = ["multi.spvasm"]\noutput = "new/dir/one.spv"\n'
        '[[programs]]\nname = "per"\ninputs = ["multi.spv"]\noutput = "other/per.spv"\n'
        'options = { module-output = "per-entry-point" }\n')
    r = run_cli("link-many", "m.toml", "-j", "1", cwd=work)
    assert r.returncode == 0, r.stderr
    assert (work / "new/dir/one.spv").is_file()
    assert (work / "other/per.spvs/add_index.spv").is_file()


# ---------------------------------------------------------------------------------------
# archive --list


def test_archive_list_prints_names_as_ar_t(work: Path) -> None:
    (work / "two.spv").write_bytes((work / "multi.spv").read_bytes())
    assert run_cli("archive", "-o", "lib.rlib", "multi.spv", "two.spv", cwd=work).returncode == 0
    r = run_cli("archive", "--list", "lib.rlib", cwd=work)
    assert r.stdout == "lib.rmeta\nmulti.spv\ntwo.spv\n"
    if shutil.which("ar"):
        ar = subprocess.run(["ar", "t", "lib.rlib"], cwd=work, capture_output=True, text=True)
        assert r.stdout == ar.stdout
    size = (work / "multi.spv").stat().st_size
    r = run_cli("archive", "--list", "lib.rlib", "-v", cwd=work)
    assert r.stdout == f"lib.rmeta\t0\nmulti.spv\t{size}\ntwo.spv\t{size}\n"


# ---------------------------------------------------------------------------------------
# Options: flags on the command line, keywords from Python; str(error) is the CLI's text

LIB10 = """; Version: 1.0
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %f LinkageAttributes "f" Export
%uint = OpTypeInt 32 0
%fn = OpTypeFunction %uint %uint
%f = OpFunction %uint None %fn
%x = OpFunctionParameter %uint
%l = OpLabel
OpReturnValue %x
OpFunctionEnd
"""
USER13 = """; Version: 1.3
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 1 1 1
OpDecorate %f LinkageAttributes "f" Import
OpDecorate %g LinkageAttributes "g" Import
%void = OpTypeVoid
%uint = OpTypeInt 32 0
%fn = OpTypeFunction %uint %uint
%fv = OpTypeFunction %void
%c = OpConstant %uint 1
%f = OpFunction %uint None %fn
%a = OpFunctionParameter %uint
OpFunctionEnd
%g = OpFunction %uint None %fn
%b = OpFunctionParameter %uint
OpFunctionEnd
%main = OpFunction %void None %fv
%l = OpLabel
%r = OpFunctionCall %uint %f %c
%s = OpFunctionCall %uint %g %r
OpReturn
OpFunctionEnd
"""


@pytest.fixture
def versions(tmp_path: Path) -> Path:
    (tmp_path / "lib10.spvasm").write_text(LIB10)
    (tmp_path / "user13.spvasm").write_text(USER13)
    return tmp_path


def test_version_mismatch_names_the_option_each_way(versions: Path) -> None:
    with pytest.raises(LinkError) as info:
        link(load([versions / "user13.spvasm", versions / "lib10.spvasm"]))
    api = str(info.value)
    assert "use_highest_version=True" in api and "--use-highest-version" not in api
    r = run_cli("link", "user13.spvasm", "lib10.spvasm", cwd=versions)
    assert r.returncode == 1
    assert "(--use-highest-version links them at the highest)" in r.stderr
    assert "use_highest_version" not in r.stderr


def test_str_of_error_is_the_cli_text(versions: Path) -> None:
    """Several unresolved symbols: the CLI prints each with its notes, then rustc's count;
    str() of the API's error is that text (the first `error: ` aside)."""
    lib = versions / "lib10.spvasm"
    lib.write_text(LIB10.replace('"f" Export', '"h" Export'))  # f and g defined nowhere
    r = run_cli("link", "user13.spvasm", "lib10.spvasm", "--use-highest-version", cwd=versions)
    with pytest.raises(LinkError) as info:
        link(load([versions / "user13.spvasm", lib]), LinkOptions(use_highest_version=True))
    api = str(info.value).replace(f"{versions}/", "")
    assert r.stderr == "error: " + api + "\n"
    assert r.stderr == ('error: unresolved symbol "f"\n  = note: imported by user13.spvasm\n'
                        'error: unresolved symbol "g"\n  = note: imported by user13.spvasm\n'
                        "error: aborting due to 2 previous errors\n")


def test_skipped_spirv_opt_warning_names_flags(work: Path) -> None:
    r = run_cli("link", "multi.spv", "-O", "2", "--no-spirv-opt", "-o", "o.spv", cwd=work)
    assert r.returncode == 0
    assert r.stderr == ("warning: spirv-opt was skipped (--no-spirv-opt); it would have run "
                        "because the optimisation level is 2 (-O 2)\n")
