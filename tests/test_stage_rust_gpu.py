"""Issue 10: the link stage behaves as Rust-GPU's `link.rs` and linker do (each test quotes
the rule it follows). Every output is validated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vkrun
from helpers import CORPUS, spirv_as, spirv_dis, spirv_val
from spvlink.errors import ToolError
from spvlink.stage import StageOptions, run_stage
from test_tools import SCALAR_LAYOUT

# test_tools' storage buffer, valid under scalar block layout only, with code to optimise.
SCALAR = SCALAR_LAYOUT.replace("%main = OpFunction", """%int = OpTypeInt 32 1
%int_0 = OpConstant %int 0
%pf = OpTypePointer StorageBuffer %float
%f2 = OpConstant %float 2
%main = OpFunction""").replace("%l = OpLabel\n", """%l = OpLabel
%p = OpAccessChain %pf %buf %int_0
%x = OpLoad %float %p
%y = OpFMul %float %x %f2
%z = OpFMul %float %y %f2
OpStore %p %z
""")

BINDINGS = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main" %used %unused
OpExecutionMode %main LocalSize 1 1 1
OpDecorate %S Block
OpMemberDecorate %S 0 Offset 0
OpDecorate %used DescriptorSet 0
OpDecorate %used Binding 0
OpDecorate %unused DescriptorSet 0
OpDecorate %unused Binding 1
%void = OpTypeVoid
%fn = OpTypeFunction %void
%uint = OpTypeInt 32 0
%S = OpTypeStruct %uint
%ptr = OpTypePointer StorageBuffer %S
%used = OpVariable %ptr StorageBuffer
%unused = OpVariable %ptr StorageBuffer
%int = OpTypeInt 32 1
%int_0 = OpConstant %int 0
%pu = OpTypePointer StorageBuffer %uint
%uint_7 = OpConstant %uint 7
%main = OpFunction %void None %fn
%l = OpLabel
%p = OpAccessChain %pu %used %int_0
OpStore %p %uint_7
OpReturn
OpFunctionEnd
"""

CLEANUPS = """
OpCapability Shader
OpCapability Int64
OpCapability Float64
OpCapability Int16
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main" %buf
OpExecutionMode %main LocalSize 1 1 1
OpDecorate %S Block
OpMemberDecorate %S 0 Offset 0
OpDecorate %buf DescriptorSet 0
OpDecorate %buf Binding 0
OpDecorate %x NonUniform
OpDecorate %arr ArrayStride 4
OpMemberDecorate %L 0 Offset 0
%void = OpTypeVoid
%fn = OpTypeFunction %void
%uint = OpTypeInt 32 0
%short = OpTypeInt 16 0
%S = OpTypeStruct %uint
%ptr = OpTypePointer StorageBuffer %S
%buf = OpVariable %ptr StorageBuffer
%int = OpTypeInt 32 1
%int_0 = OpConstant %int 0
%pu = OpTypePointer StorageBuffer %uint
%uint_4 = OpConstant %uint 4
%arr = OpTypeArray %uint %uint_4
%L = OpTypeStruct %arr
%pl = OpTypePointer Function %L
%pfu = OpTypePointer Function %uint
%short_1 = OpConstant %short 1
%main = OpFunction %void None %fn
%l = OpLabel
%loc = OpVariable %pl Function
%q = OpAccessChain %pfu %loc %int_0 %int_0
OpStore %q %uint_4
%v = OpLoad %uint %q
%p = OpAccessChain %pu %buf %int_0
%x = OpLoad %uint %p
%s = OpUConvert %uint %short_1
%y = OpIAdd %uint %x %v
%w = OpIAdd %uint %y %s
OpStore %p %w
OpReturn
OpFunctionEnd
"""


def _spv(tmp_path: Path, text: str, name: str, env: str = "spv1.3") -> Path:
    p = tmp_path / name
    p.write_bytes(spirv_as(text, env))
    return p


def test_scalar_layout_goes_to_spirv_opt_and_is_optimised(tmp_path: Path) -> None:
    """link.rs: `opt::Options { validator_options: Some(val_options.clone()), .. }`: the
    optimiser validates with the same options as spirv-val, so a module valid only under
    --scalar-block-layout comes out of -O 2 optimised, not "leaving as unoptimized"."""
    src = _spv(tmp_path, SCALAR, "scalar.spv")
    o2 = run_stage([src], StageOptions(output=tmp_path / "o2.spv", opt_level="2",
                                       target_env="vulkan1.1", scalar_block_layout=True))
    assert o2.warnings == []
    o0 = run_stage([src], StageOptions(output=tmp_path / "o0.spv", spirv_opt=False,
                                       target_env="vulkan1.1", scalar_block_layout=True))
    assert o2.binary is not None and o0.binary is not None
    assert spirv_dis(o0.binary).count("OpFMul") == 2
    assert spirv_dis(o2.binary).count("OpFMul") == 1  # folded by the optimiser
    from spvlink.tools import ValidatorOptions, optimize, validate

    validate(o2.binary, "vulkan1.1", ValidatorOptions(scalar_block_layout=True))
    # Without the options, spirv-opt's own validation refuses the input.
    with pytest.raises(ToolError):
        optimize(src.read_bytes(), ["-O"], target_env="vulkan1.1")


