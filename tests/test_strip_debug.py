"""The native `--eliminate-dead-const --strip-debug` (link/strip_debug.py) against spirv-opt's.

On every corpus module and on bench workloads, spvlink's linked output *before* stripping is
given to both: `spirv-opt --eliminate-dead-const --strip-debug` (the order in which Rust-GPU's
`link.rs` registers them: `.register_pass(EliminateDeadConstant).register_pass(StripDebugInfo)`)
and `strip_debug`. The results must be the same instruction multiset after id canonicalisation
(both compacted: ids renumbered 1..n by first appearance; spirv-opt keeps instruction order and
ids, so the same instructions get the same numbers), and the native result must validate.

Differences found and written down (each where spirv-opt gives no valid module):
- A constant used only as an OpDecorateId operand (corpus decorate_id*.spv: `OpDecorateId %p
  AlignmentId %uint_16`): EliminateDeadConstant counts annotation uses as no uses, kills the
  constant and leaves the decoration naming an undefined id, which spirv-val rejects ("forward
  referenced IDs have not been defined"). The native pass keeps such constants; the test
  checks that those constants are the whole difference and that spirv-opt's result is invalid.
- Modules with debug-info OpExtInsts (glslang `-gVS`; the linker keeps them unless it
  strips): spirv-opt 2025.5 aborts (SIGSEGV/SIGABRT) writing DebugScope through the debug
  list it has just emptied, on every such module here (the test checks that it fails). There
  is no output of its to compare with; the native pass removes the debug information whole
  (instructions, imports, the OpStrings only it used) and its result validates.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from helpers import CORPUS, ROOT, asm, spirv_val, tool
from spvlink.binary import read, write
from spvlink.ir import Module
from spvlink.link import LinkOptions, link
from spvlink.link.finish import compact_ids
from spvlink.link.strip_debug import CONSTANTS, strip_debug, strip_debug_keep

MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text())
LINKABLE = [e for e in MANIFEST if "linkage" not in e["file"]]
PASSES = ["--eliminate-dead-const", "--strip-debug"]
CONSTANT_OPS = {int(op) for op in CONSTANTS}


def _spirv_opt(data: bytes, passes: list[str] = PASSES) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([tool("spirv-opt"), *passes, "--skip-validation", "-", "-o", "-"],
                          input=data, capture_output=True, timeout=300)


def _canonical(m: Module) -> Counter[tuple[int, ...]]:
    c = compact_ids(m)
    return Counter(tuple(c.inst_words(i)) for i in range(len(c)))


def _differences(ours: Module, theirs: Module) -> str:
    a, b = _canonical(ours), _canonical(theirs)
    if a == b:
        return ""
    only_ours = list((a - b).elements())[:5]
    only_theirs = list((b - a).elements())[:5]
    return f"only native: {only_ours}; only spirv-opt: {only_theirs}"


def _debug_info_sets(m: Module) -> list[int]:
    from spvlink.grammar import DEBUG_INFO_SETS
    from spvlink.ir import decode_string

    return [m.inst_words(i)[1] for i in m.indices_of(11).tolist()  # OpExtInstImport
            if decode_string(m.inst_words(i)[2:]) in DEBUG_INFO_SETS]


def _uses_debug_info(m: Module) -> bool:
    sets = _debug_info_sets(m)
    return any(m.inst_words(i)[3] in sets for i in m.indices_of(12).tolist())  # OpExtInst


def _compare(unstripped: Module, env: str, what: str) -> None:
    data = write(unstripped)
    native = strip_debug(unstripped)
    msg = spirv_val(write(native), env)
    assert msg is None, f"{what}: native result invalid: {msg}"
    r = _spirv_opt(data)
    if _uses_debug_info(unstripped):
        # Written down above: spirv-opt dies on these; nothing to compare with.
        assert r.returncode != 0, f"{what}: spirv-opt now handles debug info"
        assert not _debug_info_sets(native), what
        return
    assert r.returncode == 0, f"{what}: spirv-opt failed: {r.stderr.decode()}"
    theirs = read(r.stdout, source="spirv-opt")
    extra = _decorate_id_constants(native)
    if extra:
        assert spirv_val(r.stdout, env) is not None, f"{what}: spirv-opt now keeps them"
        a, b = _canonical(native), _canonical(theirs)
        assert not b - a, f"{what}: only spirv-opt: {list((b - a).elements())[:5]}"
        kept = a - b
        assert all(w[0] & 0xFFFF in CONSTANT_OPS for w in kept.elements()), what
        ids = {w[2] for w in kept.elements()}
        assert ids <= _decorate_id_operands(compact_ids(native)), f"{what}: {kept}"
        return
    diff = _differences(native, theirs)
    assert not diff, f"{what}: {diff}"


def _decorate_id_operands(m: Module) -> set[int]:
    return {w for i in m.indices_of(332).tolist() for w in m.inst_words(i)[3:]}


def _decorate_id_constants(m: Module) -> set[int]:
    """Constants some OpDecorateId names as an operand."""
    rid = m.result_ids
    consts = {int(rid[i]) for i in range(len(m)) if int(m.opcodes[i]) in CONSTANT_OPS}
    return consts & _decorate_id_operands(m)


def _options(library: bool) -> list[LinkOptions]:
    base = {"create_library": library, "allow_partial_linkage": True}
    # dce=False leaves the dead constants (spvlink's DCE removes them otherwise).
    return [LinkOptions(spirv_metadata="full", debuginfo=True, **base),
            LinkOptions(spirv_metadata="full", dce=False, **base), LinkOptions(**base)]


@pytest.mark.parametrize("entry", LINKABLE, ids=[e["file"] for e in LINKABLE])
def test_corpus_module_stripped_as_spirv_opt_does(entry: dict[str, str]) -> None:
    m = read((CORPUS / "spv" / entry["file"]).read_bytes(), source=entry["file"])
    library = not m.indices_of(15).size  # OpEntryPoint
    for options in _options(library):
        out = link([m], options).module
        assert out is not None
        _compare(out, entry["target_env"], f"{entry['file']} {options}")


@pytest.mark.parametrize(("kind", "n"), [("chain", 20), ("wide", 6), ("big", 1)])
def test_bench_workload_stripped_as_spirv_opt_does(kind: str, n: int, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import workloads

    wl = workloads.generate(kind, n if kind != "big" else 1, tmp_path, seed=3)
    mods = [read(p.read_bytes(), source=p.name) for p in wl.inputs]
    for options in _options(False):
        out = link(mods, options).module
        assert out is not None
        _compare(out, "vulkan1.2", f"{kind}{n} {options}")


DEAD_CONSTANTS = """
OpCapability Shader
OpCapability Linkage
OpExtension "SPV_KHR_non_semantic_info"
%print = OpExtInstImport "NonSemantic.DebugPrintf"
OpMemoryModel Logical GLSL450
%fmt = OpString "x=%u"
%file = OpString "a.comp"
OpSource GLSL 450 %file
OpName %f "f"
OpName %c3 "three"
OpName %dead_vec "dead_vec"
OpModuleProcessed "x"
OpDecorate %c7 SpecId 7
OpDecorate %f LinkageAttributes "f" Export
%void = OpTypeVoid
%u = OpTypeInt 32 0
%v2 = OpTypeVector %u 2
%arr_len = OpConstant %u 4
%arr = OpTypeArray %u %arr_len
%c1 = OpConstant %u 1
%c2 = OpConstant %u 2
%c3 = OpConstant %u 3
%c7 = OpSpecConstant %u 7
%dead_vec = OpConstantComposite %v2 %c1 %c2
%dead_op = OpSpecConstantOp %u IAdd %c7 %c3
%live_vec = OpConstantComposite %v2 %c2 %c2
%fn = OpTypeFunction %u
%f = OpFunction %u None %fn
%l = OpLabel
OpLine %file 3 4
%x = OpCompositeExtract %u %live_vec 0
%p = OpExtInst %void %print 1 %fmt %x
OpNoLine
OpReturnValue %x
OpFunctionEnd
"""


def test_dead_constants_iterated_and_their_decorations() -> None:
    """A dead composite frees its constituents (c1, and c3 through the dead SpecConstantOp),
    the spec constant's SpecId goes with it; the array length (a use by a type) and the
    composite a function uses stay; the OpString a NonSemantic set uses stays while the
    module declares SPV_KHR_non_semantic_info (strip_debug_info_pass.cpp)."""
    m = asm(DEAD_CONSTANTS)
    out = strip_debug(m)
    from spvlink.text import disassemble

    text = disassemble(out)
    for gone in ("OpName", "OpSource", "OpModuleProcessed", "OpLine", "OpNoLine", "SpecId",
                 '"a.comp"', "OpConstant %uint 1", "OpConstant %uint 3", "OpSpecConstant"):
        assert gone not in text, gone
    for kept in ('OpString "x=%u"', "OpConstant %uint 4", "OpConstant %uint 2",
                 "OpConstantComposite", "LinkageAttributes"):
        assert kept in text, kept
    assert text.count("OpConstantComposite") == 1
    _compare(m, "spv1.5", "assembly")
    # Without the extension spirv-opt kills every OpString, used or not.
    no_ext = asm(DEAD_CONSTANTS.replace('OpExtension "SPV_KHR_non_semantic_info"\n', ""))
    assert 'OpString "x=%u"' not in disassemble(strip_debug(no_ext))
    theirs = read(_spirv_opt(write(no_ext)).stdout)
    assert not _differences(strip_debug(no_ext), theirs)


def test_keep_mask_form_equals_the_module_form() -> None:
    """The form the linker fuses into its last select gives the same module."""
    m = asm(DEAD_CONSTANTS)
    import numpy as np

    keep = strip_debug_keep(m, np.ones(len(m), dtype=bool))
    assert write(m.select(np.flatnonzero(keep))) == write(strip_debug(m))
