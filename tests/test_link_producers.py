"""Issue 9, proof with real producers: the symbol rules real compilers need.

Sources are in tests/data/producers/ and compiled at test time (once per session):
(a) C++ for OpenCL templates at -O0 across three translation units (clang-14 +
    llvm-spirv-14): every unit exports its own copy of each template instantiation and
    inline function it uses;
(b) glslang --no-link libraries whose overloads share one export name;
(c) OpenCL C through Intel's llvm-spirv (PyPI dpcpp-llvm-spirv): imports declared with
    i8 pointees, linked with --allow-pointer-mismatch;
(d) an imported float[3] variable and a function taking a struct holding an array, each
    module with its own array types and length constants, run on lavapipe.
A test skips only when its producer is not installed (CI installs all of them).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import vkrun
from helpers import PREFIX, ROOT, asm, assert_valid, dis, spirv_as, spirv_val, tool
from spvlink.binary import read, write
from spvlink.errors import DuplicateExport, LinkError, TypeMismatch
from spvlink.ir import Module
from spvlink.link import LinkOptions, link

SRC = ROOT / "tests" / "data" / "producers"

needs_vulkan = pytest.mark.skipif(not vkrun.vulkan_available(), reason="no Vulkan device")
needs_clang = pytest.mark.skipif(
    not (shutil.which("clang-14") and shutil.which("llvm-spirv-14")),
    reason="clang-14/llvm-spirv-14 not installed")


def intel_llvm_spirv() -> Path | None:
    """bin/llvm-spirv of the dpcpp-llvm-spirv wheel (next to its package's __init__.py)."""
    spec = importlib.util.find_spec("dpcpp_llvm_spirv")
    if spec is None or spec.origin is None:
        return None
    exe = Path(spec.origin).parent / "bin" / "llvm-spirv"
    return exe if exe.is_file() else None


needs_intel = pytest.mark.skipif(intel_llvm_spirv() is None,
                                 reason="dpcpp-llvm-spirv not installed")


def run(cmd: list[str], **kw: object) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)  # type: ignore[call-overload]
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}{r.stderr}"


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """build(source name, recipe) -> the .spv, compiled once per session."""
    out = tmp_path_factory.mktemp("producers")
    done: dict[tuple[str, str], Path] = {}

    def make(name: str, recipe: str) -> Path:
        if (name, recipe) in done:
            return done[name, recipe]
        src = SRC / name
        stem = src.stem + "." + recipe
        bc, spv = out / (stem + ".bc"), out / (stem + ".spv")
        if recipe == "clcpp":
            run(["clang-14", "-c", "-target", "spir64", "-cl-std=clc++", "-Xclang",
                 "-finclude-default-header", "-O0", "-emit-llvm", "-x", "cl", str(src),
                 "-o", str(bc)])
            run(["llvm-spirv-14", "--spirv-max-version=1.0", str(bc), "-o", str(spv)])
        elif recipe == "intel":
            run(["clang-14", "-c", "-target", "spir64", "-cl-std=CL1.2", "-O0", "-emit-llvm",
                 str(src), "-o", str(bc)])
            run([str(intel_llvm_spirv()), "--spirv-max-version=1.0", str(bc), "-o", str(spv)])
        elif recipe == "glslang":
            run([str(PREFIX / "bin" / "glslang"), "-V", "--no-link", "--target-env",
                 "vulkan1.2", "-S", "comp", str(src), "-o", str(spv)],
                env={"LD_LIBRARY_PATH": str(PREFIX / "lib")})
        else:
            raise AssertionError(recipe)
        done[name, recipe] = spv
        return spv

    return make


def load(path: Path, name: str | None = None) -> Module:
    return read(path.read_bytes(), source=name or path.name)


def spirv_link(paths: list[Path], *flags: str) -> tuple[bytes | None, str]:
    out = paths[0].parent / ("spirv-link-" + "-".join(p.stem for p in paths) + ".spv")
    r = subprocess.run([tool("spirv-link"), *flags, *map(str, paths), "-o", str(out)],
                       capture_output=True, text=True, timeout=60)
    return (out.read_bytes() if r.returncode == 0 else None), r.stderr + r.stdout


