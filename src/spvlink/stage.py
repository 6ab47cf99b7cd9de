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
from ._words import opcode_of
from .errors import InputError, LinkWarning, ToolError, ValidationError
from .outputs import check_outputs, destination, write_atomic, write_tree_atomic
from .record import Options
from .timing import StepTimer

if TYPE_CHECKING:
    from .ir import Module
    from .link import LinkOptions, LinkResult

STDIN = "-"
RMETA = "lib.rmeta"
_RELAX = tuple(name for name, _ in choices.VALIDATOR_FLAGS)


class StageOptions(Options):
    """Everything `spvlink link` can be told, as keyword-only fields.

    The linker's own options live in `link` (a `LinkOptions`) and the spirv-val options
    that are on in `validator` (names from `choices.VALIDATOR_FLAGS`, all off by default
    as in Rust-GPU). Both can also be given flat, as the command line and manifests do:
    `StageOptions(dce=False, scalar_block_layout=True)` sets `link.dce` and adds
    `scalar_block_layout` to `validator`; reading `options.dce` reads `link.dce`.
    """

    # Outputs. `output=None` writes no module file: the binaries come back in the result.
    output: str | Path | None = "out.spv"
    json: str | Path | None = None  # compile-result JSON; per entry point: OUTPUT.json
    link: LinkOptions = None  # type: ignore[assignment]  # filled by __init__
    # spirv-opt.
    opt_level: str = "0"
    spirv_opt: bool = True
    # spirv-val.
    validate: bool = True
    target_env: str = "spv1.6"
    validator: tuple[str, ...] = ()
    # Dumps (directories, created when missing) and disassembly of the linked module(s).
    dump_pre_link: str | Path | None = None
    dump_post_merge: str | Path | None = None
    dump_post_split: str | Path | None = None
    dump_post_link: str | Path | None = None
    disassemble: bool = False
    disassemble_fn: str | None = None
    disassemble_entry: str | None = None
    disassemble_globals: bool = False

    def __init__(self, **given: Any) -> None:
        from .errors import LinkError
        from .link import LinkOptions

        flat = {k: given.pop(k) for k in list(given) if k in _link_fields()}
        on = dict.fromkeys(given.pop("validator", ()))
        for name in [k for k in given if k in _RELAX]:
            if given.pop(name):
                on[name] = None
            else:
                on.pop(name, None)
        try:
            base = given.pop("link", None) or LinkOptions()
            given["link"] = base.replace(**flat) if flat else base
        except LinkError as exc:
            raise InputError(exc.message) from None
        given["validator"] = tuple(name for name in _RELAX if name in on)
        super().__init__(**given)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not StageOptions fields.
        if name in _RELAX:
            return name in self.validator
        if name in _link_fields():
            return getattr(self.link, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Every keyword the constructor takes, the linker's and the relaxations included."""
        return (*super().field_names(), *_link_fields(), *_RELAX)

    def __post_init__(self) -> None:
        unknown = [name for name in self.validator if name not in _RELAX]
        if unknown:
            raise InputError(f"unknown validator option {unknown[0]!r}: use "
                             f"{', '.join(_RELAX)}")
        object.__setattr__(self, "opt_level", str(self.opt_level))
        problem = choices.unknown("optimisation level", self.opt_level, choices.OPT_LEVELS)
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


def _link_fields() -> tuple[str, ...]:
    """The LinkOptions fields a StageOptions takes flat (not the dump hook and the export
    names, which the stage sets itself)."""
    from .link import LinkOptions

    return tuple(name for name in LinkOptions.field_names()
                 if name not in ("dump", "export_names"))


class CompileResult:
    """What a stage run produced; `module` is Rust-GPU's `ModuleResult`."""

    def __init__(self) -> None:
        self.entry_points: list[str] = []
        # The module's path (single) or entry name -> path (per entry point); with
        # `output=None` the path is None / the dict is empty.
        self.module: Path | dict[str, Path] | None = None
        self.warnings: list[str | LinkWarning] = []  # the CLI prints each as `warning: `
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
        """One module per entry point (`module` a dict, `binaries`) rather than one."""
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


def _check_writable_dir(d: Path, what: Path) -> None:
    """`d`, the folder of the output `what`, exists and is writable. A missing folder is
    created with its parents, as rustc creates its output directory (`create_dir_all`)."""
    d = d if str(d) else Path(".")
    if not d.exists():
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot write {what}: cannot create directory {d}: "
                             f"{exc.strerror or exc}") from None
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
    p = os.fspath(path)
    try:
        # os-level calls: a link of thousands of small modules opens each once, and
        # Python's buffered file objects cost twice the system calls' time here.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{p}: is a directory, not a SPIR-V module or archive")
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            raise InputError(f"{p}: is a device, not a SPIR-V module or archive")
        regular = stat.S_ISREG(st.st_mode)
        if regular and st.st_size > MAX_INPUT_BYTES:
            raise InputError(f"{p}: more than {MAX_INPUT_BYTES} bytes, the limit on inputs")
        # A regular file is read in one call of its size (a file that grew is read on);
        # a stream up to the limit, a chunk at a time, never reserving the limit.
        chunks: list[bytes] = []
        total = 0
        want = st.st_size + 1 if regular else 1 << 20
        while total <= MAX_INPUT_BYTES:
            chunks.append(os.read(fd, min(want, MAX_INPUT_BYTES + 1 - total)))
            total += len(chunks[-1])
            if not chunks[-1] or (regular and total <= st.st_size):
                break
            want = 1 << 20
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if total > MAX_INPUT_BYTES:
        raise InputError(f"{p}: more than {MAX_INPUT_BYTES} bytes, the limit on inputs")
    return b"".join(chunks)  # one chunk: that bytes object itself, not a copy


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
    return [InputModule(name, data, parse_input(data, name), text)
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
        modules = [parse_input(data, name) for name, data, _ in found]
    return [InputModule(name, data, m, text)
            for (name, data, text), m in zip(found, modules, strict=True)]


def expand_input(src: str | Path) -> list[tuple[str, bytes]]:
    """(source name, bytes) of each module an input holds: itself or an archive's members."""
    from .archive import is_archive, read_archive

    data = read_input_bytes(src)
    label = "<stdin>" if str(src) == STDIN else str(src)
    if not is_archive(data):
        return [(label, data)]
    members = read_archive(data, source=label)
    return [(f"{label}({name})", body) for name, body in members if name != RMETA]


def parse_input(data: bytes, name: str) -> Module:
    """`binary.read`, with an error that names the input and says what is wrong."""
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


def disassembly_texts(m: Module, options: StageOptions, label: str,
                      exported: dict[int, str] | None = None) -> tuple[list[str], list[str]]:
    """(texts, warnings) for the disassemble options on one linked module. `exported`:
    function id -> the export name the linker resolved (`LinkResult.export_names`), which
    `--disassemble-fn` finds besides OpNames and entry point names."""
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
    from .ir.facts import entry_points, functions

    fns = functions(m)
    if options.disassemble_globals:
        first_fn = int(fns.first[0]) if fns.first.size else len(m)
        texts.append(f"; {label}: globals\n" + "\n".join(lines[:first_fn]) + "\n")
    names = _function_names(m)
    for fid, name in (exported or {}).items():
        names.setdefault(fid, set()).add(name)
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
        # link.rs's `do_disassemble`: the entry point's own function, not its callees.
        want = options.disassemble_entry
        roots = [m.inst_words(i)[2] for i, _model, name in entry_points(m) if name == want]
        if not roots:
            warnings.append(_not_found(label, "entry point", want, options))
        for fid in dict.fromkeys(roots):
            if fid in index_of:
                texts.append(f"; {label}: entry point {want}: function %{fid}\n"
                             + fn_text(index_of[fid]))
    return texts, warnings


def _not_found(label: str, what: str, name: str, options: StageOptions) -> str:
    return f"{label}: no {what} named {name!r} to disassemble"


def _function_names(m: Module) -> dict[int, set[str]]:
    """Function id -> names it is known by: OpName, export name, entry point names."""
    from .ir import decode_string
    from .spec import Decoration, Op

    out: dict[int, set[str]] = {}
    for i in m.indices_of(Op.Name, Op.EntryPoint, Op.Decorate).tolist():
        ws = m.inst_words(i)
        op = opcode_of(ws[0])
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
    """`tools.ValidatorOptions` from anything with the relax-flag attributes (a StageOptions,
    the command line's arguments)."""
    from .tools import ValidatorOptions

    return ValidatorOptions(**{name: bool(getattr(options, name)) for name in _RELAX})


class _Plan(NamedTuple):
    """Where a run writes: checked before any work."""

    out_path: Path | None
    per_entry: bool
    json_path: Path | None

    @property
    def prefix(self) -> str:
        """The dumps' file-name prefix: the output's name without `.spv` (Rust-GPU's
        `disambiguated_crate_name_for_dumps`, the crate's output name)."""
        return self.out_path.stem if self.out_path is not None else "out"


class _Output:
    """One output module on its way out: its entry name (None: the single module), the
    label diagnostics use, the file it goes to and its bytes."""

    def __init__(self, name: str | None, stem: str | None, plan: _Plan, data: bytes) -> None:
        self.name = name
        self.stem = stem
        self.data = data
        self.invalid = False  # spirv-val rejected it
        if stem is None:
            self.path = plan.out_path
            self.label = str(plan.out_path) if plan.out_path is not None else "<stdout>"
        else:
            assert plan.out_path is not None
            self.path = per_entry_dir(plan.out_path) / f"{stem}.spv"
            self.label = str(self.path)


def run_stage(inputs: Sequence[str | Path], options: StageOptions | None = None, *,
              loader: Callable[[str | Path], list[InputModule]] | None = None
              ) -> CompileResult:
    """Link `inputs` into validated, optimised module(s) as `options` say, in the phases of
    Rust-GPU's `link.rs`: check the outputs, read, link, then per output module disassemble,
    dump, optimise and validate, write, and write the compile-result JSON.

    Raises `InputError`, `ParseError` or `ArchiveError` for bad inputs and outputs,
    `LinkError` when linking fails and `ValidationError` when spirv-val rejects a module:
    that module is then written as `NAME.invalid.spv` beside where it would have gone (the
    error's note names it), nothing is left at its own path, and no JSON is written.
    `loader` replaces `load_input` (link-many caches with it).
    """
    options = options or StageOptions()
    result = CompileResult()
    timer = StepTimer(result.timings)
    plan = _plan_outputs(inputs, options)
    with timer("read inputs"):
        mods = load_inputs(inputs, loader)
    result.assembled = [im.name for im in mods if im.assembled]
    _dump_inputs(mods, options)
    # The linker empties this list once the inputs are merged (`link_consuming`); with
    # `mods` (and the bytes as read) gone too, nothing else holds the inputs' arrays.
    modules = [im.module for im in mods]
    del mods
    linked = _link(modules, options, plan, result)
    outputs = _post_link(linked, options, plan, result, timer)
    invalid = _validate(outputs, options, timer)
    with timer("write outputs"):
        _write_outputs(outputs, invalid, plan, result)
    if invalid:
        if len(invalid) == 1:
            raise invalid[0]
        raise InvalidModules(f"{len(invalid)} modules failed validation", errors=invalid)
    if plan.json_path is not None:
        with timer("write json"):
            write_atomic(plan.json_path, result.to_json())
        result.json_path = plan.json_path
    return result


def _plan_outputs(inputs: Sequence[str | Path], options: StageOptions) -> _Plan:
    """Check the inputs' count and every destination before doing any work."""
    per_entry = options.module_output == "per-entry-point"
    if not inputs:
        raise InputError("no input files")
    if per_entry and options.output is None:
        raise InputError("per-entry-point output needs an output path, not stdout")
    out_path = Path(options.output) if options.output is not None else None
    if out_path is not None:
        destination(out_path)  # a FIFO, a device or a name too long: a clean error now
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
    # No output may overwrite an input or another output (`-o x --json x`).
    check_outputs(inputs, [(what, p) for what, p in (
        ("-o", out_path if not per_entry else None), ("--json", json_path)) if p is not None],
        trees=[("per-entry-point output", per_entry_dir(out_path))]
        if per_entry and out_path is not None else [])
    if options.validate or (options.spirv_opt and options.spirv_opt_reason()):
        from .tools import canonical_target_env

        canonical_target_env(options.target_env)  # an unknown name fails before any work
    return _Plan(out_path, per_entry, json_path)


def _dump_inputs(mods: Sequence[InputModule], options: StageOptions) -> None:
    """`--dump-pre-link`: each input module as read."""
    if options.dump_pre_link is not None:
        d = _ensure_dir(Path(options.dump_pre_link), "--dump-pre-link")
        for k, im in enumerate(mods):
            write_atomic(d / _dump_name(k, im.name), im.data)


def _link(modules: list[Module], options: StageOptions, plan: _Plan,
          result: CompileResult) -> LinkResult:
    """The linker, with the merge and split dumps named as Rust-GPU's linker names them:
    `PREFIX.spv` after the merge, and after the split `PREFIX.spv` (one module) or
    `PREFIX.STEM.spv` (one per entry point)."""
    from .binary import write
    from .link import link_consuming

    def dump(stage: str, m: Module) -> None:
        where = options.dump_post_merge if stage == "post-merge" else options.dump_post_split
        if where is None:
            return
        flag = "--dump-" + stage.split(":", 1)[0]
        stem = stage.split(":", 1)[1] if ":" in stage else None
        d = _ensure_dir(Path(where), flag)
        write_atomic(d / (f"{plan.prefix}.{stem}.spv" if stem else f"{plan.prefix}.spv"),
                     write(m))

    wants_dump = options.dump_post_merge is not None or options.dump_post_split is not None
    t0 = time.perf_counter()
    linked: LinkResult = link_consuming(
        modules, options.link.replace(dump=dump if wants_dump else None,
                                      export_names=bool(options.disassemble_fn)))
    result.timings.extend(("link: " + n, t) for n, t in linked.timings)
    result.timings.append(("link", time.perf_counter() - t0))
    result.warnings.extend(linked.warnings)
    # link.rs: one module lists its entry points in module order; per entry point they are
    # the keys of a BTreeMap, so sorted.
    result.entry_points = (sorted(linked.modules) if plan.per_entry
                           else list(linked.entry_points))
    return linked


def _post_link(linked: LinkResult, options: StageOptions, plan: _Plan,
               result: CompileResult, timer: StepTimer) -> list[_Output]:
    """link.rs's `post_link_single_module` for each output module, up to validation:
    disassembly, the binary, `--dump-post-link` (before spirv-opt), spirv-opt."""
    from .binary import write

    if linked.module is not None:
        parts: list[tuple[str | None, str | None, Module]] = [(None, None, linked.module)]
    else:  # in the order of their file stems, as link.rs's BTreeMap
        parts = sorted(((name, linked.stems[name], m) for name, m in linked.modules.items()),
                       key=lambda part: str(part[1]))
    reason = options.spirv_opt_reason()
    if reason is not None and not options.spirv_opt:
        result.warnings.append(f"spirv-opt was skipped (spirv_opt=False); it would have run "
                               f"because {reason}")
    outputs: list[_Output] = []
    for name, stem, m in parts:
        with timer("write binary" if name is None else f"write binary {name}"):
            out = _Output(name, stem, plan, write(m))
        texts, warns = disassembly_texts(m, options, out.label,
                                         linked.export_names.get(name))
        result.disassembly.extend(texts)
        result.warnings.extend(warns)
        if options.dump_post_link is not None:
            d = _ensure_dir(Path(options.dump_post_link), "--dump-post-link")
            # link.rs: `dir.join(out file name)`, or `dir.join(prefix).with_extension(..)`.
            file = (f"{plan.prefix}.{stem}.spv" if stem is not None
                    else plan.out_path.name if plan.out_path is not None else "out.spv")
            write_atomic(d / file, out.data)
        outputs.append(out)
    from .postprocess import map_parallel, strip_natively, strips_natively

    if strips_natively(options):  # spirv-opt's only work: done here, no process (issue 14)
        from .link.strip_debug import NATIVE_STEP

        with timer(NATIVE_STEP):
            for out, (_, _, m) in zip(outputs, parts, strict=True):
                out.data = write(strip_natively(m, compact=options.link.compact_ids))
    elif reason is not None and options.spirv_opt:
        # One spirv-opt process per output, as many at once as there are cores; warnings
        # in output order.
        def optimize(out: _Output) -> tuple[bytes, Any]:
            scratch = CompileResult()
            return _optimize(out.data, options, out.label, scratch, timer), scratch.warnings

        for out, (data, warns) in zip(outputs, map_parallel(optimize, outputs), strict=True):
            out.data = data
            result.warnings.extend(warns)
    return outputs


def _validate(outputs: Sequence[_Output], options: StageOptions,
              timer: StepTimer) -> list[ValidationError]:
    """spirv-val on each output module, with the stage's validator options; one error each
    that fails, naming where the module is kept."""
    invalid: list[ValidationError] = []
    if not options.validate:
        return invalid
    from .postprocess import map_parallel
    from .tools import validate

    vopts = validator_options(options)

    def check(out: _Output) -> ValidationError | None:
        with timer("spirv-val" if out.name is None else f"spirv-val {out.name}"):
            try:
                validate(out.data, options.target_env, vopts)
            except ValidationError as exc:
                kept = _invalid_path(out.path)
                quoted = exc.message.removeprefix("error: ")
                out.invalid = True
                return ValidationError(
                    f"{out.label}: module failed validation "
                    f"(spirv-val --target-env {options.target_env}): {quoted}",
                    notes=[*exc.notes, f"the module was kept as {kept} for inspection"
                           if kept is not None else "the module was not written"])
        return None

    # In-process validation of several outputs on a thread pool (ctypes releases the GIL).
    invalid.extend(e for e in map_parallel(check, outputs) if e is not None)
    return invalid


def _invalid_path(path: Path | None) -> Path | None:
    """Where a module that failed validation is kept: `OUT.spv` -> `OUT.invalid.spv`."""
    if path is None:
        return None
    return path.with_name(f"{path.stem}.invalid{path.suffix or '.spv'}")


def _write_outputs(outputs: Sequence[_Output], invalid: Sequence[ValidationError],
                   plan: _Plan, result: CompileResult) -> None:
    """Write the modules; one that failed validation goes to its `.invalid.spv` name and
    nothing is left at its own path (a build tool would take a stale file as up to date)."""
    bad = {id(out) for out in outputs if out.invalid}
    if plan.out_path is None:
        if not invalid:
            if outputs[0].name is None:
                result.binary = outputs[0].data
            else:
                result.binaries = {str(out.name): out.data for out in outputs}
        return
    if not plan.per_entry:
        out = outputs[0]
        if id(out) in bad:
            kept = _invalid_path(plan.out_path)
            assert kept is not None
            write_atomic(kept, out.data)
            plan.out_path.unlink(missing_ok=True)
            return
        write_atomic(plan.out_path, out.data)
        result.module = plan.out_path
        result.binary = out.data
        return
    # Swapped in as a whole: a run killed midway leaves the old set or the new.
    files = {}
    for out in outputs:
        assert out.path is not None
        target = _invalid_path(out.path) if id(out) in bad else out.path
        assert target is not None
        files[target.name] = out.data
    written = write_tree_atomic(per_entry_dir(plan.out_path), files)
    if not bad:
        result.binaries = {str(out.name): out.data for out in outputs}
        result.module = {str(out.name): written[f"{out.stem}.spv"] for out in outputs}


def _optimize(data: bytes, options: StageOptions, label: str, result: CompileResult,
              timer: StepTimer) -> bytes:
    """spirv-opt as link.rs runs it: the level's passes, then EliminateDeadConstant +
    StripDebugInfo under the strip rule, told the target environment, `--preserve-bindings`
    and the stage's validator options. A failure is a warning and the module stays as it
    was ("spirv-opt failed, leaving as unoptimized")."""
    from .tools import optimize, optimizer_passes

    passes = optimizer_passes(options.opt_level, strip=options.strips_debug)
    if not passes:
        return data
    with timer("spirv-opt"):
        try:
            return optimize(data, passes, target_env=options.target_env,
                            preserve_bindings=options.preserve_bindings,
                            validator=validator_options(options))
        except (ToolError, ValidationError) as exc:
            detail = "; ".join([exc.message.removeprefix("error: "), *exc.notes])
            result.warnings.append(f"spirv-opt failed on {label}, keeping the unoptimised "
                                   f"module: {detail}")
            return data


__all__ = [
    "CompileResult", "InvalidModules", "StageOptions", "compile_result_json", "expand_input",
    "load_input", "load_inputs", "per_entry_dir", "read_input_bytes", "run_stage", "write_atomic",
]
