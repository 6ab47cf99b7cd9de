"""The binary codec: exact round trips over the corpus and every malformed-input case."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import CORPUS, spirv_as
from spvlink.binary import read, read_many, write
from spvlink.binary import reader as reader_module
from spvlink.binary.reader import _MAX_ROUNDS, _read_one_exactly
from spvlink.errors import ParseError
from spvlink.ir import Module

MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text())
FILES = [e["file"] for e in MANIFEST]


def corpus_bytes(name: str) -> bytes:
    return (CORPUS / "spv" / name).read_bytes()


def byteswap(data: bytes) -> bytes:
    return np.frombuffer(data, dtype="<u4").byteswap().tobytes()


@pytest.mark.parametrize("name", FILES)
def test_corpus_round_trip(name: str) -> None:
    data = corpus_bytes(name)
    m = read(data)
    out = write(m)
    if data[:4] == b"\x07\x23\x02\x03":  # big-endian input is written little-endian
        assert out == byteswap(data)
    else:
        assert out == data
    # The id index covers every id word: remapping all ids by +0 through select is exact.
    assert write(m.select(None, remap=np.arange(m.bound, dtype=np.uint32))) == out


def same_index(a: Module, b: Module) -> None:
    for field in ("words", "starts", "sizes", "opcodes", "sections", "id_pos", "id_inst"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


@pytest.mark.parametrize("name", FILES)
def test_corpus_vectorised_read_equals_exact_walk(name: str) -> None:
    """The all-at-once reader finds the same instructions and ids as walking them."""
    data = corpus_bytes(name)
    same_index(read(data), _read_one_exactly(data, None))


def test_corpus_is_big_enough() -> None:
    assert len(FILES) >= 100
    assert sum(1 for f in FILES if ".be." in f) >= 3


SMALL = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main"
OpExecutionMode %main LocalSize 1 1 1
OpName %main "main"
%void = OpTypeVoid
%fn = OpTypeFunction %void
%uint = OpTypeInt 32 0
%c = OpConstant %uint 5
%main = OpFunction %void None %fn
%l = OpLabel
OpReturn
OpFunctionEnd
"""


@pytest.fixture(scope="module")
def small() -> bytes:
    return spirv_as(SMALL, "spv1.0")


