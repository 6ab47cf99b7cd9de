"""spvlink: the SPIR-V link stage in Python.

    import spvlink
    modules = spvlink.load(["main.spvasm", "libhash.rlib"])  # as `spvlink link` reads them
    result = spvlink.link(modules, spvlink.LinkOptions(use_highest_version=True))
    open("out.spv", "wb").write(spvlink.write(result.module))

`run_stage(inputs, StageOptions(...))` is the whole `spvlink link` command (spirv-opt,
spirv-val, files written); errors are `spvlink.errors.SpvError`s whose `str()` is the text
the command prints. Heavy parts (numpy, the grammar) load lazily so `spvlink --help` stays
cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# spvlink never uses BLAS; without this, importing numpy starts a thread per core,
# which costs a small link more CPU time than the link itself.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

if TYPE_CHECKING:
    from .binary import read, write
    from .inputs import load
    from .ir import Instruction, Module
    from .link import LinkOptions, LinkResult, link
    from .stage import CompileResult, StageOptions, run_stage
    from .text import assemble, disassemble

_LAZY = {
    "read": ("spvlink.binary", "read"),
    "write": ("spvlink.binary", "write"),
    "Module": ("spvlink.ir", "Module"),
    "Instruction": ("spvlink.ir", "Instruction"),
    "assemble": ("spvlink.text", "assemble"),
    "disassemble": ("spvlink.text", "disassemble"),
    "link": ("spvlink.link", "link"),
    "LinkOptions": ("spvlink.link", "LinkOptions"),
    "LinkResult": ("spvlink.link", "LinkResult"),
    "load": ("spvlink.inputs", "load"),
    "run_stage": ("spvlink.stage", "run_stage"),
    "StageOptions": ("spvlink.stage", "StageOptions"),
    "CompileResult": ("spvlink.stage", "CompileResult"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        return getattr(importlib.import_module(module_name), attr)
    raise AttributeError(name)


__all__ = [
    "CompileResult", "Instruction", "LinkOptions", "LinkResult", "Module", "StageOptions",
    "__version__", "assemble", "disassemble", "link", "load", "read", "run_stage", "write",
]
