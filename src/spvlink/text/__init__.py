"""The text codec: SPIRV-Tools' assembly language.

`disassemble(Module) -> str` prints what `spirv-dis` prints (`raw_id=True`: `--raw-id`);
`assemble(str) -> Module` reads what `spirv-as` reads.
"""

from .assembler import DEFAULT_VERSION, SPVLINK_GENERATOR, assemble
from .disassembler import disassemble

__all__ = ["DEFAULT_VERSION", "SPVLINK_GENERATOR", "assemble", "disassemble"]
