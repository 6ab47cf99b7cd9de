"""The `spvlink` command line: every command and option, exit codes and diagnostics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CORPUS, ROOT, spirv_as, spirv_dis, spirv_val
from spvlink import cli
from spvlink.archive import read_archive
from spvlink.binary import read

SPV = CORPUS / "spv"
EXPORTS = SPV / "linkage_exports.spv"
IMPORTS = SPV / "linkage_imports.spv"
MULTI_ASM = (ROOT / "examples" / "asm" / "multi_entry.spvasm").read_text()

# Links and validates under spv1.5, but Vulkan requires Block on a StorageBuffer struct.
NO_BLOCK = """
               OpCapability Shader
               OpMemoryModel Logical GLSL450
               OpEntryPoint GLCompute %main "main"
               OpExecutionMode %main LocalSize 1 1 1
               OpDecorate %rta ArrayStride 4
               OpMemberDecorate %S 0 Offset 0
               OpDecorate %buf DescriptorSet 0
               OpDecorate %buf Binding 0
       %void = OpTypeVoid
       %uint = OpTypeInt 32 0
        %rta = OpTypeRuntimeArray %uint
          %S = OpTypeStruct %rta
      %ptr_S = OpTypePointer StorageBuffer %S
     %ptr_u = OpTypePointer StorageBuffer %uint
     %uint_0 = OpConstant %uint 0
     %uint_5 = OpConstant %uint 5
        %buf = OpVariable %ptr_S StorageBuffer
         %fn = OpTypeFunction %void
       %main = OpFunction %void None %fn
          %l = OpLabel
          %p = OpAccessChain %ptr_u %buf %uint_0 %uint_0
               OpStore %p %uint_5
               OpReturn
               OpFunctionEnd
"""

# A vec3 at offset 8 (straddling 16 bytes): valid only with scalar block layout.
SCALAR_LAYOUT = """
               OpCapability Shader
               OpMemoryModel Logical GLSL450
               OpEntryPoint GLCompute %main "main" %buf
               OpExecutionMode %main LocalSize 1 1 1
               OpMemberDecorate %S 0 Offset 0
               OpMemberDecorate %S 1 Offset 8
               OpDecorate %S Block
               OpDecorate %buf DescriptorSet 0
               OpDecorate %buf Binding 0
       %void = OpTypeVoid
      %float = OpTypeFloat 32
     %v3float = OpTypeVector %float 3
          %S = OpTypeStruct %float %v3float
      %ptr_S = OpTypePointer StorageBuffer %S
      %ptr_f = OpTypePointer StorageBuffer %float
       %uint = OpTypeInt 32 0
     %uint_0 = OpConstant %uint 0
    %float_1 = OpConstant %float 1
        %buf = OpVariable %ptr_S StorageBuffer
         %fn = OpTypeFunction %void
       %main = OpFunction %void None %fn
          %l = OpLabel
          %p = OpAccessChain %ptr_f %buf %uint_0
               OpStore %p %float_1
               OpReturn
               OpFunctionEnd
"""

LIB_V10 = """
               OpCapability Shader
               OpCapability Linkage
               OpMemoryModel Logical GLSL450
               OpDecorate %f LinkageAttributes "plus_one" Export
       %uint = OpTypeInt 32 0
     %uint_1 = OpConstant %uint 1
         %ft = OpTypeFunction %uint %uint
          %f = OpFunction %uint None %ft
          %x = OpFunctionParameter %uint
          %l = OpLabel
          %r = OpIAdd %uint %x %uint_1
               OpReturnValue %r
               OpFunctionEnd
"""

USER_V13 = """
               OpCapability Shader
               OpCapability Linkage
               OpMemoryModel Logical GLSL450
               OpEntryPoint GLCompute %main "main"
               OpExecutionMode %main LocalSize 1 1 1
               OpDecorate %f LinkageAttributes "plus_one" Import
               OpDecorate %rta ArrayStride 4
               OpMemberDecorate %S 0 Offset 0
               OpDecorate %S Block
               OpDecorate %buf DescriptorSet 0
               OpDecorate %buf Binding 0
       %void = OpTypeVoid
       %uint = OpTypeInt 32 0
        %rta = OpTypeRuntimeArray %uint
          %S = OpTypeStruct %rta
      %ptr_S = OpTypePointer StorageBuffer %S
      %ptr_u = OpTypePointer StorageBuffer %uint
     %uint_0 = OpConstant %uint 0
        %buf = OpVariable %ptr_S StorageBuffer
         %ft = OpTypeFunction %uint %uint
         %fn = OpTypeFunction %void
          %f = OpFunction %uint None %ft
          %x = OpFunctionParameter %uint
               OpFunctionEnd
       %main = OpFunction %void None %fn
          %l = OpLabel
          %p = OpAccessChain %ptr_u %buf %uint_0 %uint_0
          %v = OpLoad %uint %p
          %r = OpFunctionCall %uint %f %v
               OpStore %p %r
               OpReturn
               OpFunctionEnd