def test_preserve_bindings_keeps_unused_binding(tmp_path: Path) -> None:
    """CodegenArgs `--preserve-bindings` goes to spirv-opt (`preserve_bindings`) and to
    `gather_all_interface_vars_from_uses(.., preserve_bindings)`: "retains any declared
    entry point vars"; spirv-opt keeps "all bindings declared within the module"."""
    src = _spv(tmp_path, BINDINGS, "b.spv", "spv1.5")
    for level in ("0", "2"):
        plain = run_stage([src], StageOptions(output=tmp_path / f"p{level}.spv", opt_level=level,
                                              target_env="vulkan1.2"))
        kept = run_stage([src], StageOptions(output=tmp_path / f"k{level}.spv", opt_level=level,
                                             target_env="vulkan1.2", preserve_bindings=True))
        assert plain.binary is not None and kept.binary is not None
        assert "Binding 1" not in spirv_dis(plain.binary)
        text = spirv_dis(kept.binary)
        assert "Binding 1" in text
        entry = next(ln for ln in text.splitlines() if "OpEntryPoint" in ln)
        assert len(entry.split()) == 6  # two variables in the 1.5 interface
        assert spirv_val(kept.binary, "vulkan1.2") is None
        assert spirv_val(plain.binary, "vulkan1.2") is None
        if vkrun.vulkan_available():  # both run; the kept binding is there and untouched
            data = np.arange(4, dtype=np.uint32)
            out0, out1 = vkrun.run_compute(kept.binary, "main", [data.copy(), data.copy()])
            assert np.frombuffer(out0, np.uint32).tolist() == [7, 1, 2, 3]
            assert out1 == data.tobytes()
            (only,) = vkrun.run_compute(plain.binary, "main", [data.copy()])
            assert np.frombuffer(only, np.uint32).tolist() == [7, 1, 2, 3]


def test_preserve_bindings_lists_an_unlisted_binding(tmp_path: Path) -> None:
    """Issue 10: with --preserve-bindings a DescriptorSet/Binding variable stays, and from
    SPIR-V 1.4 on (every global variable in the interface) the entry point lists it, so
    reflection on the entry point sees it; before 1.4 only Input/Output may be listed."""
    for env, version_env, listed in (("spv1.5", "vulkan1.2", 6), ("spv1.3", "vulkan1.1", 4)):
        text = BINDINGS.replace('"main" %used %unused', '"main" %used' if env == "spv1.5"
                                else '"main"')
        src = _spv(tmp_path, text, f"u{env}.spv", env)
        res = run_stage([src], StageOptions(output=tmp_path / f"u{env}.out.spv",
                                            target_env=version_env, preserve_bindings=True))
        assert res.binary is not None
        out = spirv_dis(res.binary)
        assert "Binding 1" in out
        entry = next(ln for ln in out.splitlines() if "OpEntryPoint" in ln)
        assert len(entry.split()) == listed, entry
        assert spirv_val(res.binary, version_env) is None


def test_cleanups_after_linking(tmp_path: Path) -> None:
    """Rust-GPU's linker: `remove_unused_type_capabilities` (Int8/Int16/Int64/Float16/
    Float64 only when no type needs them), `remove_non_uniform_decorations` ("if this module
    does *not* have ShaderNonUniform") and `explicit_layout::erase_when_invalid` (layout
    decorations on types of Function storage)."""
    src = _spv(tmp_path, CLEANUPS, "c.spv")
    assert spirv_val(src.read_bytes(), "vulkan1.1") is not None  # the input is not valid
    res = run_stage([src], StageOptions(output=tmp_path / "c_out.spv", target_env="vulkan1.1",
                                        spirv_opt=False))
    assert res.binary is not None
    text = spirv_dis(res.binary)
    assert "OpCapability Int64" not in text and "OpCapability Float64" not in text
    assert "OpCapability Int16" in text  # the 16-bit constant still needs it
    assert "NonUniform" not in text
    assert "ArrayStride" not in text
    assert text.count("Offset 0") == 1  # the StorageBuffer block's stays
    assert spirv_val(res.binary, "vulkan1.1") is None