def function_names(m: Module) -> list[str]:
    """The OpName of every function definition or declaration left in `m`."""
    text = dis(m)
    names = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "OpName":
            names[parts[1]] = parts[2].strip('"')
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "=" and parts[2] == "OpFunction":
            out.append(names.get(parts[0], parts[0]))
    return out


def all_errors(err: LinkError) -> list[LinkError]:
    return [err, *err.errors]


def text_of(err: LinkError) -> str:
    return "\n".join([err.message, *err.notes])


# -- (a) C++ for OpenCL templates at -O0 across three translation units -------------------

CLCPP_UNITS = ["tu_kernel.clcpp", "tu_scale.clcpp", "tu_offset.clcpp"]


@needs_clang
def test_clcpp_template_instantiations_merge(build: Callable[[str, str], Path]) -> None:
    """`sq<float>` and `twice` are exported by tu_kernel and tu_scale, `sq<int>` by
    tu_scale and tu_offset: same name, same type, same body, so each is kept once, as if
    LinkOnceODR, without a warning; the output validates for OpenCL 1.2 and 2.0 and
    llvm-spirv-14 reads it back.

    Rule: SPV_KHR_linkonce_odr, LinkOnceODR is "Same as the Export linkage type, but a
    function or global variable with this linkage type will be merged with other functions
    or global variables of the same name when linkage occurs"; issue 9 treats identical
    plain exports alike. spirv-link keeps all the copies (GetImportExportPairs looks for
    pairs only for imports, so duplicated exports nobody imports pass through).
    """
    paths = [build(u, "clcpp") for u in CLCPP_UNITS]
    inputs = [load(p, u.replace(".clcpp", ".spv")) for p, u in zip(paths, CLCPP_UNITS,
                                                                     strict=True)]
    exports = [dis(m).count('Export') for m in inputs]
    assert all(exports), "llvm-spirv-14 exported nothing"
    r = link(inputs, LinkOptions(spirv_metadata="full"))
    assert r.module is not None
    for env in ("opencl1.2", "opencl2.0"):
        assert_valid(r.module, env)
    names = function_names(r.module)
    for mangled in ("_Z2sqIfET_S0_", "_Z2sqIiET_S0_", "_Z5twicef"):
        assert names.count(mangled) == 1, names
    assert sorted(names) == sorted(set(names)), names
    # Merged silently; the imports' None against the definitions' DontInline is an
    # inlining hint, silent too.
    assert r.warnings == [], [w.message for w in r.warnings]
    out = paths[0].parent / "clcpp-linked.spv"
    out.write_bytes(write(r.module))
    run(["llvm-spirv-14", "-r", str(out), "-o", str(out.with_suffix(".bc"))])


@needs_clang
def test_clcpp_same_module_count_as_spirv_link_keeps_duplicates(
        build: Callable[[str, str], Path]) -> None:
    """spirv-link links the same units too, but keeps every copy: a deliberate difference
    (spvlink merges identical definitions of one name)."""
    paths = [build(u, "clcpp") for u in CLCPP_UNITS]
    theirs, why = spirv_link(paths)
    assert theirs is not None, why
    assert spirv_val(theirs, "opencl1.2") is None
    ours = link([load(p) for p in paths], LinkOptions(dce=False, spirv_metadata="full")).module
    assert ours is not None
    theirs_fns = function_names(read(theirs))
    assert len(function_names(ours)) == len(set(theirs_fns)) < len(theirs_fns)


# -- (b) glslang --no-link libraries with overloads -----------------------------------------