def words_of(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def pack(words: list[int]) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


def find(words: list[int], opcode: int) -> int:
    """Word index of the first instruction with this opcode."""
    pos = 5
    while pos < len(words):
        if words[pos] & 0xFFFF == opcode:
            return pos
        pos += words[pos] >> 16
    raise AssertionError(opcode)


def expect(data: bytes, message: str, offset: int | None, index: int | None = None,
           opname: str | None = None) -> ParseError:
    with pytest.raises(ParseError) as info:
        read(data)
    err = info.value
    assert message in str(err), str(err)
    assert err.offset == offset
    assert err.index == index
    assert err.opname == opname
    return err


def test_empty(small: bytes) -> None:
    expect(b"", "empty input", 0)


def test_length_not_multiple_of_four(small: bytes) -> None:
    expect(small + b"\0", "is not a multiple of 4", len(small))


def test_fewer_than_five_header_words() -> None:
    expect(pack([0x07230203, 0x00010000, 0, 1]), "fewer than 5 header words", 0)


def test_bad_magic(small: bytes) -> None:
    expect(b"\xde\xad\xbe\xef" + small[4:], "bad magic number 0xefbeadde", 0)


def test_unknown_version(small: bytes) -> None:
    w = words_of(small)
    w[1] = 0x00010900
    expect(pack(w), "unknown SPIR-V version", 4)
    w[1] = 0x00020000
    expect(pack(w), "unknown SPIR-V version", 4)


def test_word_count_zero(small: bytes) -> None:
    w = words_of(small)
    w[5] = w[5] & 0xFFFF  # OpCapability with word count 0
    expect(pack(w), "word count is 0", 20, 0, "OpCapability")


def test_instruction_past_end(small: bytes) -> None:
    w = words_of(small)
    last = len(w) - 1  # OpFunctionEnd
    w[last] = (5 << 16) | (w[last] & 0xFFFF)
    expect(pack(w), "runs past the end", last * 4, 12, "OpFunctionEnd")


def test_missing_operand(small: bytes) -> None:
    w = words_of(small)
    pos = find(w, 21)  # OpTypeInt %uint 32 0 -> drop the signedness word
    w[pos] = (3 << 16) | 21
    del w[pos + 3]
    expect(pack(w), "missing operand", (pos + 3) * 4, 7, "OpTypeInt")


def test_surplus_operand(small: bytes) -> None:
    w = words_of(small)
    pos = find(w, 19)  # OpTypeVoid %void + one extra word
    w[pos] = (3 << 16) | 19
    w.insert(pos + 2, 7)
    expect(pack(w), "surplus operand", (pos + 2) * 4, 5, "OpTypeVoid")


def test_constant_width_from_type(small: bytes) -> None:
    w = words_of(small)
    pos = find(w, 43)  # 32-bit OpConstant given a second literal word
    w[pos] = (5 << 16) | 43
    w.insert(pos + 4, 0)
    expect(pack(w), "surplus operand", (pos + 4) * 4, 8, "OpConstant")


def test_string_without_nul(small: bytes) -> None:
    w = words_of(small)
    pos = find(w, 5)  # OpName %main "main": fill the NUL word
    assert w[pos] >> 16 == 4
    w[pos + 3] = 0x41414141
    expect(pack(w), "without its terminating NUL", (pos + 2) * 4, 4, "OpName")


def test_unknown_opcode(small: bytes) -> None:
    w = words_of(small)
    pos = find(w, 253)  # OpReturn -> opcode 4095
    w[pos] = (1 << 16) | 4095
    expect(pack(w), "unknown opcode 4095", pos * 4, 11, None)


def test_unknown_enum_value(small: bytes) -> None:
    w = words_of(small)
    pos = find(w, 14)  # OpMemoryModel Logical GLSL450 -> memory model 77
    w[pos + 2] = 77
    expect(pack(w), "unknown MemoryModel value 77", (pos + 2) * 4, 1, "OpMemoryModel")


def test_id_zero_and_id_at_bound(small: bytes) -> None:
    w = words_of(small)
    pos = find(w, 43)
    w[pos + 2] = 0
    expect(pack(w), "id 0 is not a valid id", (pos + 2) * 4, 8, "OpConstant")
    w = words_of(small)
    pos = find(w, 33)  # OpTypeFunction %fn %void: the return type becomes the bound
    w[pos + 2] = w[3]
    expect(pack(w), f"id {w[3]} is not below the bound", (pos + 2) * 4, 6, "OpTypeFunction")


def test_big_endian_reads_like_little_endian(small: bytes) -> None:
    assert write(read(byteswap(small))) == small


def test_header_fields(small: bytes) -> None:
    m = read(small)
    assert isinstance(m, Module)
    assert m.version_tuple == (1, 0)
    assert m.bound == words_of(small)[3]
    assert len(m) == 13


SEED_FILES = [f for f in FILES if f.endswith((".glslc-O.spv", ".O0.spv", ".spvasm.spv"))][:12] \
    or FILES[:12]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEED_FILES), st.integers(min_value=0), st.integers(min_value=0, max_value=31),
       st.booleans())
