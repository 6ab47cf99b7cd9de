"""The codecs on inputs that used to crash them or make them disagree with themselves
(issue 11: classes 1, 3, 4, 6, 7 and 8; issue 12: one decoding context, wide literals).

The references are the real SPIRV-Tools binaries (spirv-dis, spirv-as) and spvlink's own
reader: whatever the assembler accepts, the writer writes and the reader reads back.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers import tool
from spvlink import _words
from spvlink.binary import read, read_many, reader, write
from spvlink.errors import AssemblyError, ParseError, SpvError
from spvlink.ir import Module
from spvlink.ir.context import DecodeContext
from spvlink.ir.module import InstructionError
from spvlink.text import assemble, disassemble

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "corpus" / "spv").glob("*.spv"))


def spvlink(*args: str, stdin: bytes | None = None, **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spvlink", *args], input=stdin,
                          capture_output=True, timeout=120, **kw)  # type: ignore[call-overload]


def exact(data: bytes) -> Module:
    """The reader's instruction-by-instruction walk (the fast path's fallback)."""
    return reader._read_exactly([data], [None])[0]


def same_module(a: Module, b: Module) -> bool:
    return write(a) == write(b) and all(
        (getattr(a, k) == getattr(b, k)).all() if getattr(a, k).size else
        getattr(b, k).size == 0
        for k in ("starts", "sizes", "opcodes", "sections", "id_pos", "id_inst"))


def read_both(data: bytes) -> Module | str:
    """The fast reader and the exact walk must agree: on the module, or on the error."""
    try:
        fast: Module | str = read(data)
    except ParseError as exc:
        fast = str(exc)
    try:
        slow: Module | str = exact(data)
    except ParseError as exc:
        slow = str(exc)
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow
    else:
        assert same_module(fast, slow)
    return fast


def dis_as_round_trip(data: bytes) -> None:
    """dis -> as -> read gives the same module (raw ids; friendly names: the same
    module up to the numbering of ids, checked by disassembling again)."""
    m = read(data)
    again = assemble(disassemble(m, raw_id=True), keep_header=True)
    assert write(again) == write(m)
    friendly = disassemble(m)
    assert disassemble(assemble(friendly)).splitlines()[5:] == friendly.splitlines()[5:]


SHADER_HEAD = """OpCapability Shader
OpMemoryModel Logical GLSL450
"""


# -- 1: strings that are not UTF-8 -------------------------------------------------------

def _with_bytes(text: str, marker: bytes, replacement: bytes) -> bytes:
    data = bytearray(write(assemble(text)))
    at = data.find(marker)
    data[at:at + len(replacement)] = replacement
    return bytes(data)


def test_string_not_utf8_kept_as_bytes(tmp_path: Path) -> None:
    """spirv-dis prints a string's bytes as they are; so does `spvlink dis`, and `as`
    gives the module back byte for byte (`dis` and `info` used to exit 101)."""
    data = _with_bytes(SHADER_HEAD + 'OpName %t "abcd"\n%t = OpTypeVoid\n', b"abcd",
                       b"\xff\xc3b\x80")
    path = tmp_path / "bad.spv"
    path.write_bytes(data)
    ours = spvlink("dis", str(path))
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run([tool("spirv-dis"), str(path)], capture_output=True, check=True)
    assert ours.stdout == theirs.stdout
    assert b'"\xff\xc3b\x80"' in ours.stdout
    text = tmp_path / "bad.spvasm"
    text.write_bytes(ours.stdout)
    back = tmp_path / "back.spv"
    r = spvlink("as", "--keep-header", str(text), "-o", str(back))
    assert r.returncode == 0, r.stderr
    assert back.read_bytes() == data
    assert spvlink("info", str(path)).returncode == 0
    assert spvlink("info", "--json", str(path)).returncode == 0
    assert _words.encode_string(_words.decode_string([0x8062C3FF, 0])) == [0x8062C3FF, 0]


# -- 3: header values the writer cannot hold ---------------------------------------------

@pytest.mark.parametrize("bound, needle", [
    (1 << 32, "4294967296"),
    ((1 << 64) + 5, "18446744073709551621"),
    (_words.MAX_ID_BOUND + 1, "4194303"),
])
def test_keep_header_bound_too_big(bound: int, needle: str) -> None:
    text = f"; SPIR-V\n; Version: 1.0\n; Generator: Khronos; 0\n; Bound: {bound}\n; Schema: 0\n" \
        + SHADER_HEAD
    with pytest.raises(AssemblyError) as info:
        assemble(text, keep_header=True)
    assert info.value.line == 4
    assert needle in str(info.value)


def test_keep_header_bound_at_the_limit_reads_back() -> None:
    text = f"; Bound: {_words.MAX_ID_BOUND}\n" + SHADER_HEAD
    m = assemble(text, keep_header=True)
    assert read(write(m)).bound == _words.MAX_ID_BOUND


def test_ids_over_the_limit_refused() -> None:
    text = SHADER_HEAD + f"%{_words.MAX_ID_BOUND} = OpTypeVoid\n"
    with pytest.raises(AssemblyError, match="4194303") as info:
        assemble(text, preserve_numeric_ids=True)
    assert info.value.line == 3


@pytest.mark.parametrize("header, line", [("; Version: 2.0", 1), ("; Version: 1.999", 1),
                                          ("; Version: 1.7", 1)])
def test_version_comment_refused(header: str, line: int) -> None:
    with pytest.raises(AssemblyError, match="unknown SPIR-V version") as info:
        assemble(header + "\n" + SHADER_HEAD)
    assert info.value.line == line


def test_cli_as_bound_too_big(tmp_path: Path) -> None:
    src = tmp_path / "x.spvasm"
    src.write_text("; Bound: 4294967296\n" + SHADER_HEAD)
    r = spvlink("as", "--keep-header", str(src), "-o", str(tmp_path / "x.spv"))
    assert r.returncode == 1
    assert r.stderr.decode().startswith("error: ")
    assert "Traceback" not in r.stderr.decode()
    assert not (tmp_path / "x.spv").exists()


def test_writer_refuses_headers_the_reader_refuses() -> None:
    m = assemble(SHADER_HEAD)
    with pytest.raises(SpvError, match="4194303"):
        write(m.with_header(bound=_words.MAX_ID_BOUND + 1))
    with pytest.raises(SpvError, match="32 bits"):
        write(m.with_header(generator=1 << 32))


# -- 4: raw instruction words ---------------------------------------------------------------

RAW_BAD = [
    "!0",  # word count 0
    "!0xFFFFFFFF",  # word count 65535, one word given, unknown opcode
    "!0x00020000",  # OpNop that claims two words
    "!0x0001FFFF",  # unknown opcode 65535
    "!0x00020011 !99999",  # OpCapability with an unknown capability
    "!0x00030005 !0 !0",  # OpName of id 0, and a string without its NUL
    "!0x00030005 %x",  # OpName whose string is missing
    "OpName !0 \"x\"",  # id 0 given as a raw word
    "%t = OpTypeInt 32 0\n%c = OpConstant %t !1 !2",  # a 32-bit constant with two words
]


@pytest.mark.parametrize("raw", RAW_BAD)
def test_raw_words_refused_with_their_line(raw: str) -> None:
    with pytest.raises(AssemblyError) as info:
        assemble(SHADER_HEAD + raw + "\n")
    assert info.value.line >= 3


RAW_GOOD = [
    "!0x00010000",  # OpNop
    "!0x00030005 %x !0x00000078",  # OpName %x "x"
    "OpName %x !0x00000078",
    "OpName !7 \"seven\"",  # a raw id word: the bound grows to hold it
    "%t = OpTypeInt 16 1\n%c = OpConstant %t !0xFFFFFFFB",
]


@pytest.mark.parametrize("raw", RAW_GOOD)
def test_raw_words_accepted_read_back(raw: str) -> None:
    """What `assemble` accepts, the writer writes and the reader reads back unchanged."""
    m = assemble(SHADER_HEAD + raw + "\n")
    data = write(m)
    assert write(read(data)) == data
    read_both(data)
    dis_as_round_trip(data)


def test_from_instructions_checks_the_word_count() -> None:
    with pytest.raises(InstructionError, match="counts 2 words") as info:
        Module.from_instructions([[0x00020011, 1], [0x00020000]])
    assert info.value.index == 1


# -- 6: no array sized by a number the input claims --------------------------------------

def _header(bound: int, *words: int) -> bytes:
    return struct.pack(f"<{5 + len(words)}I", _words.MAGIC, 0x00010000, 0, bound, 0, *words)


@pytest.mark.parametrize("bound", [_words.MAX_ID_BOUND + 1, 1 << 26, 0xFFFFFFFF])
def test_bound_over_spirv_val_limit(bound: int) -> None:
    """spirv-val refuses an id bound over 0x3FFFFF unless told otherwise
    (`--max-id-bound`); the reader refuses it before anything is sized by it."""
    with pytest.raises(ParseError, match="over 4194303, spirv-val's default limit") as info:
        read(_header(bound, 0x00020011, 1))
    assert info.value.offset == 12


def test_bound_at_limit_and_ids_below_it() -> None:
    m = read(_header(_words.MAX_ID_BOUND, 0x00020011, 1))
    assert m.bound == _words.MAX_ID_BOUND
    with pytest.raises(ParseError, match="id 5 is not below the bound 3"):
        read(_header(3, 0x00030005, 5, 0))  # OpName %5 ""


def test_input_device_refused(tmp_path: Path) -> None:
    r = spvlink("dis", "/dev/zero")
    assert r.returncode == 1
    assert b"error: /dev/zero: is a device" in r.stderr
    with open("/dev/zero", "rb") as zero:
        r = subprocess.run([sys.executable, "-m", "spvlink", "dis", "-"], stdin=zero,
                           capture_output=True, timeout=120)
    assert r.returncode == 1
    assert b"error: <stdin>: is a device" in r.stderr


# -- 7: friendly names --------------------------------------------------------------------

def test_friendly_names_shared_name_like_spirv_dis(tmp_path: Path) -> None:
    """SPIRV-Tools' FriendlyNameMapper gives the first free `name_<k>`; names that
    already look suffixed (`x_1`) take their place in the sequence."""
    lines = [SHADER_HEAD]
    n = 300
    lines += [f'OpName %v{k} "{"x_1" if k == 7 else "x"}"' for k in range(n)]
    lines += [f'%v{k} = OpTypeOpaque "o{k}"' for k in range(n)]
    data = write(assemble("\n".join(lines) + "\n"))
    path = tmp_path / "names.spv"
    path.write_bytes(data)
    theirs = subprocess.run([tool("spirv-dis"), str(path)], capture_output=True, check=True,
                            text=True).stdout
    assert disassemble(read(data)) == theirs


def test_friendly_names_forty_thousand_sharing_one_name() -> None:
    """40,000 ids sharing one OpName (118 s when each name searched its suffix from 0)."""
    n = 40_000
    text = SHADER_HEAD + "".join(f'OpName %v{k} "x"\n' for k in range(n)) + \
        "".join(f'%v{k} = OpTypeOpaque "o"\n' for k in range(n))
    out = disassemble(assemble(text)).splitlines()
    assert out[-1].strip() == f'%x_{n - 2} = OpTypeOpaque "o"'
    assert len({line.split("=")[0] for line in out if "OpTypeOpaque" in line}) == n


# -- 8: the codecs agree with themselves -----------------------------------------------------

SWITCH = """OpCapability Shader
OpCapability Int64
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 1 1 1
%void = OpTypeVoid
%int = OpTypeInt 32 1
%long = OpTypeInt 64 1
%fn = OpTypeFunction %void
{before}
%main = OpFunction %void None %fn
%entry = OpLabel
OpSelectionMerge %default None
OpSwitch %c %default {literal} %case
%case = OpLabel
OpBranch %default
%default = OpLabel
OpReturn
OpFunctionEnd
{after}
"""


@pytest.mark.parametrize("before, literal, after", [
    ("%c = OpConstant %int 1", "1", "%c = OpConstant %long 5"),  # redefined after the use
    ("%c = OpConstant %int 1\n%c = OpConstant %long 5", "1", ""),  # first definition counts
    ("%c = OpConstant %long 1\n%c = OpConstant %int 5", "4294967297", ""),
    ("", "1", "%c = OpConstant %int 1"),  # defined only after the use: an error for both
])
def test_switch_fast_reader_and_exact_walk_agree(before: str, literal: str,
                                                 after: str) -> None:
    """The selector's type is its first definition before the OpSwitch, for the fast
    reader, the exact walk, the assembler and the disassembler alike (they used to
    disagree when an id was defined twice)."""
    text = SWITCH.format(before=before, literal=literal, after=after)
    if not before:
        with pytest.raises(AssemblyError, match="selector"):
            assemble(text)
        m = assemble(SWITCH.format(before="%c = OpConstant %int 1", literal="1", after=""))
        data = bytearray(write(m))
        # Move the constant to the end: the switch now uses %c before its definition.
        words = list(struct.unpack(f"<{len(data) // 4}I", data))
        start = words.index(0x0004002B, 5)
        const = words[start:start + 4]
        del words[start:start + 4]
        words += const
        result = read_both(struct.pack(f"<{len(words)}I", *words))
        assert isinstance(result, str) and "selector" in result
        return
    data = write(assemble(text))
    m = read_both(data)
    assert isinstance(m, Module)
    dis_as_round_trip(data)
    assert re.search(rf"OpSwitch %\S+ %\S+ {literal} %", disassemble(m))


def test_constant_type_defined_twice_first_counts() -> None:
    text = SHADER_HEAD + "%t = OpTypeInt 32 0\n%t = OpTypeInt 64 0\n%c = OpConstant %t 7\n"
    data = write(assemble(text))
    m = read_both(data)
    assert isinstance(m, Module)
    assert int(m.sizes[-1]) == 4
    dis_as_round_trip(data)


@pytest.mark.parametrize("decl, raw", [
    ("%t = OpTypeInt 16 1", "!0x0000FFFB"),  # not sign-extended
    ("%t = OpTypeInt 16 0", "!0xFFFF0001"),  # not zero-extended
    ("%t = OpTypeFloat 16", "!0xFFFF3C00"),
    ("%t = OpTypeInt 8 1", "!0x00000080"),
])
def test_literals_that_do_not_assemble_back_print_as_raw_words(decl: str, raw: str) -> None:
    """spirv-dis prints such a literal as a number that spirv-as then refuses (or reads
    as other bits); spvlink prints the raw words, which assemble back exactly. Valid
    literals print as spirv-dis prints them (the corpus tests)."""
    data = write(assemble(SHADER_HEAD + f"{decl}\n%c = OpConstant %t {raw}\n"))
    text = disassemble(read(data), raw_id=True)
    assert f"%2 = OpConstant %1 !0x{int(raw[1:], 16):08x}\n" in text
    dis_as_round_trip(data)


def test_string_with_bytes_after_its_nul_prints_as_raw_words() -> None:
    data = _with_bytes(SHADER_HEAD + 'OpName %t "abcdefg"\n%t = OpTypeVoid\n', b"abcdefg",
                       b"abcdef\0X")
    text = disassemble(read(data), raw_id=True)
    assert "OpName %1 !0x64636261 !0x58006665\n" in text
    dis_as_round_trip(data)


def test_corpus_fast_reader_exact_walk_and_round_trip_agree() -> None:
    for path in CORPUS:
        data = path.read_bytes()
        assert isinstance(read_both(data), Module), path.name
    assert CORPUS


# -- issue 12: wide literals ------------------------------------------------------------------

WIDE = """OpCapability Kernel
OpCapability Addresses
OpCapability Linkage
OpCapability ArbitraryPrecisionIntegersINTEL
OpExtension "SPV_INTEL_arbitrary_precision_integers"
OpMemoryModel Physical64 OpenCL
%u96 = OpTypeInt 96 0
%u128 = OpTypeInt 128 0
%s96 = OpTypeInt 96 1
%c1 = OpConstant %u96 !0x12345678 !0x9abcdef0 !0x12345678
%c2 = OpConstant %u128 !0xffffffff !0xffffffff !0xffffffff !0xffffffff
%c3 = OpConstant %s96 !0xfffffffb !0xffffffff !0xffffffff
"""


def test_wide_constants_read_disassemble_and_round_trip(tmp_path: Path) -> None:
    """A 96- or 128-bit OpConstant (SPV_INTEL_arbitrary_precision_integers) takes whole
    words, low-order first. spirv-as writes it from raw words and spirv-dis reads it
    (printing no value: SPIRV-Tools prints literals up to 64 bits); spvlink prints the
    value in decimal as it does for 64 bits, and assembles it back."""
    src = tmp_path / "wide.spvasm"
    src.write_text(WIDE)
    out = tmp_path / "wide.spv"
    subprocess.run([tool("spirv-as"), str(src), "-o", str(out)], check=True)
    data = out.read_bytes()
    theirs = subprocess.run([tool("spirv-dis"), str(out)], capture_output=True, text=True,
                            check=True).stdout
    m = read_both(data)
    assert isinstance(m, Module)
    text = disassemble(m)
    value = 0x12345678_9ABCDEF0_12345678
    assert f"OpConstant %u96 {value}" in text
    assert f"OpConstant %u128 {(1 << 128) - 1}" in text
    assert "%i96_n5 = OpConstant %i96 -5" in text
    # The rest of the text is spirv-dis's, line for line.
    ours = [line for line in text.splitlines() if "OpConstant" not in line]
    assert ours[1:] == [line for line in theirs.splitlines() if "OpConstant" not in line][1:]
    dis_as_round_trip(data)
    again = assemble(text.replace(str(value), str(value + 1)))
    assert again.inst_words(len(again) - 3)[3:] == [0x12345679, 0x9ABCDEF0, 0x12345678]


def test_wide_constant_with_the_wrong_word_count() -> None:
    text = WIDE.replace("%c1 = OpConstant %u96 !0x12345678 !0x9abcdef0 !0x12345678",
                        "%c1 = OpConstant %u96 !0x12345678 !0x9abcdef0")
    with pytest.raises(AssemblyError, match="96-bit literal"):
        assemble(text)


# -- issue 12: one decoding context, a thread-safe memo ------------------------------------

def test_decode_context_first_definition_before_the_instruction() -> None:
    ctx = DecodeContext()
    ctx.observe([0x00040015, 5, 32, 0])  # %5 = OpTypeInt 32 0
    ctx.observe([0x00040015, 5, 64, 0])  # %5 again: the first counts
    ctx.observe([0x0004002B, 5, 9, 1])  # %9 = OpConstant %5 1
    assert ctx.type_width(5) == 32
    assert ctx.value_type(9) == 5
    words = [0x00040015, 5, 16, 1, 0x0004002B, 5, 9, 1]
    lazy = DecodeContext.over(words, [0, 4])
    assert lazy.at(0).value_width(9) is None  # nothing before instruction 0
    assert lazy.at(2).value_width(9) == 16
    assert lazy.at(1).value_width(9) is None  # %9 is instruction 1 itself
    assert lazy.numeric_type(5) == ("s", 16)


def test_plan_memo_shared_by_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads from several threads, starting from an empty memo, give what one thread
    gives (interning and remembering hold the memo's lock)."""
    datas = [p.read_bytes() for p in CORPUS]
    expected = [write(m) for m in read_many(datas)]
    monkeypatch.setattr(reader, "_MEMO", reader._PlanMemo())
    results: dict[int, list[bytes]] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:  # each thread in its own order, so that they fill the memo differently
            results[k] = [write(read(d)) for d in datas[k:] + datas[:k]]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(4):
        assert results[k] == expected[k:] + expected[:k]
    memo = reader._MEMO
    assert all(memo.index[p] == k for k, p in enumerate(memo.plans))
    assert all(0 <= v < len(memo.plans) for v in memo.fixed.values())