def float_shader(*, names_and_linkage: str, types: str, declarations: str = "",
                 local_vars: str = "", body: str, interface: str = "") -> str:
    """A compute shader doing `buf[i] = %r` where `body` computes %r from %x = buf[i]
    (binding 0, 64 invocations a group); the caller adds its types, imports and code."""
    return f"""
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main" %gid %data{interface}
OpExecutionMode %main LocalSize 64 1 1
{names_and_linkage}
OpDecorate %gid BuiltIn GlobalInvocationId
OpDecorate %rta ArrayStride 4
OpMemberDecorate %buf 0 Offset 0
OpDecorate %buf Block
OpDecorate %data DescriptorSet 0
OpDecorate %data Binding 0
%void = OpTypeVoid
%uint = OpTypeInt 32 0
%float = OpTypeFloat 32
%uint_0 = OpConstant %uint 0
%v3uint = OpTypeVector %uint 3
%ptr_in = OpTypePointer Input %v3uint
%gid = OpVariable %ptr_in Input
%rta = OpTypeRuntimeArray %float
%buf = OpTypeStruct %rta
%ptr_sb = OpTypePointer StorageBuffer %buf
%ptr_f = OpTypePointer StorageBuffer %float
%data = OpVariable %ptr_sb StorageBuffer
%vfn = OpTypeFunction %void
{types}
{declarations}
%main = OpFunction %void None %vfn
%e = OpLabel
{local_vars}
%g = OpLoad %v3uint %gid
%i = OpCompositeExtract %uint %g 0
%pe = OpAccessChain %ptr_f %data %uint_0 %i
%x = OpLoad %float %pe
{body}
OpStore %pe %r
OpReturn
OpFunctionEnd
"""


OVERLOAD_USER = float_shader(
    names_and_linkage="""
OpDecorate %f_vec2 LinkageAttributes "f" Import
OpDecorate %f_float LinkageAttributes "f" Import""",
    types="""
%one = OpConstant %float 1
%v2float = OpTypeVector %float 2
%ptr_fn_v2 = OpTypePointer Function %v2float
%ptr_fn_f = OpTypePointer Function %float
%fn_v2 = OpTypeFunction %float %ptr_fn_v2
%fn_f = OpTypeFunction %float %ptr_fn_f""",
    declarations="""
%f_vec2 = OpFunction %float None %fn_v2
%pv = OpFunctionParameter %ptr_fn_v2
OpFunctionEnd
%f_float = OpFunction %float None %fn_f
%pf = OpFunctionParameter %ptr_fn_f
OpFunctionEnd""",
    local_vars="""
%tv = OpVariable %ptr_fn_v2 Function
%tf = OpVariable %ptr_fn_f Function""",
    body="""
%v = OpCompositeConstruct %v2float %x %one
OpStore %tv %v
%a = OpFunctionCall %float %f_vec2 %tv
OpStore %tf %x
%b = OpFunctionCall %float %f_float %tf
%r = OpFAdd %float %a %b""")

