"""`spvlink.info`: the module summary behind `spvlink info`."""

from __future__ import annotations

import json

import pytest

from helpers import CORPUS, asm
from spvlink.binary import read
from spvlink.info import describe, render_text

SPV = CORPUS / "spv"


def load(name: str) -> dict:
    return describe(read((SPV / name).read_bytes()))


@pytest.mark.parametrize("path", sorted(SPV.glob("*.spv")), ids=lambda p: p.name)
def test_every_corpus_module(path) -> None:  # type: ignore[no-untyped-def]
    d = describe(read(path.read_bytes()))
    json.dumps(d)  # plain JSON data
    text = render_text(d)
    assert text.startswith("version:        SPIR-V ")
    assert d["bound"] > 0 and d["memory_model"]


def test_header_and_entry_points() -> None:
    d = load("spec_consts.glslc-O0.spv")
    assert d["version"] == "1.3"
    assert d["generator"].startswith("Google Shaderc over Glslang")
    assert d["capabilities"] == ["Shader"]
    assert d["ext_inst_imports"] == ["GLSL.std.450"]
    assert (d["addressing_model"], d["memory_model"]) == ("Logical", "GLSL450")
    (ep,) = d["entry_points"]
    assert ep["name"] == "main" and ep["execution_model"] == "GLCompute"
    assert ep["execution_modes"] == ["LocalSize 1 1 1"]
    gid = [v for v in ep["interface"] if v.get("builtIn") == "GlobalInvocationId"]
    assert gid and gid[0]["type"] == "uintx3" and gid[0]["storage_class"] == "Input"


def test_spec_constants() -> None:
    d = load("spec_consts.glslc-O0.spv")
    by_name = {c.get("name"): c for c in d["spec_constants"]}
    assert by_name["SCALE"] == {"id": by_name["SCALE"]["id"], "type": "int", "default": 4,
                                "spec_id": 2, "name": "SCALE"}
    assert by_name["BIAS"]["default"] == 0.5 and by_name["BIAS"]["type"] == "float"
    assert by_name["NEGATE"]["default"] is False and by_name["NEGATE"]["type"] == "bool"
    assert by_name["SCALE2"]["default"].startswith("OpIAdd ")
    text = render_text(d)
    assert "SCALE  SpecId 2  int = 4" in text and "NEGATE  SpecId 4  bool = false" in text


def test_resources_and_push_constants() -> None:
    d = load("vec_add.glslc-O0.spv")
    assert [(r["descriptorSet"], r["binding"], r["storage_class"]) for r in d["resources"]] == [
        (0, 0, "StorageBuffer"), (0, 1, "StorageBuffer"), (0, 2, "StorageBuffer")]
    (pc,) = d["push_constants"]
    assert pc["storage_class"] == "PushConstant" and pc["type"] == "struct{uint}"
    assert "push constants: 1" in render_text(d)


def test_images_are_resources() -> None:
    d = load("image_blur.glslc-O0.spv")
    classes = {r["storage_class"] for r in d["resources"]}
    assert "UniformConstant" in classes
    assert all("binding" in r for r in d["resources"])


def test_imports_and_exports() -> None:
    d = load("linkage_imports.spv")
    imports = {i["name"]: i for i in d["imports"]}
    assert imports["scale_add"]["kind"] == "function"
    assert imports["scale_add"]["type"] == "fn(float, uint) -> float"
    assert imports["counter"] == {"name": "counter", "kind": "variable", "type": "uint",
                                  "id": imports["counter"]["id"]}
    assert {e["name"] for e in d["exports"]} == {"ext_clamp", "ext_limit"}
    d = load("lib_math.O0.spv")
    assert d["exports"] and all(e["kind"] == "function" for e in d["exports"])


def test_execution_mode_id() -> None:
    m = asm("""
               OpCapability Shader
               OpMemoryModel Logical GLSL450
               OpEntryPoint GLCompute %main "main"
               OpExecutionModeId %main LocalSizeId %c4 %c1 %c1
       %void = OpTypeVoid
       %uint = OpTypeInt 32 0
         %c4 = OpConstant %uint 4
         %c1 = OpConstant %uint 1
         %fn = OpTypeFunction %void
       %main = OpFunction %void None %fn
          %l = OpLabel
               OpReturn
               OpFunctionEnd
""", env="spv1.5")
    d = describe(m)
    assert d["entry_points"][0]["execution_modes"] == ["LocalSizeId %2 %3 %3"]


def test_spec_constant_without_a_global_type_shows_raw_words() -> None:
    """A spec constant whose type is not a global numeric type (here defined after an
    OpFunction: the fuzzing campaign of seed 8 found `info` exiting 101 on it) shows its
    words as the disassembler spells raw words, in the text and the JSON."""
    from spvlink.text import assemble

    m = assemble("%f = OpFunction %void None %fn\n%15 = OpTypeInt 64 0\n"
                 "%8 = OpSpecConstant %15 4886718345\n", keep_header=False)
    d = describe(m)
    (c,) = d["spec_constants"]
    assert c["default"] == "!0x23456789 !0x00000001"
    json.dumps(d)
    assert "= !0x23456789 !0x00000001" in render_text(d)
