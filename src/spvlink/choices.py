"""The values the link stage's options accept, in one place for the linker, the stage
and the command line (no imports: the CLI's start-up pays nothing for it)."""

from __future__ import annotations

OPT_LEVELS = ("0", "1", "2", "3", "s", "z")
METADATA_LEVELS = ("none", "name-variables", "full")
MODULE_OUTPUTS = ("single", "per-entry-point")
MODULE_OUTPUT_ALIASES = {"multiple": "per-entry-point"}  # Rust-GPU's older spelling
# The spirv-val options the link stage and `spvlink val` take, each off unless given, as in
# Rust-GPU's `CodegenArgs`: (field of tools.ValidatorOptions and StageOptions, help). The
# same options go to spirv-val and to spirv-opt's own validation.
VALIDATOR_FLAGS = (
    ("relax_struct_store", "allow stores of structs whose types differ only in decorations"),
    ("relax_logical_pointer", "allow pointers as values in the Logical addressing model"),
    ("relax_block_layout", "VK_KHR_relaxed_block_layout rules for Uniform/StorageBuffer blocks"),
    ("uniform_buffer_standard_layout", "VK_KHR_uniform_buffer_standard_layout rules"),
    ("scalar_block_layout", "VK_EXT_scalar_block_layout rules"),
    ("skip_block_layout", "skip block layout checks altogether"),
)


def unknown(what: str, value: object, allowed: tuple[str, ...]) -> str | None:
    """The message for `value` when it is not one of `allowed`, else None."""
    if value in allowed:
        return None
    return f"unknown {what} {value!r}: use one of {', '.join(allowed)}"


def module_output(value: str) -> str:
    """The canonical spelling of a module output (its alias resolved)."""
    return MODULE_OUTPUT_ALIASES.get(value, value)


def strips_debug(debuginfo: bool, spirv_metadata: str) -> bool:
    """Rust-GPU's `link.rs` rule: names and debug info are stripped (by spirv-opt's
    EliminateDeadConstant + StripDebugInfo, in that order) only when debug info is off
    and the metadata level is `none`; `-g` or any other level keeps them."""
    return not debuginfo and spirv_metadata == "none"