# An import of f whose type no overload has: f(int*) -> int.
NO_MATCH_USER = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %f LinkageAttributes "f" Import
%int = OpTypeInt 32 1
%ptr = OpTypePointer Function %int
%fn = OpTypeFunction %int %ptr
%f = OpFunction %int None %fn
%p = OpFunctionParameter %ptr
OpFunctionEnd
"""

OVERLOAD_INPUT = np.arange(256, dtype=np.float32)


def overload_expected(x: np.ndarray) -> np.ndarray:
    return (x * 3 + 1) + (x * 2 + 1)  # f(vec2(x, 1)) + f(x); exact in float32


def test_glslang_overloads_import_picks_the_matching_type(
        build: Callable[[str, str], Path]) -> None:
    """Two imports of "f", one `float(vec2*)`, one `float(float*)`, against the two exports
    of "f" in one glslang library: each binds to the export whose type matches; the output
    validates for Vulkan 1.2.

    spirv-link refuses: GetImportExportPairs reports `Too many external references, 2,
    were found for "f"` (matching_imports_to_exports_test.cpp, SameNameDifferentTypes):
    a deliberate difference, overloads are what glslang --no-link emits.
    """
    lib = build("overloads.comp", "glslang")
    r = link([asm(OVERLOAD_USER, "user.spv"), load(lib, "lib.spv")])
    assert r.module is not None
    assert_valid(r.module, "vulkan1.2")
    assert len(function_names(r.module)) == 3  # main and the two overloads
    user = lib.parent / "overload_user.spv"
    user.write_bytes(spirv_as(OVERLOAD_USER))
    theirs, why = spirv_link([user, lib])
    assert theirs is None and "Too many external references" in why


@needs_vulkan
def test_glslang_overloads_run(build: Callable[[str, str], Path]) -> None:
    lib = build("overloads.comp", "glslang")
    r = link([load(lib, "lib.spv"), asm(OVERLOAD_USER, "user.spv")])
    assert r.module is not None
    out = vkrun.run_compute(write(r.module), "main", [OVERLOAD_INPUT.copy()], groups=(4, 1, 1))
    got = np.frombuffer(out[0], dtype=np.float32)
    assert got.tolist() == overload_expected(OVERLOAD_INPUT).tolist()


def test_glslang_overloads_no_match_names_every_candidate(
        build: Callable[[str, str], Path]) -> None:
    """An import of "f" that matches neither overload: TypeMismatch naming the symbol, the
    importer and both candidates with their file."""
    lib = build("overloads.comp", "glslang")
    with pytest.raises(LinkError) as info:
        link([asm(NO_MATCH_USER, "user.spv"), load(lib, "lib.spv")],
             LinkOptions(create_library=True))
    found = [e for e in all_errors(info.value) if isinstance(e, TypeMismatch)]
    assert found, str(info.value)
    text = text_of(found[0])
    assert '"f"' in found[0].message and "user.spv" in text
    assert sum("lib.spv" in line for line in found[0].notes) >= 2, text


def test_glslang_identical_libraries_merge_silently(build: Callable[[str, str], Path]) -> None:
    """The same library twice (as two objects): every "f" has two structurally identical
    definitions; they merge (LinkOnceODR), with no warning, and the importer links."""
    lib = build("overloads.comp", "glslang")
    r = link([asm(OVERLOAD_USER, "user.spv"), load(lib, "a.spv"), load(lib, "b.spv")])
    assert r.module is not None
    assert_valid(r.module, "vulkan1.2")
    assert len(function_names(r.module)) == 3
    assert r.warnings == [], [w.message for w in r.warnings]


def test_glslang_same_type_other_body_imported_is_duplicate_export(
        build: Callable[[str, str], Path]) -> None:
    """`float f(float)` from overloads.comp and from other_f.comp: same name and type,
    different bodies. Imported: DuplicateExport naming both files. Not imported (a
    library link): both kept, with a warning naming the symbol (spirv-link keeps both
    silently)."""
    a = build("overloads.comp", "glslang")
    b = build("other_f.comp", "glslang")
    with pytest.raises(LinkError) as info:
        link([asm(OVERLOAD_USER, "user.spv"), load(a, "lib.spv"), load(b, "other.spv")])
    found = [e for e in all_errors(info.value) if isinstance(e, DuplicateExport)]
    assert found, str(info.value)
    assert '"f"' in found[0].message
    assert "lib.spv" in text_of(found[0]) and "other.spv" in text_of(found[0])

    r = link([load(a, "lib.spv"), load(b, "other.spv")], LinkOptions(create_library=True))
    assert r.module is not None
    assert dis(r.module).count('LinkageAttributes "f" Export') == 3
    assert any('"f"' in w.message or " f " in w.message for w in r.warnings), \
        [w.message for w in r.warnings]


# -- (c) opaque pointers from Intel's llvm-spirv --------------------------------------------


@needs_intel
def test_intel_opaque_pointer_import_needs_allow_pointer_mismatch(
        build: Callable[[str, str], Path]) -> None:
    """Intel's llvm-spirv declares `apply` with `uchar*` parameters where the definition
    takes `params_t*` and `float*`. Without the option: TypeMismatch for "apply". With
    allow_pointer_mismatch: linked (OpBitcast where the call needs the other type),
    validated for OpenCL 2.0 and 1.2, read back by llvm-spirv-14. The definition says
    DontInline, the declaration None: an inlining hint, silent.

    Rule: spirv-link --allow-pointer-mismatch, "Allow pointer function parameters to
    mismatch the target link target. This is useful to workaround lost correct parameter
    type information due to LLVM's opaque pointers" (SPIRV-Tools #5534); SPIR-V 2.13:
    "the Function Control and all Function Parameter Attributes are taken from the
    function definition, and not from the function declaration".
    """
    user = build("opaque_user.cl", "intel")
    lib = build("opaque_lib.cl", "intel")
    assert "OpTypePointer CrossWorkgroup %uchar" in dis(load(user)), "no i8 pointee: " \
        "the producer changed"
    with pytest.raises(LinkError) as info:
        link([load(user, "user.spv"), load(lib, "lib.spv")])
    found = [e for e in all_errors(info.value) if isinstance(e, TypeMismatch)]
    assert found and '"apply"' in found[0].message, str(info.value)
    assert "user.spv" in text_of(found[0]) and "lib.spv" in text_of(found[0])

    r = link([load(user, "user.spv"), load(lib, "lib.spv")],
             LinkOptions(allow_pointer_mismatch=True))
    assert r.module is not None
    for env in ("opencl2.0", "opencl1.2"):
        assert_valid(r.module, env)
    assert "OpBitcast" in dis(r.module)
    assert not [w for w in r.warnings if "control" in w.message], \
        [w.message for w in r.warnings]
    out = lib.parent / "intel-linked.spv"
    out.write_bytes(write(r.module))
    if shutil.which("llvm-spirv-14"):
        run(["llvm-spirv-14", "-r", str(out), "-o", str(out.with_suffix(".bc"))])


@needs_intel
def test_intel_opaque_pointer_cli_flag(build: Callable[[str, str], Path],
                                       tmp_path: Path) -> None:
    """The same through the command line: refused (exit 1, one error line naming "apply")
    without --allow-pointer-mismatch, linked with it."""
    import sys

    user = build("opaque_user.cl", "intel")
    lib = build("opaque_lib.cl", "intel")
    out = tmp_path / "out.spv"
    cmd = [sys.executable, "-m", "spvlink", "link", "--target-env", "opencl2.0", str(user), str(lib),
           "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "error:" in r.stderr and "apply" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    r = subprocess.run([*cmd, "--allow-pointer-mismatch"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert spirv_val(out.read_bytes(), "opencl2.0") is None


# -- (d) an imported float[3] and a function taking a struct with an array ------------------

ARRAY_LIB = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpName %S "Params"
OpDecorate %weights LinkageAttributes "weights" Export
OpDecorate %sum3 LinkageAttributes "sum3" Export
%float = OpTypeFloat 32
%uint = OpTypeInt 32 0
%n3 = OpConstant %uint 3
%arr = OpTypeArray %float %n3
%S = OpTypeStruct %arr %float
%ptr_priv_arr = OpTypePointer Private %arr
%ptr_fn_S = OpTypePointer Function %S
%ptr_fn_float = OpTypePointer Function %float
%f1 = OpConstant %float 1
%f2 = OpConstant %float 2
%f4 = OpConstant %float 4
%init = OpConstantComposite %arr %f1 %f2 %f4
%weights = OpVariable %ptr_priv_arr Private %init
%fn = OpTypeFunction %float %ptr_fn_S
%c0 = OpConstant %uint 0
%c1 = OpConstant %uint 1
%c2 = OpConstant %uint 2
%sum3 = OpFunction %float None %fn
%s = OpFunctionParameter %ptr_fn_S
%l = OpLabel
%p0 = OpAccessChain %ptr_fn_float %s %c0 %c0
%p1 = OpAccessChain %ptr_fn_float %s %c0 %c1
%p2 = OpAccessChain %ptr_fn_float %s %c0 %c2
%pk = OpAccessChain %ptr_fn_float %s %c1
%v0 = OpLoad %float %p0
%v1 = OpLoad %float %p1
%v2 = OpLoad %float %p2
%k = OpLoad %float %pk
%a = OpFAdd %float %v0 %v1
%b = OpFAdd %float %a %v2
%r = OpFMul %float %b %k
OpReturnValue %r
OpFunctionEnd
"""

