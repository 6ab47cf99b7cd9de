"""The one exception tree of spvlink. The CLI catches only `SpvError`.

`str(error)` is the text the `spvlink` command prints for it, without the first line's
`error: ` (the CLI prints `error: ` + `str(error)`): the message, then rustc-style
`  = note: ...` lines naming the symbols and files; a `LinkError` holding several errors
lists each of them, as the CLI does. Options are spelled as Python keyword arguments
(`use_highest_version=True`); the CLI rewrites them as its flags (`--use-highest-version`).
"""

from __future__ import annotations

from collections.abc import Sequence


def format_diagnostic(level: str, message: str, notes: Sequence[str] = ()) -> str:
    """One rustc-style diagnostic: `level: message`, continuation lines indented, then a
    `  = note: ...` line per note."""
    lines = str(message).splitlines() or [""]
    out = [f"{level}: {lines[0]}"]
    out += [f"  {ln}" if ln.strip() else "" for ln in lines[1:]]
    for note in notes:
        nlines = str(note).splitlines() or [""]
        out.append(f"  = note: {nlines[0]}")
        out += [f"          {ln}" for ln in nlines[1:]]
    return "\n".join(out)


class SpvError(Exception):
    """Base of every error spvlink raises on purpose.

    `message` is the first line; `notes` are extra lines printed as `  = note: ...`.
    """

    def __init__(self, message: str, *, notes: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.notes: list[str] = list(notes or [])

    def diagnostics(self) -> str:
        """The whole text the CLI prints for this error, `error: ` prefixes included.

        With several collected errors (`errors`): each one with its notes, this error's own
        notes as a `note:`, then rustc's `error: aborting due to N previous errors`."""
        subs: list[SpvError] = list(getattr(self, "errors", None) or [])
        if not subs:
            return format_diagnostic("error", self.message, self.notes)
        parts = [sub.diagnostics() for sub in subs]
        if self.notes:
            parts.append(format_diagnostic("note", "\n".join(self.notes)))
        if len(subs) > 1:
            parts.append(f"error: aborting due to {len(subs)} previous errors")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.diagnostics().removeprefix("error: ")


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

    def diagnostics(self) -> str:
        """As `SpvError`'s, the file the reader was told (`source`) first."""
        if self.source and not self.message.startswith(self.source):
            return format_diagnostic("error", f"{self.source}: {self.message}", self.notes)
        return super().diagnostics()


class AssemblyError(SpvError):
    """Bad assembly text; carries the 1-based line and column."""

    def __init__(self, message: str, *, line: int, column: int) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.line = line
        self.column = column


class LinkError(SpvError):
    """A link failed; `errors` holds every individual problem found (`str()` lists them)."""

    def __init__(self, message: str, *, notes: list[str] | None = None,
                 errors: list[LinkError] | None = None) -> None:
        super().__init__(message, notes=notes)
        self.errors: list[LinkError] = list(errors or [])


class UnresolvedSymbol(LinkError):
    """An import that no input exports (one per symbol, all collected)."""


class DuplicateExport(LinkError):
    """Two inputs export the same symbol."""


class TypeMismatch(LinkError):
    """An import's type differs from its export's; the notes show both."""


class DecorationMismatch(LinkError):
    """An import's decorations differ from its export's."""


class VersionMismatch(LinkError):
    """Inputs of different SPIR-V versions, without `use_highest_version=True`."""


class ModelMismatch(LinkError):
    """Inputs with different addressing or memory models."""


class ArchiveError(SpvError):
    """A malformed ar archive (rlib); names the archive and the member."""


class ToolError(SpvError):
    """A SPIRV-Tools binary or library failed or could not be found."""


class ValidationError(ToolError):
    """spirv-val rejected a module. A message starting `error: ` is spirv-val's own text:
    `str()` and the CLI give it exactly as spirv-val prints it."""

    def diagnostics(self) -> str:
        """spirv-val's own text as it is; else as `SpvError`'s."""
        if not self.message.startswith("error: "):
            return super().diagnostics()
        return "\n".join([self.message, *(f"  = note: {n}" for n in self.notes)])

    def __str__(self) -> str:
        text = self.diagnostics()
        return text if self.message.startswith("error: ") else text.removeprefix("error: ")


class InputError(SpvError):
    """An input or output file could not be used (missing, a directory, unwritable)."""


class LinkWarning:
    """Something a link accepted but a person should know (`str()` is the CLI's text, the
    `warning: ` prefix included)."""

    def __init__(self, message: str, *, notes: list[str] | None = None) -> None:
        self.message = message
        self.notes: list[str] = list(notes or [])

    def __str__(self) -> str:
        return format_diagnostic("warning", self.message, self.notes)

    def __repr__(self) -> str:
        return f"LinkWarning({self.message!r}, notes={self.notes!r})"
