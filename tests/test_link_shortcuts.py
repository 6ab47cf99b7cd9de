"""The linker's shortcuts for the common case, each against the general path it skips.

- Dead function bodies left out before the merge copies them (`link/prune.py`): it may only
  drop what dead-code elimination drops anyway.
- Imports bound all at once when every check would pass without a word
  (`symbols._Resolver._bind_plain_imports`): the same bindings as one by one.

So the tests are differential: every link gives the same result with the shortcut and
without it (the same bytes, the same warnings, the same error), on hand-written libraries,
on corpus modules from every producer in random groups and options, and on generated
library sets and the bench's programs. Unit tests show each shortcut does take effect, so
that the differential tests are not comparing a no-op with itself.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import spvlink.link as link_package
from helpers import asm, assert_valid, spirv_val
from spvlink.binary import read, write
from spvlink.errors import SpvError
from spvlink.ir import Module
from spvlink.link import LinkOptions, link, symbols
from spvlink.link.merge import lay_out
from spvlink.link.prune import dead_function_bodies
from spvlink.spec import Op
from test_module_ops import corpus_module, names_by_memory_model

ROOT = Path(__file__).resolve().parent.parent

HEAD = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
"""
TYPES = """
%void = OpTypeVoid
%uint = OpTypeInt 32 0
%uint_1 = OpConstant %uint 1
%fn_uu = OpTypeFunction %uint %uint
"""

TWICE = """
%twice = OpFunction %uint None %fn_uu
%ta = OpFunctionParameter %uint
%tl = OpLabel
OpReturnValue %ta
OpFunctionEnd
"""

# A library: `used` is what the program calls; `unused` (and the local `helper` only it
# calls) nothing calls; `twice` is exported by both libraries, so import resolution compares
# the two definitions and both must stay whole until it has.
LIBRARY = HEAD + """
OpName %helper "helper"
OpName %hx "hx"
OpDecorate %used LinkageAttributes "used" Export
OpDecorate %unused LinkageAttributes "unused" Export
OpDecorate %twice LinkageAttributes "twice" Export
OpDecorate %hx RelaxedPrecision
""" + TYPES + """
%helper = OpFunction %uint None %fn_uu
%ha = OpFunctionParameter %uint
%hl = OpLabel
%hx = OpIAdd %uint %ha %uint_1
OpReturnValue %hx
OpFunctionEnd
%used = OpFunction %uint None %fn_uu
%ua = OpFunctionParameter %uint
%ul = OpLabel
%ux = OpIMul %uint %ua %ua
OpReturnValue %ux
OpFunctionEnd
%unused = OpFunction %uint None %fn_uu
%na = OpFunctionParameter %uint
%nl = OpLabel
%nx = OpFunctionCall %uint %helper %na
OpReturnValue %nx
OpFunctionEnd
""" + TWICE
OTHER_LIBRARY = HEAD + """
OpDecorate %twice LinkageAttributes "twice" Export
""" + TYPES + TWICE
PROGRAM = """
OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 1 1 1
OpDecorate %used LinkageAttributes "used" Import
""" + TYPES + """
%fn_v = OpTypeFunction %void
%used = OpFunction %uint None %fn_uu
%p = OpFunctionParameter %uint
OpFunctionEnd
%main = OpFunction %void None %fn_v
%ml = OpLabel
%r = OpFunctionCall %uint %used %uint_1
OpReturn
OpFunctionEnd
"""


def _no_dead_bodies(m: Module, *, library: bool) -> None:
    return None


def _no_plain_imports(self: Any) -> set[int]:
    return set()


# Each shortcut, and how to turn it off: (owner, attribute, the general path's stand-in).
SHORTCUTS = {
    "prune": (link_package, "dead_function_bodies", _no_dead_bodies),
    "plain imports": (symbols._Resolver, "_bind_plain_imports", _no_plain_imports),
}


@contextlib.contextmanager
def without(shortcut: str) -> Iterator[None]:
    """The link as it is without `shortcut`."""
    owner, attribute, stand_in = SHORTCUTS[shortcut]
    saved = getattr(owner, attribute)
    setattr(owner, attribute, stand_in)
    try:
        yield
    finally:
        setattr(owner, attribute, saved)