"""


@pytest.fixture(scope="module")
def objs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("objs")
    out = {}
    for name, text, env in (("multi", MULTI_ASM, "spv1.3"), ("noblock", NO_BLOCK, "spv1.5"),
                            ("scalar", SCALAR_LAYOUT, "spv1.5"), ("lib10", LIB_V10, "spv1.0"),
                            ("user13", USER_V13, "spv1.3")):
        p = d / f"{name}.spv"
        p.write_bytes(spirv_as(text, env))
        out[name] = p
    (d / "notspv.spv").write_text("this is not SPIR-V at all\n")
    out["notspv"] = d / "notspv.spv"
    return out


def run_cli(*args: str | Path, cwd: Path | None = None, input: bytes | None = None
            ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "spvlink", *map(str, args)], cwd=cwd,
                          input=input, capture_output=True)


def main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def errors(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("error:")]


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------------------------
# link: outputs and JSON


def test_link_default_output(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = main(capsys, "link", EXPORTS, IMPORTS)
    assert (code, out, err) == (0, "", "")
    data = (cwd / "out.spv").read_bytes()
    assert spirv_val(data, "vulkan1.2") is None
    assert not list(cwd.glob(".*tmp"))  # no temporary files left


def test_link_json_single_exact_bytes(cwd: Path, capsys: pytest.CaptureFixture[str],
                                      objs: dict[str, Path]) -> None:
    code, _, err = main(capsys, "link", objs["multi"], "-o", "shaders.spv", "--json", "r.json")
    assert code == 0, err
    assert (cwd / "r.json").read_bytes() == (
        b'{"entry_points":["double_it","square","add_index"],"module":"shaders.spv"}')


@pytest.mark.parametrize("mode", ["per-entry-point", "multiple"])
def test_link_per_entry_point(cwd: Path, capsys: pytest.CaptureFixture[str],
                              objs: dict[str, Path], mode: str) -> None:
    code, _, err = main(capsys, "link", objs["multi"], "-o", "out.spv", "--module-output", mode,
                        "--target-env", "vulkan1.1")
    assert code == 0, err
    assert not (cwd / "out.spv").exists()
    assert sorted(p.name for p in (cwd / "out.spvs").iterdir()) == [
        "add_index.spv", "double_it.spv", "square.spv"]
    assert (cwd / "out.spv.json").read_bytes() == (
        b'{"entry_points":["add_index","double_it","square"],"module":{'
        b'"add_index":"out.spvs/add_index.spv","double_it":"out.spvs/double_it.spv",'
        b'"square":"out.spvs/square.spv"}}')
    for p in (cwd / "out.spvs").iterdir():
        m = read(p.read_bytes())
        text = spirv_dis(p.read_bytes())
        assert text.count("OpEntryPoint") == 1 and p.stem in text
        assert spirv_val(p.read_bytes(), "vulkan1.1") is None
        assert m.bound > 1


def test_link_per_entry_point_json_path(cwd: Path, capsys: pytest.CaptureFixture[str],
                                        objs: dict[str, Path]) -> None:
    code, _, _ = main(capsys, "link", objs["multi"], "-o", "x.spv", "--module-output",
                      "per-entry-point", "--json", "res.json")
    assert code == 0
    assert not (cwd / "x.spv.json").exists()
    assert json.loads((cwd / "res.json").read_text())["module"]["square"] == "x.spvs/square.spv"


def test_link_stdout_and_stdin(tmp_path: Path) -> None:
    r = run_cli("link", EXPORTS, IMPORTS, "-o", "file.spv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r2 = run_cli("link", EXPORTS, IMPORTS, "-o", "-", cwd=tmp_path)
    assert r2.returncode == 0 and r2.stderr == b""
    assert r2.stdout == (tmp_path / "file.spv").read_bytes()
    r3 = run_cli("link", EXPORTS, "-", "-o", "-", cwd=tmp_path, input=IMPORTS.read_bytes())
    assert r3.returncode == 0, r3.stderr
    assert r3.stdout == r2.stdout


def test_link_stdout_per_entry_point_is_usage_error(capsys: pytest.CaptureFixture[str],
                                                    objs: dict[str, Path]) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["link", str(objs["multi"]), "-o", "-", "--module-output", "per-entry-point"])
    assert e.value.code == 2
    assert "-o -" in capsys.readouterr().err


def test_stdin_names_in_errors(tmp_path: Path) -> None:
    r = run_cli("link", "-", cwd=tmp_path, input=b"garbage\0!")  # text: tests/test_cli_ux.py
    assert r.returncode == 1
    assert r.stderr.decode().startswith("error: <stdin>: not a SPIR-V module")


# ---------------------------------------------------------------------------------------
# link: linker options


def test_unresolved_symbols_abort(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = main(capsys, "link", IMPORTS)
    assert code == 1
    errs = errors(err)
    assert errs[-1] == "error: aborting due to 3 previous errors"
    assert sum('unresolved symbol' in e for e in errs) == 3
    assert f"  = note: imported by {IMPORTS}" in err
    assert not (cwd / "out.spv").exists()


def test_allow_partial_linkage(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = main(capsys, "link", IMPORTS, "--allow-partial-linkage", "--target-env",
                        "spv1.5")
    assert code == 0, err
    assert "Import" in spirv_dis((cwd / "out.spv").read_bytes())


def test_create_library(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = main(capsys, "link", EXPORTS, IMPORTS, "--create-library",
                        "--target-env", "spv1.5", "-o", "lib.spv")
    assert code == 0, err
    code, out, _ = main(capsys, "info", "lib.spv", "--json")
    exports = {e["name"] for e in json.loads(out)["exports"]}
    assert {"ext_clamp", "ext_limit", "lerp_u", "scale_add", "counter"} <= exports
    assert main(capsys, "link", EXPORTS, IMPORTS, "-o", "exe.spv")[0] == 0
    assert json.loads(main(capsys, "info", "exe.spv", "--json")[1])["exports"] == []


def test_use_highest_version(cwd: Path, capsys: pytest.CaptureFixture[str],
                             objs: dict[str, Path]) -> None:
    code, _, err = main(capsys, "link", objs["user13"], objs["lib10"])
    assert code == 1 and "version" in err.lower()
    code, _, err = main(capsys, "link", objs["user13"], objs["lib10"], "--use-highest-version",
                        "--target-env", "vulkan1.1")
    assert code == 0, err
    assert read((cwd / "out.spv").read_bytes()).version_tuple == (1, 3)


def _count(data: bytes, needle: str) -> int:
    return spirv_dis(data, "--raw-id").count(needle)


def test_no_dce_and_preserve_bindings(cwd: Path, capsys: pytest.CaptureFixture[str],
                                      objs: dict[str, Path]) -> None:
    base = ("link", objs["multi"], "--target-env", "vulkan1.1")
    assert main(capsys, *base, "-o", "dce.spv")[0] == 0
    assert main(capsys, *base, "-o", "nodce.spv", "--no-dce", "--no-spirv-opt")[0] == 0
    dce, nodce = (cwd / "dce.spv").read_bytes(), (cwd / "nodce.spv").read_bytes()
    assert _count(dce, "OpVariable") == 2 and _count(nodce, "OpVariable") == 3
    # spirv-opt -O drops the unused binding unless --preserve-bindings.
    assert main(capsys, *base, "-o", "o2.spv", "--no-dce", "-O", "2")[0] == 0
    assert main(capsys, *base, "-o", "keep.spv", "--no-dce", "-O", "2",
                "--preserve-bindings")[0] == 0
    assert _count((cwd / "o2.spv").read_bytes(), "Binding 1") == 0
    assert _count((cwd / "keep.spv").read_bytes(), "Binding 1") == 1


def test_no_compact_ids(cwd: Path, capsys: pytest.CaptureFixture[str],
                        objs: dict[str, Path]) -> None:
    common = ("link", objs["multi"], "--no-spirv-opt")
    assert main(capsys, *common, "-o", "a.spv")[0] == 0
    assert main(capsys, *common, "-o", "b.spv", "--no-compact-ids")[0] == 0
    a, b = read((cwd / "a.spv").read_bytes()), read((cwd / "b.spv").read_bytes())
    assert a.bound == a.max_id() + 1
    assert b.bound > a.bound


def test_spirv_metadata_and_debuginfo(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = SPV / "vec_add.glslc-g.spv"
    assert "OpName" in spirv_dis(src.read_bytes())
    assert main(capsys, "link", src, "-o", "none.spv")[0] == 0
    assert main(capsys, "link", src, "-o", "full.spv", "--spirv-metadata", "full")[0] == 0
    assert main(capsys, "link", src, "-o", "vars.spv", "--spirv-metadata", "name-variables")[0] == 0
    code, _, err = main(capsys, "link", src, "-o", "g.spv", "-g", "--time-passes")
    assert code == 0
    assert "spirv-opt" not in err  # -g at -O 0: spirv-opt does not run
    none = spirv_dis((cwd / "none.spv").read_bytes())
    full = spirv_dis((cwd / "full.spv").read_bytes())
    assert "OpName" not in none and "OpName" in full
    assert "OpLine" in spirv_dis((cwd / "g.spv").read_bytes())
    assert "OpLine" not in none


def test_opt_levels_and_time_passes(cwd: Path, capsys: pytest.CaptureFixture[str],
                                    objs: dict[str, Path]) -> None:
    for level in ("0", "1", "2", "3", "s", "z"):
        code, _, err = main(capsys, "link", objs["multi"], "-O", level, "-o", f"o{level}.spv",
                            "--time-passes")
        assert code == 0, err
        assert "time:" in err and "spirv-opt" in err and "spirv-val" in err


def test_no_spirv_opt_warns_why(cwd: Path, capsys: pytest.CaptureFixture[str],
                                objs: dict[str, Path]) -> None:
    code, _, err = main(capsys, "link", objs["multi"], "--no-spirv-opt")
    assert code == 0
    assert err.startswith("warning: spirv-opt was skipped (--no-spirv-opt)")
    assert "debug info is off" in err
    code, _, err = main(capsys, "link", objs["multi"], "--no-spirv-opt", "-O", "3", "-g")
    assert "-O 3" in err
    code, _, err = main(capsys, "link", objs["multi"], "--no-spirv-opt", "-g")
    assert err == ""  # spirv-opt would not have run


# ---------------------------------------------------------------------------------------
# link: validation


def test_validation_failure_keeps_module(cwd: Path, capsys: pytest.CaptureFixture[str],
                                         objs: dict[str, Path]) -> None:
    code, _, err = main(capsys, "link", objs["noblock"], "--target-env", "spv1.5", "-o", "a.spv")
    assert code == 0, err
    code, _, err = main(capsys, "link", objs["noblock"], "--target-env", "vulkan1.2",
                        "-o", "b.spv")
    assert code == 1
    errs = errors(err)
    assert len(errs) == 1
    assert errs[0].startswith("error: b.spv: module failed validation (spirv-val "
                              "--target-env vulkan1.2)")
    assert "Block" in err
    # Kept under a name that says so, named in the note; nothing at -o (issue 10).
    assert "= note: the module was kept as b.invalid.spv for inspection" in err
    assert not (cwd / "b.spv").exists()
    assert (cwd / "b.invalid.spv").read_bytes() == (cwd / "a.spv").read_bytes()
    code, _, err = main(capsys, "link", objs["noblock"], "--target-env", "vulkan1.2",
                        "--no-spirv-val", "-o", "c.spv")
    assert code == 0 and errors(err) == []  # spirv-opt's own check only warns


def test_validator_flags(cwd: Path, capsys: pytest.CaptureFixture[str],
                         objs: dict[str, Path]) -> None:
    """CodegenArgs: each relaxation is `matches.opt_present("...")`, off unless given."""
    args = ("link", objs["scalar"], "--target-env", "vulkan1.2")
    code, _, err = main(capsys, *args)
    assert code == 1 and "layout" in err.lower()
    assert main(capsys, *args, "--skip-block-layout")[0] == 0
    assert main(capsys, *args, "--scalar-block-layout")[0] == 0
    assert main(capsys, *args, "--scalar-block-layout", "--no-scalar-block-layout")[0] == 1


def test_bad_target_env_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["link", str(EXPORTS), "--target-env", "vulkan9"])
    assert e.value.code == 2
    assert "vulkan9" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# link: dumps and disassembly


def test_dumps(cwd: Path, capsys: pytest.CaptureFixture[str], objs: dict[str, Path]) -> None:
    code, _, err = main(capsys, "link", EXPORTS, IMPORTS, "--dump-pre-link", "pre",
                        "--dump-post-merge", "merge", "--dump-post-link", "post")
    assert code == 0, err
    pre = sorted((cwd / "pre").iterdir())
    assert [p.read_bytes() for p in pre] == [EXPORTS.read_bytes(), IMPORTS.read_bytes()]
    merged = read((cwd / "merge" / "out.spv").read_bytes())
    assert spirv_dis((cwd / "merge" / "out.spv").read_bytes()).count("LinkageAttributes") >= 5
    assert len(merged) > 0
    assert (cwd / "post" / "out.spv").exists()
    # link.rs: per output module, `dir.join(prefix).with_extension(out file name)`; the
    # linker's post-split dump is `crate[.file_stem]`, one file in single-module mode too.
    code, _, err = main(capsys, "link", objs["multi"], "--module-output", "per-entry-point",
                        "--dump-post-split", "split", "--dump-post-link", "post2")
    assert code == 0, err
    names = ["out.add_index.spv", "out.double_it.spv", "out.square.spv"]
    assert sorted(p.name for p in (cwd / "split").iterdir()) == names
    assert sorted(p.name for p in (cwd / "post2").iterdir()) == names
    for p in (*(cwd / "split").iterdir(), *(cwd / "post2").iterdir()):
        assert spirv_val(p.read_bytes(), "vulkan1.1") is None
    code, _, err = main(capsys, "link", objs["multi"], "-o", "one.spv",
                        "--dump-post-split", "split1")
    assert code == 0, err
    assert [p.name for p in (cwd / "split1").iterdir()] == ["one.spv"]


def test_disassemble_options(cwd: Path, capsys: pytest.CaptureFixture[str],
                             objs: dict[str, Path]) -> None:
    code, out, err = main(capsys, "link", objs["multi"], "--disassemble")
    assert code == 0 and out == ""
    assert "OpEntryPoint GLCompute" in err and "OpFunctionEnd" in err
    code, _, err = main(capsys, "link", objs["multi"], "--disassemble-globals")
    assert "OpTypeInt" in err and "OpFunction " not in err
    code, _, err = main(capsys, "link", objs["multi"], "--spirv-metadata", "full",
                        "--disassemble-fn", "index")
    assert code == 0 and "function index" in err and err.count("OpFunctionEnd") == 1
    # link.rs's do_disassemble: the entry point's function only, not what it calls.
    code, _, err = main(capsys, "link", objs["multi"], "--disassemble-entry", "square")
    assert err.count("OpFunctionEnd") == 1 and "OpFunctionCall" in err
    code, _, err = main(capsys, "link", objs["multi"], "--disassemble-fn", "nothere")
    assert code == 0 and err.startswith("warning:") and "nothere" in err


# ---------------------------------------------------------------------------------------
# Bad inputs: one error naming the file, exit 1, no traceback, nothing written


def _bad_archive(d: Path) -> Path:
    p = d / "corrupt.rlib"
    p.write_bytes(b"!<arch>\nlib.rmeta/      0           0     0     644     99999     `\n")
    return p


def _archive_with_text(d: Path) -> Path:
    from spvlink.archive import make_rlib

    p = d / "withtext.rlib"
    p.write_bytes(make_rlib([("good.spv", EXPORTS.read_bytes()), ("bad.spv", b"nope")]))
    return p


@pytest.mark.parametrize("case", ["missing", "directory", "notspv", "empty", "truncated",
                                  "corrupt-archive", "archive-member", "output-dir-under-file",
                                  "output-parent-is-file", "output-is-dir"])
def test_bad_input(tmp_path: Path, objs: dict[str, Path], case: str) -> None:
    out = tmp_path / "out.spv"
    inputs: list[str | Path] = [EXPORTS]
    named: str
    if case == "missing":
        named = str(tmp_path / "nope.spv")
        inputs.append(named)
    elif case == "directory":
        (tmp_path / "adir").mkdir()
        named = str(tmp_path / "adir")
        inputs.append(named)
    elif case == "notspv":
        named = str(objs["notspv"])
        inputs.append(named)
    elif case == "empty":
        (tmp_path / "empty.spv").write_bytes(b"")
        named = str(tmp_path / "empty.spv")
        inputs.append(named)
    elif case == "truncated":
        (tmp_path / "trunc.spv").write_bytes(IMPORTS.read_bytes()[:-6])
        named = str(tmp_path / "trunc.spv")
        inputs.append(named)
    elif case == "corrupt-archive":
        named = str(_bad_archive(tmp_path))
        inputs.append(named)
    elif case == "archive-member":
        named = f"{_archive_with_text(tmp_path)}(bad.spv)"
        inputs.append(named.split("(")[0])
    elif case == "output-dir-under-file":  # a missing folder is made (test_cli_ux), not here
        out = objs["notspv"] / "sub" / "out.spv"
        named = str(out)
        inputs.append(IMPORTS)
    elif case == "output-parent-is-file":
        out = objs["notspv"] / "out.spv"
        named = str(out)
        inputs.append(IMPORTS)
    else:
        out = tmp_path / "outdir"
        out.mkdir()
        named = str(out)
        inputs.append(IMPORTS)
    before = sorted(tmp_path.rglob("*"))
    r = run_cli("link", *inputs, "-o", out, cwd=tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "Traceback" not in err
    lines = errors(err)
    assert len(lines) == 1, err
    assert named in lines[0], (named, err)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, no temp file left


def test_traceback_flag(tmp_path: Path) -> None:
    r = run_cli("link", tmp_path / "missing.spv", "--traceback")
    assert r.returncode == 1
    assert b"Traceback" in r.stderr and b"error:" in r.stderr
    r = run_cli("--traceback", "dis", tmp_path / "missing.spv")
    assert r.returncode == 1 and b"Traceback" in r.stderr


def test_internal_error_has_no_traceback(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import spvlink.stage

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(spvlink.stage, "run_stage", boom)
    code, _, err = main(capsys, "link", EXPORTS)
    assert code == cli.INTERNAL_ERROR_EXIT
    assert "internal error: RuntimeError: kaboom" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [[], ["link"], ["link", "x.spv", "--bogus"], ["nope"],
                                  ["link", "x.spv", "-O", "7"],
                                  ["link", "x.spv", "--module-output", "two"],
                                  ["archive", "x.rlib"], ["opt", "x.spv", "-o", "y.spv"],
                                  ["link", "x.spv", "--spirv-metadata", "some"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    r = run_cli(*argv)
    assert r.returncode == 2
    assert b"usage:" in r.stderr and b"Traceback" not in r.stderr


def test_help_and_version() -> None:
    r = run_cli("--help")
    assert r.returncode == 0 and b"link" in r.stdout and b"link-many" in r.stdout
    r = run_cli("link", "--help")
    assert r.returncode == 0 and b"--disassemble-entry" in r.stdout
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith(b"spvlink ")


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys, runpy\nsys.argv=['spvlink','--help']\n"
            "import spvlink.cli as c\nimport contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: c.main(['--help'])\n    except SystemExit: pass\n"
            "bad=[m for m in ('numpy','spvlink.grammar','spvlink.link','spvlink.ir',"
            "'spvlink.tools','ctypes') if m in sys.modules]\nprint(bad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stderr


# ---------------------------------------------------------------------------------------
# archive


def test_archive_round_trip(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta = cwd / "meta.bin"
    meta.write_bytes(b"metadata!")
    long_name = cwd / "a_rather_long_object_name.spv"
    long_name.write_bytes(EXPORTS.read_bytes())
    assert main(capsys, "archive", "-o", "lib.rlib", "--metadata", meta, long_name, IMPORTS)[0] == 0
    first = (cwd / "lib.rlib").read_bytes()
    assert main(capsys, "archive", "-o", "lib2.rlib", "--metadata", meta, long_name, IMPORTS)[0] == 0
    assert (cwd / "lib2.rlib").read_bytes() == first  # deterministic
    members = read_archive(first)
    assert [n for n, _ in members] == ["lib.rmeta", long_name.name, IMPORTS.name]
    code, out, _ = main(capsys, "archive", "--list", "lib.rlib")
    assert out.splitlines() == ["lib.rmeta", long_name.name, IMPORTS.name]  # as `ar t`
    code, out, _ = main(capsys, "archive", "--list", "lib.rlib", "-v")
    assert out.splitlines() == ["lib.rmeta\t9", f"{long_name.name}\t{EXPORTS.stat().st_size}",
                                f"{IMPORTS.name}\t{IMPORTS.stat().st_size}"]
    (cwd / "x").mkdir()
    assert main(capsys, "archive", "--extract", "lib.rlib", "-C", "x")[0] == 0
    assert (cwd / "x" / "lib.rmeta").read_bytes() == b"metadata!"
    assert (cwd / "x" / IMPORTS.name).read_bytes() == IMPORTS.read_bytes()
    # The archive links like its members, in archive order.
    assert main(capsys, "link", "lib.rlib", "-o", "fromlib.spv")[0] == 0
    assert main(capsys, "link", EXPORTS, IMPORTS, "-o", "direct.spv")[0] == 0
    assert (cwd / "fromlib.spv").read_bytes() == (cwd / "direct.spv").read_bytes()


def test_archive_gnu_ar_interop(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    if shutil.which("ar") is None:
        pytest.skip("binutils ar not installed")
    for p in (EXPORTS, IMPORTS):
        (cwd / p.name).write_bytes(p.read_bytes())
    subprocess.run(["ar", "rcs", "gnu.a", EXPORTS.name, IMPORTS.name], check=True, cwd=cwd)
    code, out, _ = main(capsys, "archive", "--list", "gnu.a")
    assert [ln.split("\t")[0] for ln in out.splitlines()] == [EXPORTS.name, IMPORTS.name]
    assert main(capsys, "link", "gnu.a")[0] == 0


def test_archive_errors(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = main(capsys, "archive", "-o", "dup.rlib", EXPORTS, EXPORTS)
    assert code == 1 and EXPORTS.name in err and len(errors(err)) == 1
    assert not (cwd / "dup.rlib").exists()
    code, _, err = main(capsys, "archive", "--list", EXPORTS)
    assert code == 1 and str(EXPORTS) in err


# ---------------------------------------------------------------------------------------
# val, opt, dis, as, info


def test_val(capsys: pytest.CaptureFixture[str], objs: dict[str, Path]) -> None:
    assert main(capsys, "val", EXPORTS, "--target-env", "spv1.5")[:2] == (0, "")
    code, _, err = main(capsys, "val", objs["noblock"], "--target-env", "vulkan1.2")
    assert code == 1 and str(objs["noblock"]) in errors(err)[0]
    assert main(capsys, "val", objs["scalar"], "--target-env", "vulkan1.2")[0] == 1
    assert main(capsys, "val", objs["scalar"], "--target-env", "vulkan1.2",
                "--scalar-block-layout")[0] == 0


def test_opt(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = SPV / "vec_add.glslc-O0.spv"
    code, _, err = main(capsys, "opt", src, "-O", "2", "-o", "o.spv", "--target-env", "vulkan1.1")
    assert code == 0, err
    assert len((cwd / "o.spv").read_bytes()) < src.stat().st_size
    assert spirv_val((cwd / "o.spv").read_bytes(), "vulkan1.1") is None
    assert main(capsys, "opt", src, "-O", "0", "-o", "same.spv")[0] == 0
    assert (cwd / "same.spv").read_bytes() == src.read_bytes()
    assert main(capsys, "opt", src, "-O", "s", "--strip-debug", "--preserve-bindings",
                "-o", "s.spv")[0] == 0


def test_opt_crash_is_an_error(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # spirv-opt 2025.5 dies stripping glslang's NonSemantic.Shader.DebugInfo.100.
    src = SPV / "vec_add.gVS.spv"
    code, _, err = main(capsys, "opt", src, "-O", "0", "--strip-debug", "-o", "x.spv")
    if code == 0:
        pytest.skip("this spirv-opt no longer crashes on -gVS input")
    assert str(src) in errors(err)[0] and "spirv-opt" in err
    assert not (cwd / "x.spv").exists()


def test_dis_and_as(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = SPV / "vec_add.glslc-O.spv"
    code, out, _ = main(capsys, "dis", src)
    assert code == 0 and out == spirv_dis(src.read_bytes())
    code, out, _ = main(capsys, "dis", src, "--raw-id")
    assert out == spirv_dis(src.read_bytes(), "--raw-id")
    assert main(capsys, "dis", src, "--raw-id", "-o", "v.spvasm")[0] == 0
    assert main(capsys, "as", "v.spvasm", "-o", "v.spv", "--keep-header")[0] == 0
    assert (cwd / "v.spv").read_bytes() == src.read_bytes()
    assert main(capsys, "as", "v.spvasm", "-o", "w.spv", "--target-env", "vulkan1.2")[0] == 0
    assert read((cwd / "w.spv").read_bytes()).version_tuple == (1, 5)
    (cwd / "bad.spvasm").write_text("OpCapability Shader\n%1 = OpNotAnOp\n")
    code, _, err = main(capsys, "as", "bad.spvasm", "-o", "bad.spv")
    assert code == 1 and errors(err)[0].startswith("error: bad.spvasm:2:")
    assert not (cwd / "bad.spv").exists()


def test_dis_stdin_and_pipe(tmp_path: Path) -> None:
    src = SPV / "vec_add.glslc-O.spv"
    r = run_cli("dis", "-", input=src.read_bytes())
    assert r.returncode == 0 and r.stdout.decode() == spirv_dis(src.read_bytes())
    r = run_cli("dis", "-", input=b"\x03\x02\x23\x07")
    assert r.returncode == 1 and r.stderr.startswith(b"error: <stdin>")


def test_info(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = main(capsys, "info", IMPORTS)
    assert code == 0
    for text in ("version:        SPIR-V 1.5", "capabilities:   Shader, Linkage",
                 "GLCompute 'main'", "function 'scale_add': fn(float, uint) -> float",
                 "StorageBuffer  struct{float[]}  set 0  binding 0"):
        assert text in out, out
    code, out, _ = main(capsys, "info", IMPORTS, "--json")
    d = json.loads(out)
    assert d["entry_points"][0]["execution_modes"] == ["LocalSize 64 1 1"]
    assert {i["name"] for i in d["imports"]} == {"counter", "lerp_u", "scale_add"}


# ---------------------------------------------------------------------------------------
# link-many


def test_link_many(tmp_path: Path, objs: dict[str, Path]) -> None:
    manifest = {"programs": [
        {"name": "ok-single", "inputs": [str(EXPORTS), str(IMPORTS)], "output": "a/one.spv",
         "options": {"target-env": "vulkan1.2"}},
        {"name": "broken", "inputs": [str(IMPORTS)], "output": "b.spv"},
        {"name": "ok-multi", "inputs": [str(objs["multi"])], "output": "multi.spv",
         "options": {"module-output": "per-entry-point", "O": 2, "no-dce": True}},
        {"name": "bad-option", "inputs": [str(EXPORTS)], "output": "c.spv",
         "options": {"frobnicate": True}},
    ]}
    (tmp_path / "a").mkdir()
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    r = run_cli("link-many", "m.json", "-j", "2", cwd=tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "Traceback" not in err
    assert "error: program 'broken' failed" in err
    assert "error: program 'bad-option' failed: unknown option 'frobnicate'" in err
    assert "linked 2 of 4 programs" in err
    assert (tmp_path / "a" / "one.spv").exists()
    assert (tmp_path / "multi.spv.json").exists()
    assert len(list((tmp_path / "multi.spvs").iterdir())) == 3
    assert not (tmp_path / "b.spv").exists()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no affinity masks here")
def test_link_many_workers_default_to_the_cores_it_may_use(tmp_path: Path) -> None:
    """Without -j, link-many starts a worker per core this process may run on (its
    affinity mask, as `taskset` or a container's cpuset gives it), not per core of the
    machine: `_cores.usable_cores`, which the reader's threads also follow."""
    manifest = {"programs": [{"name": f"p{k}", "inputs": [str(EXPORTS), str(IMPORTS)],
                              "output": f"p{k}.spv"} for k in range(3)]}
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    one_core = min(os.sched_getaffinity(0))
    r = subprocess.run([sys.executable, "-m", "spvlink", "link-many", "m.json",
                        "--no-progress"], cwd=tmp_path, capture_output=True,
                       preexec_fn=lambda: os.sched_setaffinity(0, {one_core}))
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert "with 1 worker" in err, err


def test_link_many_toml_all_ok(tmp_path: Path, objs: dict[str, Path]) -> None:
    (tmp_path / "m.toml").write_text(
        "[[programs]]\nname = 'one'\n"
        f"inputs = ['{EXPORTS}', '{IMPORTS}']\noutput = 'one.spv'\n"
        "[[programs]]\nname = 'two'\n"
        f"inputs = ['{objs['multi']}']\noutput = 'two.spv'\n"
        "options = {spirv-metadata = 'full', no-spirv-opt = true}\n")
    r = run_cli("link-many", "m.toml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "one.spv").exists() and (tmp_path / "two.spv").exists()
    assert b"linked 2 of 2 programs" in r.stderr
    assert b"program 'two': spirv-opt was skipped" not in r.stderr  # full metadata: no reason


def test_link_many_bad_manifest(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{not json")
    r = run_cli("link-many", "m.json", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.decode().count("error:") == 1


def test_python_m_and_console_script() -> None:
    script = Path(sys.executable).parent / "spvlink"
    if script.exists():
        r = subprocess.run([str(script), "--version"], capture_output=True)
        assert r.returncode == 0
    assert os.path.exists(ROOT / "src" / "spvlink" / "__main__.py")


def test_console_script_flushes_everything_before_its_quick_exit(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    """`run` leaves without the interpreter's teardown: stdout redirected to a file must
    still hold the whole disassembly of the biggest corpus module, and statuses pass."""
    biggest = max((CORPUS / "spv").glob("*.spv"), key=lambda p: p.stat().st_size)
    assert cli.main(["dis", str(biggest)]) == 0
    expected = capsys.readouterr().out
    out = tmp_path / "dis.txt"
    with out.open("wb") as f:
        r = subprocess.run([sys.executable, "-m", "spvlink", "dis", str(biggest)], stdout=f)
    assert r.returncode == 0
    assert out.read_text() == expected and len(expected) > 10_000
    assert run_cli("link", tmp_path / "missing.spv").returncode == 1
    assert run_cli("link", "--no-such-flag").returncode == 2


@pytest.mark.parametrize("columns", [None, "0", "-3", "60", "wide"])
def test_help_width_as_argparse_would_ask_shutil(columns: str | None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert cli._terminal_columns() == shutil.get_terminal_size().columns