# Its own float[3] (length constant declared late, after a float[4] of its own), its own
# struct, imports of both symbols used through those types.
ARRAY_USER = float_shader(
    interface=" %w",
    names_and_linkage="""
OpName %Sm "Input"
OpDecorate %w LinkageAttributes "weights" Import
OpDecorate %sum LinkageAttributes "sum3" Import""",
    types="""
%four = OpConstant %uint 4
%arr4 = OpTypeArray %float %four
%two_i = OpConstant %uint 2
%three = OpConstant %uint 3
%arr3 = OpTypeArray %float %three
%Sm = OpTypeStruct %arr3 %float
%two = OpConstant %float 2
%ptr_priv_arr3 = OpTypePointer Private %arr3
%ptr_priv_f = OpTypePointer Private %float
%w = OpVariable %ptr_priv_arr3 Private
%ptr_fn_Sm = OpTypePointer Function %Sm
%fn = OpTypeFunction %float %ptr_fn_Sm""",
    declarations="""
%sum = OpFunction %float None %fn
%sp = OpFunctionParameter %ptr_fn_Sm
OpFunctionEnd""",
    local_vars="%sv = OpVariable %ptr_fn_Sm Function",
    body="""
%warr = OpLoad %arr3 %w
%w1 = OpCompositeExtract %float %warr 1
%a = OpCompositeConstruct %arr3 %x %w1 %x
%st = OpCompositeConstruct %Sm %a %two
OpStore %sv %st
%s = OpFunctionCall %float %sum %sv
%pw2 = OpAccessChain %ptr_priv_f %w %two_i
%w2 = OpLoad %float %pw2
%r = OpFAdd %float %s %w2""")