def outcome(modules: list[Module], options: LinkOptions) -> tuple[Any, ...]:
    """Everything a link's caller sees: the bytes of each output and the warnings, or the
    error."""
    try:
        r = link(modules, options)
    except SpvError as exc:
        return ("error", type(exc).__name__, str(exc))
    outputs = [write(r.module)] if r.module is not None else []
    outputs += [(name, write(m)) for name, m in sorted(r.modules.items())]
    return ("ok", outputs, [str(w) for w in r.warnings], r.entry_points,
            sorted(r.export_names.items(), key=repr))


def assert_same_with_and_without(modules: list[Module], options: LinkOptions
                                 ) -> tuple[Any, ...]:
    """The outcome with every shortcut, checked against the outcome without each."""
    got = outcome(modules, options)
    for shortcut in SHORTCUTS:
        with without(shortcut):
            assert outcome(modules, options) == got, f"without {shortcut}"
    return got


def test_unused_bodies_go_and_declarations_stay() -> None:
    """`unused` and the `helper` only it calls lose their bodies (and the names and
    decorations of their ids); `used`, both `twice`s and `main` stay whole, and every
    function keeps its OpFunction, parameters and OpFunctionEnd."""
    mods = [asm(LIBRARY, "lib.spv"), asm(OTHER_LIBRARY, "other.spv"), asm(PROGRAM, "main.spv")]
    joined = lay_out(list(mods), use_highest_version=True, generator=0).joined
    dead = dead_function_bodies(joined, library=False)
    assert dead is not None
    names = {int(joined.words[joined.starts[i] + 1]): joined.inst_words(int(i))
             for i in joined.indices_of(Op.Name)}
    by_name = {bytes(np.array(ws[2:], dtype="<u4").tobytes()).split(b"\0")[0].decode(): t
               for t, ws in names.items()}
    fn_of = {int(joined.result_ids[i]): i for i in joined.indices_of(Op.Function)}

    def body_dead(fn_id: int) -> list[bool]:
        i = fn_of[fn_id]
        end = int(np.flatnonzero(joined.opcodes[i:] == Op.FunctionEnd)[0]) + i
        return dead[i:end + 1].tolist()

    helper = by_name["helper"]
    # OpFunction, OpFunctionParameter stay; label, add, return go; OpFunctionEnd stays.
    assert body_dead(helper) == [False, False, True, True, True, False]
    # Its body's names and decorations go with it (%hx: OpName, RelaxedPrecision).
    hx = by_name["hx"]
    targets = joined.words[np.minimum(joined.starts + 1, joined.words.size - 1)]
    about_hx = np.flatnonzero((targets == hx) & ((joined.opcodes == Op.Name)
                                                 | (joined.opcodes == Op.Decorate)))
    assert about_hx.size == 2 and dead[about_hx].all()
    # Nothing else outside functions goes.
    assert not dead[(joined.opcodes != Op.Name) & (joined.opcodes != Op.Decorate)
                    & (np.cumsum(joined.opcodes == Op.Function) == 0)].any()
    dead_bodies = sorted(fid for fid in fn_of if any(body_dead(fid)))
    assert len(dead_bodies) == 2  # helper and unused; never used, twice or main
    # In a library every export is a root: only nothing is dead there.
    assert dead_function_bodies(joined, library=True) is None

    got = assert_same_with_and_without(mods, LinkOptions(verify=True))
    assert got[0] == "ok"
    assert_valid(link(mods, LinkOptions()).module, "vulkan1.2")


@pytest.mark.parametrize("options", [
    {}, {"create_library": True}, {"module_output": "per-entry-point"},
    {"dce": False}, {"spirv_metadata": "full", "debuginfo": True},
    {"allow_partial_linkage": True},
], ids=repr)
def test_hand_written_libraries_link_the_same(options: dict[str, Any]) -> None:
    mods = [asm(LIBRARY, "lib.spv"), asm(OTHER_LIBRARY, "other.spv"), asm(PROGRAM, "main.spv")]
    assert_same_with_and_without(mods, LinkOptions(verify=True, **options))
    # The two definitions of `twice` differ: the resolver must still see both bodies.
    different = OTHER_LIBRARY.replace("OpReturnValue %ta", "%tx = OpIAdd %uint %ta %uint_1\n"
                                      "OpReturnValue %tx")
    mods[1] = asm(different, "other.spv")
    assert_same_with_and_without(mods, LinkOptions(verify=True, **options))


