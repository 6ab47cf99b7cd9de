"""The one exception tree of spvlink. The CLI catches only `SpvError`."""

from __future__ import annotations


class SpvError(Exception):
    """Base of every error spvlink raises on purpose.

    `notes` are extra lines printed as rustc-style `  = note: ...` lines.
    """

    def __init__(self, message: str, *, notes: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.notes: list[str] = list(notes or [])

    def __str__(self) -> str:
        return self.message


class ParseError(SpvError):
    """Malformed SPIR-V binary; says where (byte offset, instruction index, opcode)."""

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        index: int | None = None,
        opname: str | None = None,
    ) -> None:
        where = []
        if offset is not None:
            where.append(f"byte offset {offset}")
        if index is not None:
            where.append(f"instruction {index}")
        if opname is not None:
            where.append(opname)
        full = f"{message} ({', '.join(where)})" if where else message
        super().__init__(full)
        self.source: str | None = None  # the file, when the reader was told it
        self.offset = offset
        self.index = index
        self.opname = opname


class AssemblyError(SpvError):
    """Bad assembly text; carries the 1-based line and column."""

    def __init__(self, message: str, *, line: int, column: int) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.line = line
        self.column = column


class LinkError(SpvError):
    """A link failed; `errors` holds every individual problem found."""

    def __init__(self, message: str, *, notes: list[str] | None = None,
                 errors: list[LinkError] | None = None) -> None:
        super().__init__(message, notes=notes)
        self.errors: list[LinkError] = list(errors or [])


class UnresolvedSymbol(LinkError):
    pass


class DuplicateExport(LinkError):
    pass


class TypeMismatch(LinkError):
    pass


class DecorationMismatch(LinkError):
    pass


class VersionMismatch(LinkError):
    pass


class ModelMismatch(LinkError):
    pass


class ArchiveError(SpvError):
    pass


class ToolError(SpvError):
    """A SPIRV-Tools binary or library failed or could not be found."""


class ValidationError(ToolError):
    """spirv-val rejected a module."""


class InputError(SpvError):
    """An input or output file could not be used (missing, a directory, unwritable)."""