def test_debuginfo_keeps_names(tmp_path: Path) -> None:
    """link.rs strips (EliminateDeadConstant + StripDebugInfo) only `if
    sess.opts.debuginfo == DebugInfo::None && cg_args.spirv_metadata == SpirvMetadata::None`:
    -g keeps the producer's names and lines."""
    src = CORPUS / "spv" / "vec_add.glslc-g.spv"
    stripped = run_stage([src], StageOptions(output=tmp_path / "s.spv", target_env="vulkan1.1"))
    kept = run_stage([src], StageOptions(output=tmp_path / "g.spv", target_env="vulkan1.1",
                                         debuginfo=True))
    assert stripped.binary is not None and kept.binary is not None
    assert "OpName" not in spirv_dis(stripped.binary) and "OpLine" not in spirv_dis(stripped.binary)
    assert "OpName" in spirv_dis(kept.binary) and "OpLine" in spirv_dis(kept.binary)
    for res in (stripped, kept):
        assert res.binary is not None and spirv_val(res.binary, "vulkan1.1") is None


LIB = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %twice LinkageAttributes "twice" Export
%uint = OpTypeInt 32 0
%fn = OpTypeFunction %uint %uint
%twice = OpFunction %uint None %fn
%x = OpFunctionParameter %uint
%l = OpLabel
%y = OpIAdd %uint %x %x
OpReturnValue %y
OpFunctionEnd
"""

MAIN = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 1 1 1
OpDecorate %twice LinkageAttributes "twice" Import
%void = OpTypeVoid
%vfn = OpTypeFunction %void
%uint = OpTypeInt 32 0
%fn = OpTypeFunction %uint %uint
%uint_3 = OpConstant %uint 3
%twice = OpFunction %uint None %fn
%x = OpFunctionParameter %uint
OpFunctionEnd
%main = OpFunction %void None %vfn
%l = OpLabel
%r = OpFunctionCall %uint %twice %uint_3
OpReturn
OpFunctionEnd
"""


def test_disassemble_fn_finds_resolved_export_names(tmp_path: Path) -> None:
    """Issue 10: `--disassemble-fn` looks a function up by the export names the linker
    resolved, not only by OpName (link.rs's `do_disassemble` uses OpName, which nameless
    producers and stripping leave without a match)."""
    lib, main = _spv(tmp_path, LIB, "lib.spv"), _spv(tmp_path, MAIN, "main.spv")
    res = run_stage([main, lib], StageOptions(output=tmp_path / "o.spv", target_env="vulkan1.1",
                                              disassemble_fn="twice"))
    assert res.warnings == []
    (text,) = res.disassembly
    assert text.startswith(f"; {tmp_path / 'o.spv'}: function twice\n")
    assert "OpIAdd" in text and text.count("OpFunctionEnd") == 1
    assert res.binary is not None and spirv_val(res.binary, "vulkan1.1") is None
    assert "twice" not in spirv_dis(res.binary)  # not a name the output carries


def test_per_entry_json_is_a_sorted_map(tmp_path: Path) -> None:
    """link.rs: `entry_name_to_file_path: BTreeMap<_, _>`, and `entry_points:
    entry_name_to_file_path.keys()`: both sorted by entry name."""
    import json

    src = _spv(tmp_path, (CORPUS.parent.parent / "examples" / "asm" / "multi_entry.spvasm")
               .read_text(), "multi.spv")
    res = run_stage([src], StageOptions(output=tmp_path / "m.spv", target_env="vulkan1.1",
                                        module_output="per-entry-point"))
    assert res.json_path is not None
    raw = res.json_path.read_text()
    data = json.loads(raw)
    assert data["entry_points"] == sorted(data["entry_points"]) == ["add_index", "double_it",
                                                                    "square"]
    assert list(data["module"]) == sorted(data["module"])
    assert raw == json.dumps({"entry_points": sorted(data["module"]),
                              "module": dict(sorted(data["module"].items()))},
                             separators=(",", ":"))
    for path in data["module"].values():
        assert spirv_val(Path(path).read_bytes(), "vulkan1.1") is None


def test_name_variables_level(tmp_path: Path) -> None:
    """Rust-GPU's `name_variables_pass` (metadata level name-variables): OpNames of global
    variables stay, every other OpName/OpMemberName and every OpLine goes; spirv-opt does not
    strip (the metadata level is not none)."""
    src = CORPUS / "spv" / "vec_add.glslc-g.spv"
    res = run_stage([src], StageOptions(output=tmp_path / "v.spv", target_env="vulkan1.1",
                                        spirv_metadata="name-variables"))
    assert res.binary is not None and spirv_val(res.binary, "vulkan1.1") is None
    from spvlink.binary import read
    from spvlink.ir import Section
    from spvlink.spec import Op

    m = read(res.binary)
    glob = m.sections == int(Section.GLOBAL)
    variables = {int(v) for v in m.result_ids[(m.opcodes == Op.Variable) & glob]}
    named = [m.inst_words(i)[1] for i in m.indices_of(Op.Name).tolist()]
    assert named and all(t in variables for t in named)
    assert not m.indices_of(Op.MemberName).size and not m.indices_of(Op.Line).size
    assert m.indices_of(Op.String).size  # the debug info itself is not stripped