OPTION_SETS = [
    {}, {"create_library": True, "allow_partial_linkage": True},
    {"allow_partial_linkage": True}, {"module_output": "per-entry-point"},
    {"spirv_metadata": "full", "debuginfo": True}, {"preserve_bindings": True},
]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_corpus_groups_link_the_same(data: st.DataObject) -> None:
    """Corpus modules of every producer (glslang, clang + llvm-spirv, assembly), in random
    groups with repeats (repeated exports meet), under varied options: the same outcome,
    error or bytes, with the pass and without it."""
    group = data.draw(st.sampled_from(names_by_memory_model()))
    names = data.draw(st.lists(st.sampled_from(group), min_size=1, max_size=4))
    options = data.draw(st.sampled_from(OPTION_SETS))
    mods = [corpus_module(n) for n in names]
    assume(not any((m.opcodes == Op.DecorationGroup).any() for m in mods))
    assert_same_with_and_without(mods, LinkOptions(**options))


def _bench_workload(kind: str, n: int, out: Path) -> list[Module]:
    for p in (ROOT / "bench", ROOT / "tools"):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    import workloads

    w = workloads.generate(kind, n, out, seed=3)
    return [read(p.read_bytes(), source=p.name) for p in w.inputs]


@pytest.mark.parametrize("kind", ["chain", "wide"])
def test_bench_programs_link_the_same(kind: str, tmp_path: Path) -> None:
    """The bench's generated programs, where most exports are never called (chain) or every
    function is some entry point's (wide): the same bytes, single and per entry point."""
    mods = _bench_workload(kind, 12, tmp_path)
    for options in ({}, {"module_output": "per-entry-point"}, {"create_library": True}):
        got = assert_same_with_and_without(mods, LinkOptions(verify=True, **options))
        assert got[0] == "ok"
    if kind == "chain":
        joined = lay_out(list(mods), use_highest_version=True, generator=0).joined
        dead = dead_function_bodies(joined, library=False)
        assert dead is not None and dead.any()


NAMES = [f"f{k}" for k in range(6)]