def test_mutations_raise_parse_error_or_read(name: str, where: int, bit: int,
                                             truncate: bool) -> None:
    data = bytearray(corpus_bytes(name))
    if truncate:
        data = data[: where % (len(data) + 1)]
    else:
        word = where % (len(data) // 4)
        value = int.from_bytes(data[word * 4:word * 4 + 4], "little") ^ (1 << bit)
        data[word * 4:word * 4 + 4] = value.to_bytes(4, "little")
    try:
        m = read(bytes(data))
    except ParseError:
        return
    write(m)  # a module that reads must also write


def lookalike_module(members: int) -> bytes:
    """A struct of `members` members, all of type id 65536 = 0x00010000, which also reads
    as the header of a one-word OpNop: a chain of header-like words inside one instruction."""
    t, s = 65536, 65537
    words = [0x07230203, 0x00010000, 0, s + 1, 0,
             (2 << 16) | 17, 1,  # OpCapability Shader
             (2 << 16) | 17, 5,  # OpCapability Linkage
             (3 << 16) | 14, 0, 1,  # OpMemoryModel Logical GLSL450
             (4 << 16) | 21, t, 32, 0,  # OpTypeInt
             ((2 + members) << 16) | 30, s, *([t] * members)]  # OpTypeStruct
    return pack(words)


@pytest.mark.parametrize("members", [1, 3, _MAX_ROUNDS - 1, _MAX_ROUNDS + 5])
def test_header_lookalike_operands(members: int) -> None:
    """Operand words that look like headers never become instructions, however long the
    run of them (past `_MAX_ROUNDS` the exact walk takes over)."""
    data = lookalike_module(members)
    m = read(data)
    assert m.opcodes.tolist() == [17, 17, 14, 21, 30]
    assert write(m) == data
    same_index(m, _read_one_exactly(data, None))
    # the same inside a batch, between other modules
    small = spirv_as(SMALL, "spv1.0")
    batch = read_many([small, data, small], ["a", "b", "c"])
    same_index(batch[1], m)
    assert [write(x) for x in batch] == [small, data, small]


@pytest.mark.parametrize("fault", ["enum", "word count 0", "past end"])
def test_error_in_batch_names_its_module(small: bytes, fault: str) -> None:
    w = words_of(small)
    if fault == "enum":
        w[find(w, 14) + 2] = 77  # OpMemoryModel Logical 77
        message = "unknown MemoryModel value 77"
    elif fault == "word count 0":
        w[find(w, 21)] &= 0xFFFF  # OpTypeInt
        message = "instruction word count is 0"
    else:
        w = w[:-1]  # OpFunctionEnd lost
        w[-1] = (5 << 16) | (w[-1] & 0xFFFF)
        message = "runs past the end of the module"
    bad = pack(w)
    with pytest.raises(ParseError) as alone:
        read(bad)
    with pytest.raises(ParseError) as info:
        read_many([small, small, bad, small], ["a", "b", "bad.spv", "d"])
    assert info.value.source == "bad.spv"
    assert message in str(info.value)
    assert (info.value.offset, info.value.index) == (alone.value.offset, alone.value.index)


def test_batch_with_header_only_modules(small: bytes) -> None:
    """Modules without instructions (a header alone) read in a batch, anywhere in it."""
    empty = small[:20]
    mods = read_many([empty, small, empty, empty, small, empty], None)
    assert [len(m) for m in mods] == [0, len(read(small)), 0, 0, len(read(small)), 0]
    assert [write(m) for m in mods] == [empty, small, empty, empty, small, empty]
    assert read_many([empty, empty], None)[1].words.size == 0


def test_batch_mixing_byte_orders(small: bytes) -> None:
    a, b = read_many([small, byteswap(small), small], None)[:2]
    same_index(a, b)
    assert write(b) == small


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every batch of 3 modules or more is read on two threads, whatever its size and
    the cores this machine gives the test."""
    monkeypatch.setattr(reader_module, "TWO_THREADS_MIN_WORDS", 0)
    monkeypatch.setattr(reader_module, "usable_cores", lambda: 2)


def test_two_threads_read_what_one_reads(two_threads: None) -> None:
    """The corpus read as one batch on two threads: each module as read alone, and every
    module a view of one word array (the link's precondition check reads that array as
    it is)."""
    datas = [corpus_bytes(name) for name in FILES]
    assert reader_module._batch_cut(np.cumsum([0] + [len(d) // 4 - 5 for d in datas])) \
        not in (None, 0, len(datas))
    mods = read_many(datas, FILES)
    for m, data in zip(mods, datas, strict=True):
        same_index(m, read(data))
    base = mods[0].words.base
    assert base is not None and all(m.words.base is base for m in mods)


@pytest.mark.parametrize("bad_at", [(1,), (5,), (1, 5)])
def test_two_threads_report_the_first_bad_module(two_threads: None, small: bytes,
                                                 bad_at: tuple[int, ...]) -> None:
    """A malformed module in either half, or one in each: the error is the first in
    input order, as on one thread."""
    w = words_of(small)
    w[find(w, 14) + 2] = 77  # OpMemoryModel Logical 77
    bad = pack(w)
    datas = [bad if k in bad_at else small for k in range(6)]
    names = [f"m{k}.spv" for k in range(6)]
    with pytest.raises(ParseError) as info:
        read_many(datas, names)
    assert info.value.source == f"m{bad_at[0]}.spv"
    assert "unknown MemoryModel value 77" in str(info.value)