ARRAY_INPUT = np.arange(256, dtype=np.float32)


def array_expected(x: np.ndarray) -> np.ndarray:
    # sum3({x, weights[1], x}, k=2) + weights[2] with weights = {1, 2, 4}: exact in float32.
    return (x + 2 + x) * 2 + 4


@pytest.mark.parametrize("user_first", [True, False])
def test_imported_array_variable_and_struct_parameter_validate(user_first: bool) -> None:
    """The user's float[3] (its own length constant) is the library's float[3], so are
    the structs holding it: loads and the call type-check after linking, in either input
    order. spirv-link links the same inputs, and its output validates too."""
    mods = [asm(ARRAY_USER, "user.spv"), asm(ARRAY_LIB, "lib.spv")]
    r = link(mods if user_first else mods[::-1])
    assert r.module is not None
    assert_valid(r.module, "vulkan1.2")
    text = dis(r.module)
    assert text.count("OpTypeArray %float") == 1, text  # float[4] is unused: gone


@needs_vulkan
def test_imported_array_variable_and_struct_parameter_run() -> None:
    r = link([asm(ARRAY_USER, "user.spv"), asm(ARRAY_LIB, "lib.spv")])
    assert r.module is not None
    out = vkrun.run_compute(write(r.module), "main", [ARRAY_INPUT.copy()], groups=(4, 1, 1))
    got = np.frombuffer(out[0], dtype=np.float32)
    assert got.tolist() == array_expected(ARRAY_INPUT).tolist()


def test_imported_array_same_verdict_as_spirv_link(tmp_path: Path) -> None:
    """Rule: spirv-link merges arrays whose length constants come from different modules
    (its TypeManager compares an array's length by the constant's value words)."""
    paths = []
    for name, text in (("user", ARRAY_USER), ("lib", ARRAY_LIB)):
        p = tmp_path / f"{name}.spv"
        p.write_bytes(spirv_as(text))
        paths.append(p)
    theirs, why = spirv_link(paths)
    assert theirs is not None, why
    assert spirv_val(theirs, "vulkan1.2") is None