@st.composite
def library_sets(draw: st.DrawFn) -> list[str]:
    """Libraries exporting functions (some LinkOnceODR, some names in two libraries with
    the same or another body), each function calling nothing, a local helper, one of its
    own functions or an imported one; and a program whose entry point calls some of them."""
    texts = []
    for lib in range(draw(st.integers(1, 3))):
        defined = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
        linkonce = {n for n in defined if draw(st.booleans()) and draw(st.booleans())}
        helper = draw(st.booleans())
        bodies, imports, consts = [], set(), set()
        for name in defined:
            c = draw(st.integers(1, 2))  # a small range: equal bodies in two libraries
            consts.add(c)
            callee = draw(st.sampled_from([None, "@helper", *NAMES]))
            if callee == "@helper" and not helper:
                callee = None
            lines = [f"%f_{name} = OpFunction %uint None %fn_uu",
                     f"%a_{name} = OpFunctionParameter %uint", f"%l_{name} = OpLabel",
                     f"%x_{name} = OpIAdd %uint %a_{name} %c_{c}"]
            result = f"%x_{name}"
            if callee is not None:
                target = "%helper" if callee == "@helper" else f"%f_{callee}"
                if callee != "@helper" and callee not in defined:
                    imports.add(callee)
                lines.append(f"%y_{name} = OpFunctionCall %uint {target} %x_{name}")
                result = f"%y_{name}"
            lines += [f"OpReturnValue {result}", "OpFunctionEnd"]
            bodies.append("\n".join(lines))
        if helper:
            consts.add(1)
            bodies.insert(0, "%helper = OpFunction %uint None %fn_uu\n%ha = OpFunctionParameter"
                          " %uint\n%hl = OpLabel\n%hx = OpIMul %uint %ha %c_1\n"
                          "OpReturnValue %hx\nOpFunctionEnd")
        decls = [f"%f_{n} = OpFunction %uint None %fn_uu\n%p_{n} = OpFunctionParameter %uint\n"
                 "OpFunctionEnd" for n in sorted(imports)]
        decorate = [f'OpDecorate %f_{n} LinkageAttributes "{n}" '
                    f'{"LinkOnceODR" if n in linkonce else "Export"}' for n in defined]
        decorate += [f'OpDecorate %f_{n} LinkageAttributes "{n}" Import' for n in sorted(imports)]
        texts.append("\n".join([
            "OpCapability Shader", "OpCapability Linkage",
            *(["OpExtension \"SPV_KHR_linkonce_odr\""] if linkonce else []),
            "OpMemoryModel Logical GLSL450", f'OpName %f_{defined[0]} "first{lib}"',
            *decorate, "%uint = OpTypeInt 32 0",
            *(f"%c_{c} = OpConstant %uint {c}" for c in sorted(consts)),
            "%fn_uu = OpTypeFunction %uint %uint", *decls, *bodies]))
    called = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
    texts.append("\n".join([
        "OpCapability Shader", "OpCapability Linkage", "OpMemoryModel Logical GLSL450",
        'OpEntryPoint GLCompute %main "main"', "OpExecutionMode %main LocalSize 1 1 1",
        *(f'OpDecorate %f_{n} LinkageAttributes "{n}" Import' for n in called),
        "%void = OpTypeVoid", "%uint = OpTypeInt 32 0", "%c_1 = OpConstant %uint 1",
        "%fn_uu = OpTypeFunction %uint %uint", "%fn_v = OpTypeFunction %void",
        *(f"%f_{n} = OpFunction %uint None %fn_uu\n%p_{n} = OpFunctionParameter %uint\n"
          "OpFunctionEnd" for n in called),
        "%main = OpFunction %void None %fn_v", "%ml = OpLabel",
        *(f"%r_{n} = OpFunctionCall %uint %f_{n} %c_1" for n in called),
        "OpReturn", "OpFunctionEnd"]))
    return texts


@settings(max_examples=120, deadline=None)
@given(library_sets(), st.sampled_from(OPTION_SETS[:4]))
def test_generated_libraries_link_the_same(texts: list[str], options: dict[str, Any]) -> None:
    """Random libraries and programs (calls across modules and within them, unused
    exports, exports defined twice, LinkOnceODR, unresolved names): the same outcome with
    the pass and without it; and a valid module whenever the link succeeds."""
    mods = [asm(t, f"m{k}.spv") for k, t in enumerate(texts)]
    got = assert_same_with_and_without(mods, LinkOptions(verify=True, **options))
    if got[0] == "ok" and not options:
        for out in got[1]:
            assert spirv_val(out, "spv1.5") is None


def _resolver(texts: list[str]) -> symbols._Resolver:
    mods = [asm(t, f"m{k}.spv") for k, t in enumerate(texts)]
    laid = lay_out(mods, use_highest_version=True, generator=0)
    from spvlink.link.dedup import deduplicate

    m = deduplicate(laid.merged())
    return symbols._Resolver(m, lambda i: "?", allow_pointer_mismatch=False)


def test_plain_imports_bound_at_once_and_the_rest_one_by_one() -> None:
    """`used` (one definition, its type, nothing decorated) is bound by the shortcut; with a
    decoration on the declaration's parameter it is left to the general path, which warns
    (SPIR-V 2.13: the definition's parameter attributes are taken), and the link says so."""
    r = _resolver([LIBRARY, PROGRAM])
    assert r._bind_plain_imports() == {0}
    assert r.canon[r.imports[0].target] == r.exports["used"][0].target
    decorated = PROGRAM.replace('OpDecorate %used LinkageAttributes "used" Import',
                                'OpDecorate %used LinkageAttributes "used" Import\n'
                                'OpDecorate %p RelaxedPrecision')
    assert _resolver([LIBRARY, decorated])._bind_plain_imports() == set()
    got = assert_same_with_and_without([asm(LIBRARY, "lib.spv"), asm(decorated, "main.spv")],
                                       LinkOptions(verify=True))
    assert got[0] == "ok" and any("parameter 0" in w for w in got[2]), got[2]
