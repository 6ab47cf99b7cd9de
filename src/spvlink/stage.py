"""The link stage, callable from Python: inputs -> link -> spirv-opt -> spirv-val -> outputs.

This is Rust-GPU's `rustc_codegen_spirv` link stage (`link.rs`) as a library:

    result = run_stage(["main.spv", "libshared.rlib"],
                       StageOptions(output="out.spv", module_output="per-entry-point"))
    result.module      # {"main": Path("out.spvs/main.spv"), ...}

Inputs are SPIR-V binaries (any extension) and ar archives (rlibs), whose members except
`lib.rmeta` are linked in archive order; `-` reads one module from stdin. Every output is
written to a temporary file in its destination directory and moved into place, so no run
leaves a half-written file. Nothing here prints: warnings are returned in
`CompileResult.warnings` and errors are raised (`spvlink.errors`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import choices
from .errors import InputError, ToolError, ValidationError
from .record import Options
from .timing import StepTimer

if TYPE_CHECKING:
    from .ir import Module
    from .link import LinkResult

STDIN = "-"
# The spirv-val relaxations the stage passes through (fields of both StageOptions and
# tools.ValidatorOptions).
RELAX_FLAGS = ("relax_struct_store", "relax_logical_pointer", "relax_block_layout",
               "uniform_buffer_standard_layout", "scalar_block_layout", "skip_block_layout")
RMETA = "lib.rmeta"


class StageOptions(Options):
    """Everything `spvlink link` can be told, as keyword-only fields."""

    # Outputs. `output=None` writes no module file: the binaries come back in the result.
    output: str | Path | None = "out.spv"
    module_output: str = "single"  # "per-entry-point" ("multiple" is an alias)
    json: str | Path | None = None  # compile-result JSON; per entry point: OUTPUT.json
    # Linker.
    create_library: bool = False
    allow_partial_linkage: bool = False
    use_highest_version: bool = False
    dce: bool = True
    compact_ids: bool = True
    spirv_metadata: str = "none"
    debuginfo: bool = False
    # spirv-opt.
    opt_level: str = "0"
    spirv_opt: bool = True
    preserve_bindings: bool = False
    # spirv-val, with Rust-GPU's relaxations by default.
    validate: bool = True
    target_env: str = "spv1.6"
    relax_struct_store: bool = True
    relax_logical_pointer: bool = True
    relax_block_layout: bool = True
    uniform_buffer_standard_layout: bool = True
    scalar_block_layout: bool = True
    skip_block_layout: bool = True
    # Dumps (directories, created when missing) and disassembly of the linked module(s).
    dump_pre_link: str | Path | None = None
    dump_post_merge: str | Path | None = None
    dump_post_split: str | Path | None = None
    dump_post_link: str | Path | None = None
    disassemble: bool = False
    disassemble_fn: str | None = None
    disassemble_entry: str | None = None
    disassemble_globals: bool = False
    time_passes: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "module_output", choices.module_output(self.module_output))
        object.__setattr__(self, "opt_level", str(self.opt_level))
        for problem in (
            choices.unknown("module output", self.module_output, choices.MODULE_OUTPUTS),
            choices.unknown("optimisation level", self.opt_level, choices.OPT_LEVELS),
            choices.unknown("spirv metadata level", self.spirv_metadata,
                            choices.METADATA_LEVELS),
        ):
            if problem:
                raise InputError(problem)

    @property
    def strips_debug(self) -> bool:
        """`link.rs`'s rule (`choices.strips_debug`): debug info off and metadata level
        `none`, so spirv-opt strips names and debug info; nothing else strips them."""
        return choices.strips_debug(self.debuginfo, self.spirv_metadata)

    def spirv_opt_reason(self) -> str | None:
        """Why spirv-opt runs (Rust-GPU's rule), or None when it does not."""
        if self.opt_level != "0":
            return f"the optimisation level is {self.opt_level} (opt_level=\"{self.opt_level}\")"
        if self.strips_debug:
            return ("debug info is off and spirv_metadata=\"none\", so dead constants are "
                    "eliminated and debug info is stripped")
        return None


class CompileResult:
    """What a stage run produced; `module` is Rust-GPU's `ModuleResult`."""

    def __init__(self) -> None:
        self.entry_points: list[str] = []
        # The module's path (single) or entry name -> path (per entry point); with
        # `output=None` the path is None / the dict is empty.
        self.module: Path | dict[str, Path] | None = None
        self.warnings: list[str] = []
        self.timings: list[tuple[str, float]] = []
        # The final binaries: one (single) or entry name -> bytes.
        self.binary: bytes | None = None
        self.binaries: dict[str, bytes] = {}
        self.json_path: Path | None = None
        self.disassembly: list[str] = []  # texts asked for by disassemble*
        self.assembled: list[str] = []  # inputs that were assembly text

    def __repr__(self) -> str:
        if isinstance(self.module, dict):
            where = "{" + ", ".join(f"{k!r}: {v.as_posix()!r}" for k, v in self.module.items()) + "}"
        elif self.module is not None:
            where = repr(self.module.as_posix())
        elif self.binaries:
            where = f"<{len(self.binaries)} binaries in memory>"
        else:
            where = f"<{len(self.binary or b'')} bytes in memory>"
        extra = f", warnings={len(self.warnings)}" if self.warnings else ""
        return f"CompileResult(entry_points={self.entry_points!r}, module={where}{extra})"

    @property
    def per_entry_point(self) -> bool:
        return isinstance(self.module, dict) or bool(self.binaries)

    def to_json(self, module_names: str | dict[str, str] | None = None) -> str:
        """The compile result in Rust-GPU's serde form: compact, `entry_points` first."""
        return compile_result_json(self.entry_points, _json_module(self, module_names))


class InvalidModules(ValidationError):
    """spirv-val rejected one or more of the written modules; `errors` has one each."""

    def __init__(self, message: str, *, notes: list[str] | None = None,
                 errors: list[ValidationError] | None = None) -> None:
        super().__init__(message, notes=notes)
        self.errors: list[ValidationError] = list(errors or [])


# ---------------------------------------------------------------------------------------
# The compile-result JSON


def compile_result_json(entry_points: Sequence[str], module: str | dict[str, str]) -> str:
    """`{"entry_points":[...],"module":...}` exactly as serde_json writes Rust-GPU's
    `CompileResult` (a `BTreeMap` for per-entry-point modules, so sorted by name)."""
    mod: Any = module if isinstance(module, str) else dict(sorted(module.items()))
    import json

    return json.dumps({"entry_points": list(entry_points), "module": mod},
                      separators=(",", ":"), ensure_ascii=False)


def _json_module(result: CompileResult, names: str | dict[str, str] | None) -> str | dict[str, str]:
    if names is not None:
        return names
    if isinstance(result.module, dict):
        return {k: v.as_posix() for k, v in result.module.items()}
    return result.module.as_posix() if result.module is not None else STDIN


# ---------------------------------------------------------------------------------------
# Files


def per_entry_dir(output: str | Path) -> Path:
    """`OUTPUT` with `.spv` replaced by `.spvs` (or `.spvs` appended)."""
    p = Path(output)
    return p.with_suffix(".spvs") if p.suffix == ".spv" else p.with_name(p.name + ".spvs")


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write to a temporary file beside `path`, then move it into place."""
    path = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory")
    try:
        fd, tmp = _create_temporary(parent / f".{path.name}.{os.getpid()}")
    except FileNotFoundError:
        raise InputError(f"cannot write {path}: directory {parent} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _create_temporary(stem: Path) -> tuple[int, str]:
    """A new file `stem.N.tmp` opened for writing (what `tempfile.mkstemp` does, whose
    import costs more than a small link's writing)."""
    for n in range(1000):
        name = f"{stem}.{n}.tmp"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(f"{stem}.*.tmp")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_writable_dir(d: Path, what: Path) -> None:
    d = d if str(d) else Path(".")
    if not d.exists():
        raise InputError(f"cannot write {what}: directory {d} does not exist")
    if not d.is_dir():
        raise InputError(f"cannot write {what}: {d} is not a directory")
    if not os.access(d, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what}: directory {d} is not writable")


def _ensure_dir(d: Path, what: str) -> Path:
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {what} directory {d}: {exc.strerror or exc}") from None
    if not os.access(d, os.W_OK | os.X_OK):
        raise InputError(f"cannot write to {what} directory {d}: not writable")
    return d


# The largest input read (a module or an archive): an endless stream or device stops here
# with an error instead of filling the memory.
MAX_INPUT_BYTES = 1 << 30


def read_input_bytes(path: str | Path) -> bytes:
    """The bytes of an input file (`-` is stdin), with one clear error naming it.

    The size is checked before reading: devices are refused, and no more than
    `MAX_INPUT_BYTES` is read from a file or a stream."""
    import stat

    if str(path) == STDIN:
        try:
            fd = sys.stdin.buffer.fileno()
            device = stat.S_ISCHR(os.fstat(fd).st_mode) and not os.isatty(fd)
        except (OSError, ValueError):  # a stream without a file (tests, embedding)
            device = False
        if device:
            raise InputError("<stdin>: is a device, not a SPIR-V module or archive")
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(f"<stdin>: more than {MAX_INPUT_BYTES} bytes, the limit on inputs")
        return data
    p = Path(path)
    try:
        with open(p, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                raise InputError(f"{p}: is a device, not a SPIR-V module or archive")
            data = f.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(f"{p}: more than {MAX_INPUT_BYTES} bytes, the limit on inputs")
        return data
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, not a SPIR-V module or archive") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from None


def _is_archive(data: bytes) -> bool:
    return data.startswith((b"!<arch>\n", b"!<thin>\n"))


class InputModule(NamedTuple):
    """One module to link, with the name diagnostics use and the bytes as read (for
    assembly text, the binary it assembled to, and `assembled` set)."""

    name: str
    data: bytes
    module: Module
    assembled: bool = False


def load_input(src: str | Path) -> list[InputModule]:
    """The modules one input holds (itself, or an archive's objects), parsed; assembly
    text is assembled (`inputs.decode_input`)."""
    return [InputModule(name, data, _parse(data, name), text)
            for name, data, text in _decoded(expand_input(src))]


def _decoded(pairs: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes, bool]]:
    from .inputs import decode_input

    return [(name, *decode_input(name, data)) for name, data in pairs]


def load_inputs(inputs: Sequence[str | Path],
                loader: Callable[[str | Path], list[InputModule]] | None = None
                ) -> list[InputModule]:
    """Read every input (objects, archives and assembly text; `-` is stdin) into modules,
    in order.

    Without a custom loader, all modules are parsed together (`binary.read_many`: the
    vectorised half of reading done once for all); if one is malformed, they are parsed
    one by one so that the error names the right file.
    """
    out: list[InputModule] = []
    if loader is not None:
        for src in inputs:
            out.extend(loader(src))
        return out
    from .binary import read_many
    from .errors import ParseError

    found = _decoded([pair for src in inputs for pair in expand_input(src)])
    try:
        modules = read_many([data for _, data, _ in found], [name for name, _, _ in found])
    except ParseError:
        modules = [_parse(data, name) for name, data, _ in found]
    return [InputModule(name, data, m, text)
            for (name, data, text), m in zip(found, modules, strict=True)]


def expand_input(src: str | Path) -> list[tuple[str, bytes]]:
    """(source name, bytes) of each module an input holds: itself or an archive's members."""
    data = read_input_bytes(src)
    label = "<stdin>" if str(src) == STDIN else str(src)
    if not _is_archive(data):
        return [(label, data)]
    from .archive import read_archive

    members = read_archive(data, source=label)
    return [(f"{label}({name})", body) for name, body in members if name != RMETA]


def _parse(data: bytes, name: str) -> Module:
    from .binary import read
    from .errors import ParseError

    try:
        return read(data, source=name)
    except ParseError as exc:
        if not exc.message.startswith(name):
            what = "not a SPIR-V module" if not _looks_like_spirv(data) else "malformed SPIR-V"
            exc.message = f"{name}: {what}: {exc.message}"
            exc.args = (exc.message,)
        raise


def _looks_like_spirv(data: bytes) -> bool:
    head = data[:4]
    return head in (b"\x03\x02\x23\x07", b"\x07\x23\x02\x03")


def _dump_name(index: int, name: str) -> str:
    base = name.rsplit("(", 1)[-1].rstrip(")") if name.endswith(")") else Path(name).name
    base = base.replace("/", "_").replace("\\", "_") or "stdin"
    if not base.endswith(".spv"):
        base += ".spv"
    return f"{index:03d}_{base}"


# ---------------------------------------------------------------------------------------
# Disassembly for --disassemble*


def disassembly_texts(m: Module, options: StageOptions, label: str) -> tuple[list[str], list[str]]:
    """(texts, warnings) for the disassemble options on one linked module."""
    texts: list[str] = []
    warnings: list[str] = []
    if not (options.disassemble or options.disassemble_fn or options.disassemble_entry
            or options.disassemble_globals):
        return texts, warnings
    from .text import disassemble

    full = disassemble(m)
    if options.disassemble:
        texts.append(f"; {label}\n{full}")
    if not (options.disassemble_fn or options.disassemble_entry or options.disassemble_globals):
        return texts, warnings
    lines = _instruction_lines(full, len(m))
    if lines is None:
        warnings.append(f"{label}: cannot map disassembly lines to instructions")
        return texts, warnings
    from .link.facts import functions
    from .spec import Op

    fns = functions(m)
    if options.disassemble_globals:
        first_fn = int(fns.first[0]) if fns.first.size else len(m)
        texts.append(f"; {label}: globals\n" + "\n".join(lines[:first_fn]) + "\n")
    names = _function_names(m)
    index_of = fns.index_of()

    def fn_text(k: int) -> str:
        return "\n".join(lines[int(fns.first[k]):int(fns.last[k]) + 1]) + "\n"

    if options.disassemble_fn:
        want = options.disassemble_fn
        found = [fid for fid, ns in names.items() if want in ns and fid in index_of]
        if not found:
            warnings.append(_not_found(label, "function", want, options))
        for fid in found:
            texts.append(f"; {label}: function {want}\n" + fn_text(index_of[fid]))
    if options.disassemble_entry:
        want = options.disassemble_entry
        from .link.split import entry_points

        roots = []
        for i, _model, name in entry_points(m):
            if name == want:
                roots.append(m.inst_words(i)[2])
        if not roots:
            warnings.append(_not_found(label, "entry point", want, options))
        # The entry's function and every function it calls, in module order.
        seen: set[int] = set()
        work = list(roots)
        starts = m.starts
        while work:
            fid = work.pop()
            if fid in seen or fid not in index_of:
                continue
            seen.add(fid)
            k = index_of[fid]
            for i in range(int(fns.first[k]), int(fns.last[k]) + 1):
                if int(m.opcodes[i]) == Op.FunctionCall:
                    work.append(int(m.words[int(starts[i]) + 3]))
        for k, fid in enumerate(fns.ids.tolist()):
            if fid in seen:
                texts.append(f"; {label}: entry point {want}: function %{fid}\n" + fn_text(k))
    return texts, warnings


def _not_found(label: str, what: str, name: str, options: StageOptions) -> str:
    hint = ""
    if what == "function" and options.spirv_metadata == "none":
        hint = " (names were stripped: try spirv_metadata=\"full\")"
    return f"{label}: no {what} named {name!r} to disassemble{hint}"


def _function_names(m: Module) -> dict[int, set[str]]:
    """Function id -> names it is known by: OpName, export name, entry point names."""
    from .ir import decode_string
    from .spec import Decoration, Op

    out: dict[int, set[str]] = {}
    for i in m.indices_of(Op.Name, Op.EntryPoint, Op.Decorate).tolist():
        ws = m.inst_words(i)
        op = ws[0] & 0xFFFF
        if op == Op.Name:
            out.setdefault(ws[1], set()).add(decode_string(ws[2:]))
        elif op == Op.EntryPoint:
            out.setdefault(ws[2], set()).add(decode_string(ws[3:]))
        elif len(ws) > 3 and ws[2] == Decoration.LinkageAttributes:
            out.setdefault(ws[1], set()).add(decode_string(ws[3:-1]))
    return out


def _instruction_lines(text: str, count: int) -> list[str] | None:
    """The disassembly's lines, one per instruction (header comments dropped)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(";")]
    return lines if len(lines) == count else None


# ---------------------------------------------------------------------------------------
# The stage



def validator_options(options: Any) -> Any:
    """`tools.ValidatorOptions` from anything with the relax-flag attributes."""
    from .tools import ValidatorOptions

    return ValidatorOptions(**{name: getattr(options, name) for name in RELAX_FLAGS})


def run_stage(inputs: Sequence[str | Path], options: StageOptions | None = None, *,
              loader: Callable[[str | Path], list[InputModule]] | None = None
              ) -> CompileResult:
    """Link `inputs` into validated, optimised module(s) as `options` say.

    Raises `InputError`, `ParseError` or `ArchiveError` for bad inputs and outputs,
    `LinkError` when linking fails and `ValidationError` (after writing the modules)
    when spirv-val rejects one. `loader` replaces `load_input` (link-many caches with it).
    """
    from .binary import write
    from .link import LinkOptions, link

    options = options or StageOptions()
    result = CompileResult()
    timer = StepTimer(result.timings)
    per_entry = options.module_output == "per-entry-point"
    if not inputs:
        raise InputError("no input files")
    if per_entry and options.output is None:
        raise InputError("per-entry-point output needs an output path, not stdout")

    # Check the destinations before doing any work.
    out_path = Path(options.output) if options.output is not None else None
    if out_path is not None:
        if out_path.is_dir():
            raise InputError(f"cannot write {out_path}: it is a directory")
        _check_writable_dir(out_path.parent, out_path)
        if per_entry:
            spvs = per_entry_dir(out_path)
            if spvs.exists() and not spvs.is_dir():
                raise InputError(f"cannot write per-entry-point modules to {spvs}: "
                                 "it exists and is not a directory")
    json_path: Path | None = None
    if options.json is not None:
        json_path = Path(options.json)
    elif per_entry and out_path is not None:
        json_path = out_path.with_name(out_path.name + ".json")
    if json_path is not None:
        _check_writable_dir(json_path.parent, json_path)

    if options.validate or (options.spirv_opt and options.spirv_opt_reason()):
        from .tools import canonical_target_env

        canonical_target_env(options.target_env)  # an unknown name fails before any work

    with timer("read inputs"):
        mods = load_inputs(inputs, loader)
    result.assembled = [im.name for im in mods if im.assembled]

    if options.dump_pre_link is not None:
        d = _ensure_dir(Path(options.dump_pre_link), "--dump-pre-link")
        for k, im in enumerate(mods):
            write_atomic(d / _dump_name(k, im.name), im.data)

    stem = out_path.stem if out_path is not None else "out"

    def dump(stage: str, m: Module) -> None:
        if stage == "post-merge" and options.dump_post_merge is not None:
            d = _ensure_dir(Path(options.dump_post_merge), "--dump-post-merge")
            write_atomic(d / f"{stem}.spv", write(m))
        elif stage == "post-link" and options.dump_post_link is not None:
            d = _ensure_dir(Path(options.dump_post_link), "--dump-post-link")
            write_atomic(d / f"{stem}.spv", write(m))
        elif stage.startswith("post-split:") and options.dump_post_split is not None:
            from .link.split import file_stem

            d = _ensure_dir(Path(options.dump_post_split), "--dump-post-split")
            write_atomic(d / f"{file_stem(stage.split(':', 1)[1])}.spv", write(m))

    wants_dump = any(x is not None for x in (options.dump_post_merge, options.dump_post_link,
                                             options.dump_post_split))
    link_options = LinkOptions(
        create_library=options.create_library,
        allow_partial_linkage=options.allow_partial_linkage,
        use_highest_version=options.use_highest_version,
        dce=options.dce,
        compact_ids=options.compact_ids,
        module_output=options.module_output,
        spirv_metadata=options.spirv_metadata,
        debuginfo=options.debuginfo,
        time_passes=options.time_passes,
        dump=dump if wants_dump else None,
    )
    t0 = time.perf_counter()
    linked: LinkResult = link([im.module for im in mods], link_options)
    result.timings.extend(("link: " + n, t) for n, t in linked.timings)
    result.timings.append(("link", time.perf_counter() - t0))
    result.entry_points = list(linked.entry_points)

    # Name -> module, in the order they are written.
    if linked.module is not None:
        parts: list[tuple[str | None, Module]] = [(None, linked.module)]
    else:
        parts = list(linked.modules.items())

    for name, m in parts:
        label = _label(out_path, name, linked.stems)
        texts, warns = disassembly_texts(m, options, label)
        result.disassembly.extend(texts)
        result.warnings.extend(warns)

    reason = options.spirv_opt_reason()
    if reason is not None and not options.spirv_opt:
        result.warnings.append(f"spirv-opt was skipped (spirv_opt=False); it would have run "
                               f"because {reason}")

    binaries: list[tuple[str | None, bytes]] = []
    for name, m in parts:
        with timer("write binary" if name is None else f"write binary {name}"):
            binaries.append((name, write(m)))

    if reason is not None and options.spirv_opt:
        binaries = [(name, _optimize(data, options, _label(out_path, name, linked.stems),
                                     result, timer)) for name, data in binaries]

    invalid: list[ValidationError] = []
    if options.validate:
        from .tools import validate

        vopts = validator_options(options)
        for name, data in binaries:
            label = _label(out_path, name, linked.stems)
            with timer("spirv-val" if name is None else f"spirv-val {name}"):
                try:
                    validate(data, options.target_env, vopts)
                except ValidationError as exc:
                    quoted = exc.message.removeprefix("error: ")
                    invalid.append(ValidationError(
                        f"{label}: module failed validation "
                        f"(spirv-val --target-env {options.target_env}): {quoted}",
                        notes=[*exc.notes, "the module was written so it can be inspected"]))

    with timer("write outputs"):
        if out_path is None:
            if parts[0][0] is None:
                result.binary = binaries[0][1]
            else:
                result.binaries = dict(binaries)  # type: ignore[arg-type]
        elif not per_entry:
            write_atomic(out_path, binaries[0][1])
            result.module = out_path
            result.binary = binaries[0][1]
        else:
            spvs = _ensure_dir(per_entry_dir(out_path), "per-entry-point output")
            paths: dict[str, Path] = {}
            for name, data in binaries:
                assert name is not None
                p = spvs / f"{linked.stems[name]}.spv"
                write_atomic(p, data)
                paths[name] = p
                result.binaries[name] = data
            result.module = paths

    if invalid:
        if len(invalid) == 1:
            raise invalid[0]
        raise InvalidModules(f"{len(invalid)} modules failed validation", errors=invalid)

    if json_path is not None:
        with timer("write json"):
            write_atomic(json_path, result.to_json())
        result.json_path = json_path
    return result


def _label(out_path: Path | None, name: str | None, stems: dict[str, str]) -> str:
    if name is None:
        return str(out_path) if out_path is not None else "<stdout>"
    if out_path is None:
        return f"<stdout>({name})"
    return str(per_entry_dir(out_path) / f"{stems[name]}.spv")


def _optimize(data: bytes, options: StageOptions, label: str, result: CompileResult,
              timer: StepTimer) -> bytes:
    from .tools import optimize, optimizer_passes

    passes = optimizer_passes(options.opt_level, strip=options.strips_debug)
    if not passes:
        return data
    with timer("spirv-opt"):
        try:
            return optimize(data, passes, target_env=options.target_env,
                            preserve_bindings=options.preserve_bindings)
        except ToolError as exc:
            detail = "; ".join([exc.message, *exc.notes])
            result.warnings.append(f"spirv-opt failed on {label}, keeping the unoptimised "
                                   f"module: {detail}")
            return data


__all__ = [
    "CompileResult", "InvalidModules", "StageOptions", "compile_result_json", "expand_input",
    "load_input", "load_inputs", "per_entry_dir", "read_input_bytes", "run_stage", "write_atomic",
]