def test_plan_memo_usable_in_a_child_forked_while_its_lock_is_held(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork while another thread holds the memo's lock (a program with threads that
    forks workers, as the fuzzing campaign does) gives the child a fresh lock: it reads
    instead of waiting for ever on a lock no thread of it will release."""
    import multiprocessing

    monkeypatch.setattr(reader, "_MEMO", reader._PlanMemo())  # every header unknown
    data = CORPUS[0].read_bytes()
    with reader._MEMO.lock:
        child = multiprocessing.get_context("fork").Process(target=read, args=(data,))
        child.start()
    child.join(timeout=60)
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0


def test_every_float_pattern_prints_in_a_form_that_assembles_back() -> None:
    """The disassembler trusts this for 16-, 32- and 64-bit floats (it prints raw words
    only for bits above the width): every half, and special and random singles and
    doubles (NaN payloads, infinities, denormals, signed zeros)."""
    import random

    from spvlink.text.literals import encode_float, format_float

    assert all(encode_float(format_float(b, 16), 16) == [b] for b in range(1 << 16))
    rng = random.Random(12)
    singles = [0, 1 << 31, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFFFFFFF, 1,
               0x807FFFFF, 0x00800000] + [rng.getrandbits(32) for _ in range(5000)]
    assert all(encode_float(format_float(b, 32), 32) == [b] for b in singles)
    doubles = [0, 1 << 63, 0x7FF0000000000000, 0x7FF8000000000001, (1 << 64) - 1, 1] + \
        [rng.getrandbits(64) for _ in range(5000)]
    assert all(encode_float(format_float(b, 64), 64) == [b & 0xFFFFFFFF, b >> 32]
               for b in doubles)


@pytest.mark.parametrize("literal, type_name", [
    ("1" * 5000, "%i"),  # Python's int() refuses over 4300 decimal digits (ValueError)
    ("1" * 5000, "%f"),
    ("1e9999999", "%f"),  # 10**9999999 built exactly: never ended
    ("0x1." + "f" * 100000 + "p-1", "%f"),
])
def test_literals_too_big_to_spell_refused(literal: str, type_name: str) -> None:
    text = SHADER_HEAD + "%f = OpTypeFloat 32\n%i = OpTypeInt 32 0\n" + \
        f"%c = OpConstant {type_name} {literal}\n"
    with pytest.raises(AssemblyError) as info:
        assemble(text)
    assert info.value.line == 5


@pytest.mark.parametrize("literal, words", [
    ("1e-9999999", [0]), ("-1e-400", [0x80000000]), ("0x1p-999999999999", [0]),
    ("0x1p+999999999999", [0x7F800000]), ("0.0e999999999", [0]), ("3.5e38", None),
])
def test_far_out_float_exponents_decided_without_the_exact_value(
        literal: str, words: list[int] | None) -> None:
    """Tiny values round to (signed) zero and huge decimal ones are out of range, as the
    exact arithmetic would decide, without building 10**exponent."""
    text = SHADER_HEAD + f"%f = OpTypeFloat 32\n%c = OpConstant %f {literal}\n"
    if words is None:
        with pytest.raises(AssemblyError, match="invalid 32-bit float"):
            assemble(text)
        return
    assert assemble(text).inst_words(3)[3:] == words


@pytest.mark.parametrize("name, known", [
    ("main", False), ("GLSL.std.451", False), ("", False), ("GLSL.std.450", True),
    ("NonSemantic.Anything", True), ("NonSemantic.ClspvReflection.5", True),
    ("TOSA.001000.1", True),
])
def test_ext_inst_import_names_as_spirv_tools(tmp_path: Path, name: str, known: bool) -> None:
    """An OpExtInstImport names a set with a grammar or any `NonSemantic.*` set, as
    SPIRV-Tools' spvExtInstImportTypeGet decides (spirv-dis and spirv-as refuse other
    names: "Invalid extended instruction import"); the reader used to read such a module
    and write what spirv-dis then refused."""
    raw = name.encode() + b"\0"
    raw += b"\0" * (-len(raw) % 4)
    n = len(raw) // 4
    data = _header(2, 0x00020011, 1, 0x0003000E, 0, 1, ((2 + n) << 16) | 11, 1,
                   *struct.unpack(f"<{n}I", raw))
    path = tmp_path / "e.spv"
    path.write_bytes(data)
    theirs = subprocess.run([tool("spirv-dis"), str(path)], capture_output=True)
    assert (theirs.returncode == 0) == known
    if known:
        assert write(read(data)) == data
        dis_as_round_trip(data)
    else:
        with pytest.raises(ParseError, match="unknown extended instruction set"):
            read(data)
        with pytest.raises(AssemblyError, match="unknown extended instruction set"):
            assemble(SHADER_HEAD + f'%1 = OpExtInstImport "{name}"\n')


def test_switch_on_a_float_refused_as_spirv_tools_does(tmp_path: Path) -> None:
    """SPIRV-Tools' parser refuses an OpSwitch whose selector is not a scalar integer
    ("Invalid OpSwitch: selector id N is not a scalar integer"); so do spvlink's reader
    (both paths) and assembler."""
    text = SWITCH.format(before="%c = OpConstant %int 1", literal="1", after="")
    float_text = text.replace("%long = OpTypeInt 64 1", "%float = OpTypeFloat 32").replace(
        "%c = OpConstant %int 1", "%c = OpConstant %float 1")
    with pytest.raises(AssemblyError, match="selector's type must be a scalar integer"):
        assemble(float_text)
    # The same module with %c's type changed to a float type by hand.
    m = assemble(text.replace("%long = OpTypeInt 64 1", "%float = OpTypeFloat 32"))
    data = bytearray(write(m))
    words = list(struct.unpack(f"<{len(data) // 4}I", data))
    float_id = words[words.index(0x00030016, 5) + 1]  # %float = OpTypeFloat 32
    words[words.index(0x0004002B, 5) + 1] = float_id
    data = struct.pack(f"<{len(words)}I", *words)
    path = tmp_path / "switch.spv"
    path.write_bytes(data)
    theirs = subprocess.run([tool("spirv-dis"), str(path)], capture_output=True, text=True)
    assert theirs.returncode != 0 and "not a scalar integer" in theirs.stderr
    result = read_both(data)
    assert isinstance(result, str) and "integer scalar type" in result


@pytest.mark.parametrize("literal_words", [0, 1])
def test_literal_of_a_zero_bit_type_refused_by_both_readers(tmp_path: Path,
                                                            literal_words: int) -> None:
    """SPIRV-Tools' parser gives a typed literal `(bit_width + 31) / 32` words, none for
    `OpTypeInt 0 0`, and spirv-dis refuses the one word spvlink used to read (and write
    into a linked output). A literal of a 0-bit type is refused by the fast reader and the
    exact walk alike, the assembler refuses to spell one, and the type alone still reads
    (spirv-dis reads it too)."""
    text = SHADER_HEAD + "%t = OpTypeInt 32 0\n%c = OpConstant %t 1\n"
    data = write(assemble(text))
    words = list(struct.unpack(f"<{len(data) // 4}I", data))
    type_at = words.index(0x00040015)
    words[type_at + 2] = 0
    const_at = words.index(0x0004002B)
    words[const_at] = ((3 + literal_words) << 16) | 0x2B
    del words[const_at + 3 + literal_words:const_at + 4]
    result = read_both(struct.pack(f"<{len(words)}I", *words))
    wanted = "0-bit numeric type" if literal_words else "missing operand Value"
    assert isinstance(result, str) and wanted in result
    if literal_words:
        path = tmp_path / "zero.spv"
        path.write_bytes(struct.pack(f"<{len(words)}I", *words))
        assert subprocess.run([tool("spirv-dis"), str(path)], capture_output=True).returncode
    with pytest.raises(AssemblyError, match="0-bit"):
        assemble(text.replace("OpTypeInt 32 0", "OpTypeInt 0 0"))
    alone = read_both(write(assemble(SHADER_HEAD + "%t = OpTypeInt 0 0\n")))
    assert isinstance(alone, Module)
