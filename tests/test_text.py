"""The text codec against the real spirv-as / spirv-dis on small hand-written modules."""

from __future__ import annotations

import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import tool
from spvlink.binary import read, write
from spvlink.errors import AssemblyError
from spvlink.text import DEFAULT_VERSION, SPVLINK_GENERATOR, assemble, disassemble
from spvlink.text.friendly_names import sanitize
from spvlink.text.literals import encode_float, format_float, hex_float


def tools_as(text: str, env: str = "spv1.6", *extra: str) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "in.spvasm", Path(d) / "out.spv"
        src.write_bytes(text.encode("utf-8", "surrogateescape"))
        r = subprocess.run([tool("spirv-as"), "--target-env", env, *extra, str(src), "-o",
                            str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return out.read_bytes()


def tools_as_fails(text: str) -> str:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in.spvasm"
        src.write_text(text)
        r = subprocess.run([tool("spirv-as"), str(src), "-o", str(Path(d) / "o.spv")],
                           capture_output=True, text=True)
        assert r.returncode != 0
        return r.stderr


def tools_dis(data: bytes, *extra: str) -> str:
    r = subprocess.run([tool("spirv-dis"), "-", *extra], input=data, capture_output=True,
                       check=True)
    return r.stdout.decode("utf-8", "surrogateescape")


def words(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def check(text: str, env: str = "spv1.6") -> bytes:
    """assemble == spirv-as (but the generator word) and disassemble == spirv-dis."""
    ref = tools_as(text, env)
    mine = write(assemble(text, version=words(ref)[1]))
    a, b = words(ref), words(mine)
    assert b[2] == SPVLINK_GENERATOR
    a[2] = b[2]
    assert a == b
    m = read(ref)
    assert disassemble(m, raw_id=True) == tools_dis(ref, "--raw-id")
    assert disassemble(m) == tools_dis(ref)
    assert disassemble(m, header=False, indent=False) == tools_dis(ref, "--no-header",
                                                                   "--no-indent")
    # Byte-exact round trip through our own text.
    again = assemble(disassemble(m, raw_id=True), keep_header=True)
    assert write(again) == ref
    return ref


HEAD = """OpCapability Shader
OpCapability Linkage
OpCapability Int64
OpCapability Int16
OpCapability Int8
OpCapability Float16
OpCapability Float64
OpMemoryModel Logical GLSL450
"""


def test_integer_literals() -> None:
    check(HEAD + """
%u8 = OpTypeInt 8 0
%s8 = OpTypeInt 8 1
%u16 = OpTypeInt 16 0
%s16 = OpTypeInt 16 1
%u32 = OpTypeInt 32 0
%s32 = OpTypeInt 32 1
%u64 = OpTypeInt 64 0
%s64 = OpTypeInt 64 1
%a = OpConstant %u8 255
%b = OpConstant %s8 -128
%c = OpConstant %s16 -2
%d = OpConstant %u16 0xffff
%e = OpConstant %u32 4294967295
%f = OpConstant %s32 -2147483648
%g = OpConstant %s32 0xffffffff
%h = OpConstant %s32 010
%i = OpConstant %u64 18446744073709551615
%j = OpConstant %s64 -9223372036854775808
%k = OpConstant %s64 0x8000000000000000
%l = OpConstant %u64 0x123456789
%m = OpConstant %s32 -0x10
%n = OpConstant %s8 0x80
""")


def test_float_literals() -> None:
    check(HEAD + """
%h = OpTypeFloat 16
%f = OpTypeFloat 32
%d = OpTypeFloat 64
%1 = OpConstant %h 1
%2 = OpConstant %h -0.0
%3 = OpConstant %h 0.3
%4 = OpConstant %h 65504
%5 = OpConstant %h 0x1p+16
%6 = OpConstant %h 0x1.2p+16
%7 = OpConstant %h 0x1p-24
%8 = OpConstant %h 0x1.ff8p-3
%10 = OpConstant %f 3.14159274
%11 = OpConstant %f -0
%12 = OpConstant %f 0x1p+128
%13 = OpConstant %f -0x1p+128
%14 = OpConstant %f 0x1.8p+128
%15 = OpConstant %f 1e-45
%16 = OpConstant %f 1.17549435e-38
%17 = OpConstant %f 3.40282347e+38
%18 = OpConstant %f 0x1.fffffffp0
%19 = OpConstant %f 0.1
%20 = OpConstant %f 1e10
%21 = OpConstant %f 123456789
%22 = OpConstant %f -2.5e-3
%30 = OpConstant %d 2.7182818284590451
%31 = OpConstant %d -0
%32 = OpConstant %d 0x1p+1024
%33 = OpConstant %d -0x1.8000000000001p+1024
%34 = OpConstant %d 4.9406564584124654e-324
%35 = OpConstant %d 1.7976931348623157e+308
%36 = OpConstant %d 1e100
%37 = OpConstant %d 0.5
""")


def test_float_formatting() -> None:
    assert format_float(0x3F800000, 32) == "1"
    assert format_float(0x80000000, 32) == "-0"
    assert format_float(0x7F800000, 32) == "0x1p+128"
    assert format_float(0x7FC00000, 32) == "0x1.8p+128"
    assert format_float(0x00000001, 32) == "0x1p-149"
    assert format_float(0x3C00, 16) == "0x1p+0"
    assert format_float(0x8000, 16) == "-0x0p+0"
    assert hex_float(0x0000000000000001, 64) == "0x1p-1074"
    assert encode_float("0x1.8p+128", 32) == [0x7FC00000]
    assert encode_float("-0x1.8p+1024", 64) == [0, 0xFFF80000]
    assert encode_float("0.3", 16) == [0x34CC]  # spirv-as narrows towards zero


def test_strings_and_names() -> None:
    text = HEAD + r"""
OpName %a "a\"b\\c"
OpName %b "é!x"
OpName %c ""
OpName %d "dup"
OpName %e "dup"
OpName %f "uint"
OpSource GLSL 450 %s "void main() {\n}"
%s = OpString "file name.glsl"
%a = OpTypeVoid
%b = OpTypeBool
%c = OpTypeInt 32 0
%d = OpTypeFloat 32
%e = OpTypeVector %d 4
%f = OpTypeInt 32 1
%g = OpTypeInt 32 0
"""
    check(text)
    assert sanitize("é!x") == "___x"


def test_friendly_type_and_constant_names() -> None:
    check(HEAD + """
OpDecorate %gid BuiltIn GlobalInvocationId
OpDecorate %pos BuiltIn Position
OpDecorate %s0 Block
%void = OpTypeVoid
%bool = OpTypeBool
%uint = OpTypeInt 32 0
%int = OpTypeInt 32 1
%long = OpTypeInt 64 1
%float = OpTypeFloat 32
%half = OpTypeFloat 16
%v3uint = OpTypeVector %uint 3
%v4float = OpTypeVector %float 4
%mat4 = OpTypeMatrix %v4float 4
%uint_4 = OpConstant %uint 4
%arr = OpTypeArray %float %uint_4
%rta = OpTypeRuntimeArray %uint
%s0 = OpTypeStruct %rta %arr
%p0 = OpTypePointer StorageBuffer %s0
%p1 = OpTypePointer Input %v3uint
%p2 = OpTypePointer Output %v4float
%p3 = OpTypePointer Function %uint
%gid = OpVariable %p1 Input
%pos = OpVariable %p2 Output
%t = OpConstantTrue %bool
%f = OpConstantFalse %bool
%t2 = OpConstantTrue %bool
%m1 = OpConstant %int -1
%m2 = OpConstant %long -5
%fl = OpConstant %float 1.5
%fl2 = OpConstant %float -0.25
%fl3 = OpConstant %float 1e+30
%hl = OpConstant %half 2
%u4b = OpConstant %uint 4
%fn = OpTypeFunction %void
""")


def test_masks_enums_and_parameters() -> None:
    check("""OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %v Alignment 16
OpDecorate %fn LinkageAttributes "f" Export
OpMemberDecorate %s 0 Offset 4
%void = OpTypeVoid
%uint = OpTypeInt 32 0
%s = OpTypeStruct %uint
%ptr = OpTypePointer Function %uint
%fty = OpTypeFunction %void
%c0 = OpConstant %uint 0
%fn = OpFunction %void Inline|Pure %fty
%l = OpLabel
%v = OpVariable %ptr Function
%x = OpLoad %uint %v Volatile|Aligned|Nontemporal 4
OpStore %v %x Aligned 8
%y = OpLoad %uint %v None
OpLoopMerge %m %l Unroll|PartialCount 4
OpBranch %m
%m = OpLabel
OpSelectionMerge %m2 Flatten
OpBranch %m2
%m2 = OpLabel
OpReturn
OpFunctionEnd
""")


def test_switch_32_and_64_bit() -> None:
    check("""OpCapability Shader
OpCapability Int64
OpCapability Linkage
OpMemoryModel Logical GLSL450
%void = OpTypeVoid
%int = OpTypeInt 32 1
%ulong = OpTypeInt 64 0
%long = OpTypeInt 64 1
%fty = OpTypeFunction %void
%sel = OpConstant %int -3
%sel64 = OpConstant %ulong 0xfffffffffffffff0
%sels = OpConstant %long -7
%fn = OpFunction %void None %fty
%l = OpLabel
OpSelectionMerge %end None
OpSwitch %sel %end -1 %a 2147483647 %b -2147483648 %a
%a = OpLabel
OpSelectionMerge %end None
OpSwitch %sel64 %end 18446744073709551615 %b 0x100000000 %b
%b = OpLabel
OpSelectionMerge %end None
OpSwitch %sels %end -9223372036854775808 %end 5 %end
%end = OpLabel
OpReturn
OpFunctionEnd
""")


def test_spec_constant_op() -> None:
    check("""OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
%uint = OpTypeInt 32 0
%bool = OpTypeBool
%v2uint = OpTypeVector %uint 2
%v4uint = OpTypeVector %uint 4
%a = OpSpecConstant %uint 7
%b = OpSpecConstant %uint 3
%t = OpSpecConstantTrue %bool
%s = OpSpecConstantOp %uint IAdd %a %b
%n = OpSpecConstantOp %bool LogicalNot %t
%v = OpSpecConstantComposite %v2uint %a %b
%sh = OpSpecConstantOp %v4uint VectorShuffle %v %v 1 0 3 0xFFFFFFFF
%ex = OpSpecConstantOp %uint CompositeExtract %sh 2
%sel = OpSpecConstantOp %uint Select %t %a %b
""")


def test_ext_inst_sets() -> None:
    check("""OpCapability Shader
OpCapability Linkage
OpExtension "SPV_KHR_non_semantic_info"
%glsl = OpExtInstImport "GLSL.std.450"
%printf = OpExtInstImport "NonSemantic.DebugPrintf"
%tool = OpExtInstImport "NonSemantic.Unknown.7"
OpMemoryModel Logical GLSL450
%void = OpTypeVoid
%float = OpTypeFloat 32
%fmt = OpString "x=%f"
%one = OpConstant %float 1
%fty = OpTypeFunction %void
%t0 = OpExtInst %void %tool 3 %one %fmt
%fn = OpFunction %void None %fty
%l = OpLabel
%x = OpExtInst %float %glsl Sqrt %one
%y = OpExtInst %float %glsl FClamp %x %one %one
%p = OpExtInst %void %printf 1 %fmt %y
OpReturn
OpFunctionEnd
""")


def test_ext_inst_by_number() -> None:
    # spirv-as wants names for sets it knows; spvlink also takes the numbers.
    base = """OpCapability Shader
%glsl = OpExtInstImport "GLSL.std.450"
OpMemoryModel Logical GLSL450
%float = OpTypeFloat 32
%one = OpConstant %float 1
%x = OpExtInst %float %glsl """
    assert write(assemble(base + "31 %one\n")) == write(assemble(base + "Sqrt %one\n"))


def test_opencl_std_and_debug_info() -> None:
    check("""OpCapability Addresses
OpCapability Kernel
OpCapability Linkage
%cl = OpExtInstImport "OpenCL.std"
%dbg = OpExtInstImport "OpenCL.DebugInfo.100"
OpMemoryModel Physical64 OpenCL
%src = OpString "k.cl"
%void = OpTypeVoid
%uint = OpTypeInt 32 0
%float = OpTypeFloat 32
%u32 = OpConstant %uint 32
%fty = OpTypeFunction %void
%none = OpExtInst %void %dbg DebugInfoNone
%file = OpExtInst %void %dbg DebugSource %src
%cu = OpExtInst %void %dbg DebugCompilationUnit 65536 4 %file OpenCL_C
%bt = OpExtInst %void %dbg DebugTypeBasic %src %u32 Float
%q = OpExtInst %void %dbg DebugTypeQualifier %bt ConstType
%fn = OpFunction %void None %fty
%l = OpLabel
%one = OpUndef %float
%x = OpExtInst %float %cl fmax %one %one
%y = OpExtInst %float %cl printf %src %x
OpReturn
OpFunctionEnd
""", env="spv1.0")


def test_raw_words() -> None:
    text = """OpCapability Shader
OpMemoryModel Logical GLSL450
!0x00020011 !1
%uint = OpTypeInt 32 0
!0x0004002b %uint %x 7
%y = OpConstant %uint !5
OpDecorate %x Location !3
OpDecorate %y !0x1e 4
"""
    ref = tools_as(text)
    mine = write(assemble(text))
    assert words(mine)[3:] == words(ref)[3:]
    assert words(mine)[:2] == words(ref)[:2]


def test_header_and_ids() -> None:
    text = "; SPIR-V\n; Version: 1.3\n; Generator: Khronos Glslang Reference Front End; 11\n" \
           "; Bound: 40\n; Schema: 0\nOpCapability Shader\nOpMemoryModel Logical GLSL450\n" \
           "%7 = OpTypeVoid\n%b = OpTypeBool\n%3 = OpTypeInt 32 0\nOpName %zz \"never defined\"\n"
    m = assemble(text)
    assert m.version == 0x00010300
    assert m.generator == SPVLINK_GENERATOR
    assert m.bound == 5  # %7 %b %3 %zz numbered 1..4 in order of appearance
    assert [m.instruction(i).result_id for i in (2, 3, 4)] == [1, 2, 3]
    kept = assemble(text, keep_header=True)
    assert (kept.generator, kept.bound) == ((8 << 16) | 11, 40)
    assert [kept.instruction(i).result_id for i in (2, 3, 4)] == [7, 1, 3]
    assert assemble(text, version=0x00010500).version == 0x00010500
    assert assemble("OpCapability Shader").version == DEFAULT_VERSION == 0x00010600
    assert words(tools_as("OpCapability Shader\n", "spv1.6"))[1] == DEFAULT_VERSION
    ref = tools_as(text, "spv1.3", "--preserve-numeric-ids")
    assert words(write(assemble(text, preserve_numeric_ids=True)))[3:] == words(ref)[3:]


def test_generator_word_prints() -> None:
    m = assemble("OpCapability Shader\nOpMemoryModel Logical GLSL450\n")
    assert "; Generator: Khronos; 1\n" in disassemble(m)
    assert tools_dis(write(m)) == disassemble(m)


@pytest.mark.parametrize(("text", "line", "column", "fragment"), [
    ("OpCapability Shader\n  OpFoo %x\n", 2, 3, "unknown opcode 'OpFoo'"),
    ("OpCapability Shaderz\n", 1, 14, "unknown Capability 'Shaderz'"),
    ("OpCapability Shader\n%u = OpTypeInt 32 0\n%c = OpConstant %u 1.5\n", 3, 20,
     "invalid integer literal"),
    ("%u = OpTypeInt 32 0\n%c = OpConstant %u -1\n", 2, 20, "negative"),
    ("%u = OpTypeInt 8 1\n%c = OpConstant %u 128\n", 2, 20, "does not fit"),
    ("%f = OpTypeFloat 32\n%c = OpConstant %f 1e39\n", 2, 20, "invalid 32-bit float"),
    ("%f = OpTypeFloat 32\n%c = OpConstant %f abc\n", 2, 20, "invalid 32-bit float"),
    ("OpMemoryModel Logical\nOpCapability Shader\n", 2, 1, "missing operand"),
    ("OpMemoryModel Logical\n", 2, 1, "missing operand"),
    ("OpCapability Shader Kernel\n", 1, 21, "too many operands"),
    ('OpName %x "abc\nOpCapability Shader\n', 1, 11, "unterminated string"),
    ("OpTypeVoid\n", 1, 1, "needs a result id"),
    ("%x = OpCapability Shader\n", 1, 1, "has no result id"),
    ("%x = OpTypeVector OpTypeVoid 3\n", 1, 19, "missing operand"),
    ("OpName x \"a\"\n", 1, 8, "expected an id"),
    ("OpName %x abc\n", 1, 11, "expected a quoted string"),
    ("%1 = OpExtInstImport \"GLSL.std.450\"\n%v = OpTypeVoid\n%2 = OpExtInst %v %1 Foo\n",
     3, 22, "unknown GLSL.std.450 instruction 'Foo'"),
    ("%v = OpTypeVoid\n%x = !0x00020013\n", 2, 6, "invalid opcode prefix"),
    ("hello\n", 1, 1, "expected an opcode"),
])
def test_errors(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(AssemblyError) as info:
        assemble(text)
    err = info.value
    assert (err.line, err.column) == (line, column), err.message
    assert fragment in err.message
    tools_as_fails(text)  # spirv-as rejects it too


def test_forward_reference_never_defined_is_allowed() -> None:
    text = "OpCapability Shader\nOpMemoryModel Logical GLSL450\nOpName %ghost \"g\"\n"
    assert words(write(assemble(text)))[3:] == words(tools_as(text))[3:]
