"""The text codec: SPIRV-Tools' assembly language.

`disassemble(Module) -> str` prints what `spirv-dis` prints (`raw_id=True`: `--raw-id`);
`assemble(str) -> Module` reads what `spirv-as` reads. Each half is imported only when
used, so disassembling does not pay for the assembler's imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assembler import DEFAULT_VERSION, SPVLINK_GENERATOR, assemble
    from .disassembler import disassemble

_LAZY = {
    "DEFAULT_VERSION": "assembler",
    "SPVLINK_GENERATOR": "assembler",
    "assemble": "assembler",
    "disassemble": "disassembler",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(name)


__all__ = ["DEFAULT_VERSION", "SPVLINK_GENERATOR", "assemble", "disassemble"]
