"""The in-memory module: one word array, an instruction index, views made on demand."""

from .layout import Section
from .module import (
    MAGIC,
    Instruction,
    Module,
    Operand,
    concatenate,
    decode_string,
    encode_string,
    id_operand,
    literal_operand,
    string_operand,
)

__all__ = [
    "MAGIC", "Instruction", "Module", "Operand", "Section", "concatenate", "decode_string",
    "encode_string", "id_operand", "literal_operand", "string_operand",
]
