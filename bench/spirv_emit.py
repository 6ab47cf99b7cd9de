"""A tiny standalone SPIR-V word emitter for the benchmark workload generator.

It knows only what the generator needs: opcodes and enum values as integer
constants, string packing, instruction headers and a :class:`ModuleBuilder`
that collects instructions per logical-layout section and writes a
little-endian binary. It deliberately does not depend on the spvlink package.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

MAGIC = 0x07230203
VERSION_1_5 = 0x00010500

# ---------------------------------------------------------------- opcodes
OP_NAME = 5
OP_MEMORY_MODEL = 14
OP_ENTRY_POINT = 15
OP_EXECUTION_MODE = 16
OP_CAPABILITY = 17
OP_TYPE_VOID = 19
OP_TYPE_BOOL = 20
OP_TYPE_INT = 21
OP_TYPE_FLOAT = 22
OP_TYPE_VECTOR = 23
OP_TYPE_ARRAY = 28
OP_TYPE_RUNTIME_ARRAY = 29
OP_TYPE_STRUCT = 30
OP_TYPE_POINTER = 32
OP_TYPE_FUNCTION = 33
OP_CONSTANT_TRUE = 41
OP_CONSTANT_FALSE = 42
OP_CONSTANT = 43
OP_CONSTANT_COMPOSITE = 44
OP_CONSTANT_NULL = 46
OP_FUNCTION = 54
OP_FUNCTION_PARAMETER = 55
OP_FUNCTION_END = 56
OP_FUNCTION_CALL = 57
OP_VARIABLE = 59
OP_LOAD = 61
OP_STORE = 62
OP_ACCESS_CHAIN = 65
OP_DECORATE = 71
OP_MEMBER_DECORATE = 72
OP_COMPOSITE_CONSTRUCT = 80
OP_COMPOSITE_EXTRACT = 81
OP_BITCAST = 124
OP_IADD = 128
OP_ISUB = 130
OP_IMUL = 132
OP_SELECT = 169
OP_ULESS_THAN = 176
OP_SHIFT_RIGHT_LOGICAL = 194
OP_SHIFT_LEFT_LOGICAL = 196
OP_BITWISE_OR = 197
OP_BITWISE_XOR = 198
OP_BITWISE_AND = 199
OP_LABEL = 248
OP_RETURN = 253
OP_RETURN_VALUE = 254

# ---------------------------------------------------------------- enums
CAP_SHADER = 1
CAP_LINKAGE = 5
ADDRESSING_LOGICAL = 0
MEMORY_GLSL450 = 1
EXEC_GLCOMPUTE = 5
MODE_LOCAL_SIZE = 17
SC_INPUT = 1
SC_FUNCTION = 7
SC_STORAGE_BUFFER = 12
DEC_BLOCK = 2
DEC_ARRAY_STRIDE = 6
DEC_BUILTIN = 11
DEC_BINDING = 33
DEC_DESCRIPTOR_SET = 34
DEC_OFFSET = 35
DEC_LINKAGE_ATTRIBUTES = 41
LINKAGE_EXPORT = 0
LINKAGE_IMPORT = 1
BUILTIN_GLOBAL_INVOCATION_ID = 28
FUNCTION_CONTROL_NONE = 0


def string_words(s: str) -> list[int]:
    """A literal string as SPIR-V words: UTF-8, NUL-terminated, zero-padded."""
    data = s.encode("utf-8") + b"\0"
    data += b"\0" * (-len(data) % 4)
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def inst(opcode: int, operands: Sequence[int]) -> list[int]:
    """One instruction: header word (word count << 16 | opcode) then operands."""
    return [((len(operands) + 1) << 16) | opcode, *operands]


def float_bits(value: float) -> int:
    """The IEEE-754 single-precision bit pattern of a float."""
    return int(struct.unpack("<I", struct.pack("<f", value))[0])


class ModuleBuilder:
    """Collects instructions by section of the SPIR-V logical layout.

    Sections: capabilities, memory model, entry points, execution modes,
    debug names, annotations, globals (types, constants, global variables),
    function declarations, function definitions. Ids come from :meth:`id`.
    """

    def __init__(self) -> None:
        self.bound = 1
        self.capabilities: list[int] = []
        self.memory_model: list[int] = inst(OP_MEMORY_MODEL, [ADDRESSING_LOGICAL, MEMORY_GLSL450])
        self.entry_points: list[int] = []
        self.execution_modes: list[int] = []
        self.names: list[int] = []
        self.annotations: list[int] = []
        self.globals: list[int] = []
        self.declarations: list[int] = []
        self.functions: list[int] = []
        self._types: dict[tuple[int, ...], int] = {}
        self._consts: dict[tuple[int, ...], int] = {}

    # -- ids and raw emission
    def id(self) -> int:
        i = self.bound
        self.bound += 1
        return i

    def capability(self, cap: int) -> None:
        self.capabilities += inst(OP_CAPABILITY, [cap])

    def name(self, target: int, text: str) -> None:
        self.names += inst(OP_NAME, [target, *string_words(text)])

    def decorate(self, target: int, decoration: int, *literals: int) -> None:
        self.annotations += inst(OP_DECORATE, [target, decoration, *literals])

    def member_decorate(self, target: int, member: int, decoration: int, *literals: int) -> None:
        self.annotations += inst(OP_MEMBER_DECORATE, [target, member, decoration, *literals])

    def linkage(self, target: int, name: str, linkage_type: int) -> None:
        self.annotations += inst(
            OP_DECORATE, [target, DEC_LINKAGE_ATTRIBUTES, *string_words(name), linkage_type]
        )

    def entry_point(self, model: int, fn: int, name: str, interface: Iterable[int]) -> None:
        self.entry_points += inst(OP_ENTRY_POINT, [model, fn, *string_words(name), *interface])

    def execution_mode(self, fn: int, mode: int, *literals: int) -> None:
        self.execution_modes += inst(OP_EXECUTION_MODE, [fn, mode, *literals])

    # -- types and constants (deduplicated within the module unless unique=True)
    def type(self, opcode: int, *operands: int, unique: bool = False) -> int:
        key = (opcode, *operands)
        if not unique and key in self._types:
            return self._types[key]
        rid = self.id()
        self.globals += inst(opcode, [rid, *operands])
        if not unique:
            self._types[key] = rid
        return rid

    def constant(self, opcode: int, type_id: int, *operands: int) -> int:
        key = (opcode, type_id, *operands)
        got = self._consts.get(key)
        if got is not None:
            return got
        rid = self.id()
        self.globals += inst(opcode, [type_id, rid, *operands])
        self._consts[key] = rid
        return rid

    def variable(self, ptr_type: int, storage: int) -> int:
        rid = self.id()
        self.globals += inst(OP_VARIABLE, [ptr_type, rid, storage])
        return rid

    def import_function(self, ret: int, fn_type: int, params: Sequence[int], name: str) -> int:
        """Declare an imported function (no body) with an Import linkage."""
        fid = self.id()
        words = inst(OP_FUNCTION, [ret, fid, FUNCTION_CONTROL_NONE, fn_type])
        for p in params:
            words += inst(OP_FUNCTION_PARAMETER, [p, self.id()])
        words += inst(OP_FUNCTION_END, [])
        self.declarations += words
        self.linkage(fid, name, LINKAGE_IMPORT)
        return fid

    # -- output
    def words(self) -> list[int]:
        return [
            MAGIC,
            VERSION_1_5,
            0,
            self.bound,
            0,
            *self.capabilities,
            *self.memory_model,
            *self.entry_points,
            *self.execution_modes,
            *self.names,
            *self.annotations,
            *self.globals,
            *self.declarations,
            *self.functions,
        ]

    def to_bytes(self) -> bytes:
        return to_bytes(self.words())

    def write(self, path: Path) -> None:
        path.write_bytes(self.to_bytes())


def to_bytes(words: Sequence[int]) -> bytes:
    """Little-endian bytes of a word list."""
    import numpy as np

    return np.asarray(words, dtype="<u4").tobytes()
