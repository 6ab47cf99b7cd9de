"""One regression input for each class of failure issue 11 found, written by
`python -m fuzz.classes` into tests/regressions/fuzz/ (class-*.spv|spvasm + .json).

Each is built from a corpus module or a few lines of assembly, by the same kind of edit
the campaign made when it found the class; tests/test_fuzz.py runs them through the
pipeline with its oracles, in a worker under the memory and time limits.
"""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path
from typing import Any

from .mutate import HEADER, from_words, join, split_instructions, to_words

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "spv"
OUT = ROOT / "tests" / "regressions" / "fuzz"

OP_NAME, OP_FUNCTION_END, OP_TYPE_BOOL, OP_TYPE_INT, OP_SWITCH = 5, 56, 20, 21, 251

SMALL = """OpCapability Shader
OpCapability Linkage
OpMemoryModel Logical GLSL450
%void = OpTypeVoid
%fn = OpTypeFunction %void
%uint = OpTypeInt 32 0
%f = OpFunction %void None %fn
%l = OpLabel
OpReturn
OpFunctionEnd
"""


def _corpus(name: str) -> tuple[list[int], list[list[int]]]:
    words, _ = to_words((CORPUS / name).read_bytes())
    return words[:HEADER], split_instructions(words)


def _string_words(raw: bytes) -> list[int]:
    raw = raw + b"\0" * (4 - len(raw) % 4)
    return list(struct.unpack(f"<{len(raw) // 4}I", raw))


def non_utf8_string() -> bytes:
    """Root cause 1: an OpName whose string is not UTF-8 (0xFF 0xFE), which must be kept
    as bytes and written back unchanged, in disassembly too."""
    header, insts = _corpus("linkage_exports.spv")
    at = next(k for k, i in enumerate(insts) if i[0] & 0xFFFF == OP_NAME)
    target = insts[at][1]
    body = [target, *_string_words(b"bad\xff\xfename")]
    insts.insert(at, [(len(body) + 1) << 16 | OP_NAME, *body])
    return from_words(join(header, insts))


def export_without_function_end() -> bytes:
    """Root cause 2: an exported function whose OpFunctionEnd is missing, linked with
    its importer (the config names linkage_imports.spv as partner)."""
    header, insts = _corpus("linkage_exports.spv")
    ends = [k for k, i in enumerate(insts) if i[0] & 0xFFFF == OP_FUNCTION_END]
    del insts[ends[-1]]
    return from_words(join(header, insts))


def duplicate_definition() -> bytes:
    """Root cause 5: one id defined twice (an OpTypeInt repeated with a different
    width): deduplication never settled on this."""
    header, insts = _corpus("linkage_exports.spv")
    at = next(k for k, i in enumerate(insts) if i[0] & 0xFFFF == OP_TYPE_INT)
    twin = list(insts[at])
    twin[2] = 16
    insts.insert(at + 1, twin)
    return from_words(join(header, insts))


def huge_bound(bound: int) -> bytes:
    """Root cause 6: a tiny module whose header claims a huge id bound; memory must follow
    the input, not the claim."""
    header, insts = _corpus("linkage_exports.spv")
    header[3] = bound
    return from_words(join(header, insts[:4]))


def shared_names(count: int = 40000) -> bytes:
    """Root cause 7: `count` ids that share one OpName ("x"): friendly-name disassembly
    probed x_1, x_2, ... from the start for each (quadratic; 118 s for 40,000)."""
    header, insts = _corpus("linkage_exports.spv")
    first = header[3]
    header[3] = first + count
    names = [[3 << 16 | OP_NAME, first + k, *_string_words(b"x")] for k in range(count)]
    bools = [[2 << 16 | OP_TYPE_BOOL, first + k] for k in range(count)]
    at_names = next(k for k, i in enumerate(insts) if i[0] & 0xFFFF == OP_NAME)
    at_types = next(k for k, i in enumerate(insts) if i[0] & 0xFFFF == OP_TYPE_INT)
    out = insts[:at_names] + names + insts[at_names:at_types] + bools + insts[at_types:]
    return from_words(join(header, out))


def switch_literal() -> bytes:
    """Root cause 8 (reader vs exact walk): an OpSwitch with one word too many for its
    64-bit selector's literals, so the case list does not divide into (literal, label)
    pairs."""
    header, insts = _corpus("switch64.spv")
    at = next(k for k, i in enumerate(insts) if i[0] & 0xFFFF == OP_SWITCH)
    sw = insts[at]
    sw.append(sw[-1])
    sw[0] = (len(sw) << 16) | OP_SWITCH
    return from_words(join(header, insts))


