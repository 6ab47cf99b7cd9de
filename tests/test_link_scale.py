"""Linear scaling, checked by counting work (function calls), never by wall-clock time."""

from __future__ import annotations

import sys
from typing import Any

from helpers import asm
from spvlink.ir import Module
from spvlink.link import LinkOptions, link


def chain_module(k: int) -> str:
    """Library module k: exports f_k, which calls the imported f_{k-1}."""
    imports = "" if k == 0 else f'OpDecorate %prev LinkageAttributes "f_{k - 1}" Import\n'
    prev_decl = "" if k == 0 else """%prev = OpFunction %uint None %fn
%pp = OpFunctionParameter %uint
OpFunctionEnd
"""
    call = "%y = OpIAdd %uint %x %c\n" if k == 0 else "%t = OpFunctionCall %uint %prev %x\n%y = OpIAdd %uint %t %c\n"
    return f"""OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
OpDecorate %f LinkageAttributes "f_{k}" Export
{imports}%uint = OpTypeInt 32 0
%c = OpConstant %uint {k + 1}
%fn = OpTypeFunction %uint %uint
{prev_decl}%f = OpFunction %uint None %fn
%x = OpFunctionParameter %uint
%l = OpLabel
{call}OpReturnValue %y
OpFunctionEnd
"""


def chain(n: int) -> list[Module]:
    return [asm(chain_module(k), f"c{k}.spv") for k in range(n)]


def count_calls(modules: list[Module]) -> int:
    calls = 0

    def profiler(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profiler)
    try:
        link(modules, LinkOptions(create_library=True))
    finally:
        sys.setprofile(None)
    return calls


def test_link_work_grows_linearly() -> None:
    small, large = chain(40), chain(160)
    count_calls(small)  # warm the process-wide caches (grammar, layouts)
    a = count_calls(small)
    b = count_calls(large)
    # 4x the modules: linear work is about 4x; quadratic would be about 16x.
    assert b / a < 4.6, (a, b)


def test_chain_links_and_dedups() -> None:
    r = link(chain(30), LinkOptions(create_library=True))
    assert r.module is not None
    from helpers import assert_valid, dis

    assert_valid(r.module, "spv1.5")
    text = dis(r.module)
    assert text.count("OpTypeInt 32 0") == 1
    assert text.count("Import") == 0