def zero_width_literal() -> bytes:
    """Root cause 8 (an output spirv-dis refuses): an OpConstant of an `OpTypeInt 0 0`
    with one literal word. SPIRV-Tools gives a 0-bit literal no words; spvlink read one,
    linked it and wrote what spirv-dis refuses. Now both readers refuse the literal."""
    header, insts = _corpus("spec_consts.glslc-O.spv")
    at = next(k for k, i in enumerate(insts) if i[0] & 0xFFFF == OP_TYPE_INT)
    insts[at][2] = 0
    return from_words(join(header, insts))


ASM_BOUND = "; SPIR-V\n; Version: 1.5\n; Bound: 4294967296\n" + SMALL
RAW_WORD_LINE = SMALL.replace("%l = OpLabel", "%l = OpLabel\n!0x00030047 !1 !2")
WIDE_LITERAL = SMALL.replace("%uint = OpTypeInt 32 0",
                             "%uint = OpTypeInt 2147483648 0\n%c = OpConstant %uint 0")
# An instruction of a function body between two functions (merge sorted it among the
# declarations, away from its uses).
BETWEEN_FUNCTIONS = SMALL + """%one = OpIAdd %uint %uint %uint
%g = OpFunction %void None %fn
%l2 = OpLabel
OpReturn
OpFunctionEnd
"""

# name: (extension, maker, config, the class in the words)
CASES: dict[str, tuple[str, Any, dict[str, Any], str]] = {
    "non-utf8-string": ("spv", non_utf8_string, {"partner": "linkage_imports.spv"},
                        "1: a string that is not UTF-8 (kept as bytes, written back)"),
    "export-without-function-end": (
        "spv", export_without_function_end, {"partner": "linkage_imports.spv"},
        "2: an exported function without OpFunctionEnd, linked with its importer"),
    "bound-2-32-keep-header": ("spvasm", lambda: ASM_BOUND.encode(), {"keep_header": True},
                               "3: '; Bound:' of 2^32 with as --keep-header"),
    "raw-words-in-assembly": ("spvasm", lambda: (SMALL + "!0\n!0xFFFFFFFF\n").encode(), {},
                              "4: raw instruction words (!0, !0xFFFFFFFF) in assembly"),
    "raw-word-instruction-in-assembly": (
        "spvasm", lambda: RAW_WORD_LINE.encode(), {},
        "4: a raw-word instruction (an OpDecorate in !words) inside a function"),
    "duplicate-definition": ("spv", duplicate_definition, {},
                             "5: one id defined twice (dedup never settled)"),
    "bound-2-26": ("spv", lambda: huge_bound(1 << 26), {},
                   "6: a tiny module with bound 2^26 (1 GB before)"),
    "bound-2-29": ("spv", lambda: huge_bound(1 << 29), {},
                   "6: a tiny module with bound 2^29 (6.2 GB before)"),
    "bound-max": ("spv", lambda: huge_bound(0xFFFFFFFF), {},
                  "6: a tiny module with bound 0xFFFFFFFF (exit 101 before)"),
    "bound-4194303": ("spv", lambda: huge_bound(0x3FFFFF), {},
                      "6: a tiny module with the largest bound spirv-val allows"),
    "friendly-names-shared": ("spv.gz", shared_names, {},
                              "7: 40,000 ids sharing one OpName (118 s before)"),
    "switch-literal-words": ("spv", switch_literal, {},
                             "8: OpSwitch case words not in (literal, label) pairs"),
    "zero-width-literal": ("spv", zero_width_literal, {},
                           "8: a literal of a 0-bit OpTypeInt (SPIRV-Tools counts no words; "
                           "spvlink read one and wrote what spirv-dis refuses)"),
    "literal-wider-than-an-instruction": (
        "spvasm", lambda: WIDE_LITERAL.encode(), {},
        "6: a literal of a 2^31-bit type (the assembler built 67 M words before checking)"),
    "between-functions": ("spvasm", lambda: BETWEEN_FUNCTIONS.encode(), {},
                          "8: a function-body instruction between two functions, linked"),
}


def write_all(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (ext, make, extra, what) in CASES.items():
        data = make()
        path = out / f"class-{name}.{ext}"
        # Large inputs are stored compressed (mtime 0: the same bytes every time).
        path.write_bytes(gzip.compress(data, mtime=0) if ext.endswith(".gz") else data)
        config = {"kind": "asm" if ext == "spvasm" else "spv", **extra}
        meta = {"input": path.name, "config": config, "class": what}
        (out / f"class-{name}.json").write_text(json.dumps(meta, indent=1, sort_keys=True)
                                                + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all():
        print(p.relative_to(ROOT))
