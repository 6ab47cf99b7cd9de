"""`spvlink` command line: the only place that prints, exits or parses argv.

Start-up stays light: numpy, the grammar and the subpackages are imported inside the
command functions, so `spvlink --help` costs about as much as Python itself.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import choices
from ._words import text_bytes, text_of

if TYPE_CHECKING:
    from .errors import LinkWarning, SpvError

PROG = "spvlink"
INTERNAL_ERROR_EXIT = 101  # as rustc on an internal compiler error
# `spvlink link`'s options: (group, ((StageOptions keyword, flags, argparse spec), ...)).
# The parser is built from it and cmd_link gives StageOptions every keyword in it, which
# StageOptions hands on to its LinkOptions where they belong; with choices.VALIDATOR_FLAGS.
LINK_OPTIONS: tuple[tuple[str, tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...]], ...] = (
    ("output", (
        ("module_output", ("--module-output",), dict(
            choices=(*choices.MODULE_OUTPUTS, *choices.MODULE_OUTPUT_ALIASES), default="single",
            help="one module, or one per entry point in OUTPUT with .spv replaced by "
                 ".spvs/ (multiple is an alias)")),
        ("json", ("--json",), dict(
            metavar="PATH", help="write the compile result (Rust-GPU's JSON) here; per entry "
                                 "point it goes to OUTPUT.json by default")),
    )),
    ("linker", (
        ("create_library", ("--create-library",), dict(
            action="store_true", help="keep exports and allow unresolved imports (a library)")),
        ("allow_partial_linkage", ("--allow-partial-linkage",), dict(
            action="store_true", help="allow unresolved imports")),
        ("allow_pointer_mismatch", ("--allow-pointer-mismatch",), dict(
            action="store_true",
            help="Physical addressing: bind an import whose pointer types differ from the "
                 "definition's only in pointee type, casting with OpBitcast")),
        ("use_highest_version", ("--use-highest-version",), dict(
            action="store_true",
            help="link inputs of different SPIR-V versions at the highest one")),
        ("dce", ("--no-dce",), dict(
            action="store_false", help="keep unused functions and globals")),
        ("compact_ids", ("--no-compact-ids",), dict(
            action="store_false", help="do not renumber ids densely")),
        ("spirv_metadata", ("--spirv-metadata",), dict(
            choices=choices.METADATA_LEVELS, default="none",
            help="names to keep: none (default; stripped with the debug info unless -g), "
                 "name-variables (global variables' names only), full")),
        ("debuginfo", ("-g", "--debuginfo"), dict(
            action="store_true", help="keep debug info (and names)")),
        ("preserve_bindings", ("--preserve-bindings",), dict(
            action="store_true",
            help="keep unused descriptor bindings (DescriptorSet/Binding variables) through "
                 "the linker's dead-code elimination and spirv-opt")),
    )),
    ("optimiser (spirv-opt)", (
        ("opt_level", ("-O",), dict(
            choices=choices.OPT_LEVELS, default="0", metavar="LEVEL",
            help="0 (default), 1|2|3 performance passes, s|z size passes; spirv-opt also "
                 "runs at 0 unless -g or --spirv-metadata keep debug info")),
        ("spirv_opt", ("--no-spirv-opt",), dict(
            action="store_false", help="never run spirv-opt (warns when it would have run)")),
    )),
    ("validator (spirv-val)", (
        ("validate", ("--no-spirv-val",), dict(
            action="store_false", help="do not validate the output")),
        ("target_env", ("--target-env",), dict(
            metavar="ENV", default="spv1.6",
            help="validate (and optimise) for ENV: vulkan1.0..vulkan1.4, spv1.0..spv1.6, "
                 "opencl1.2.., universal1.x (default spv1.6)")),
    )),
    ("dumps and diagnostics", (
        ("dump_pre_link", ("--dump-pre-link",), dict(
            metavar="DIR", help="write each input as read")),
        ("dump_post_merge", ("--dump-post-merge",), dict(
            metavar="DIR", help="write the merged module (OUTPUT's name stem.spv)")),
        ("dump_post_split", ("--dump-post-split",), dict(
            metavar="DIR", help="write each output module as the linker finished it "
                                "(STEM.spv, or STEM.ENTRY.spv per entry point)")),
        ("dump_post_link", ("--dump-post-link",), dict(
            metavar="DIR", help="write each output module before spirv-opt (OUTPUT's file "
                                "name, or STEM.ENTRY.spv per entry point)")),
        ("disassemble", ("--disassemble",), dict(
            action="store_true", help="print the linked module's disassembly to stderr")),
        ("disassemble_fn", ("--disassemble-fn",), dict(
            metavar="NAME", help="print the disassembly of the function NAME (an OpName, an "
                                 "export name the linker resolved, or an entry point name)")),
        ("disassemble_entry", ("--disassemble-entry",), dict(
            metavar="NAME", help="print the disassembly of entry point NAME's function")),
        ("disassemble_globals", ("--disassemble-globals",), dict(
            action="store_true",
            help="print the disassembly of everything before the functions")),
        ("time_passes", ("--time-passes",), dict(
            action="store_true", help="print each step's time")),
    )),
)


# ---------------------------------------------------------------------------------------
# Diagnostics


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _diagnostic(level: str, message: str, notes: Sequence[str] = ()) -> None:
    from .errors import format_diagnostic

    _err(_flag_spelling(format_diagnostic(level, message, notes)))


def warn(message: str | LinkWarning) -> None:
    """Print a `warning: ...` to stderr, options spelled as the command's flags."""
    from .errors import LinkWarning

    if isinstance(message, LinkWarning):
        _diagnostic("warning", message.message, message.notes)
    else:
        _diagnostic("warning", message)


def report_error(exc: SpvError) -> None:
    """rustc's shape: each error, notes below it, then the count when there were several
    (`exc.diagnostics()`, the text `str(exc)` also gives), options spelled as flags."""
    _err(_flag_spelling(exc.diagnostics()))


# The parser of the running subcommand: its flags spell the options messages name.
_ACTIVE_PARSER: list[argparse.ArgumentParser] = []
_KEYWORD_OPTION = re.compile(r"\b([a-z][a-z0-9_]*)=(True|False|\"[^\"]*\"|'[^']*'|[\w.]+)")


def _flag_spelling(text: str) -> str:
    """Messages name options as the Python API spells them (`use_highest_version=True`);
    the command line says its own flag instead (`--use-highest-version`)."""
    if not _ACTIVE_PARSER or "=" not in text:
        return text
    flags: dict[str, tuple[argparse.Action, str]] = {}
    for action in _ACTIVE_PARSER[-1]._actions:
        longest = sorted(action.option_strings, key=len)[-1:]  # --output, not -o
        for opt in longest:
            flags.setdefault(action.dest, (action, opt))

    def spell(m: re.Match[str]) -> str:
        dest, value = m.group(1), m.group(2)
        if dest not in flags:
            return m.group(0)
        action, opt = flags[dest]
        if isinstance(action, argparse.BooleanOptionalAction):
            return opt if value == "True" else "--no-" + opt.lstrip("-")
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            return opt if value == str(action.const) else m.group(0)
        return f"{opt} {value.strip(chr(34) + chr(39))}"

    return _KEYWORD_OPTION.sub(spell, text)


# ---------------------------------------------------------------------------------------
# The parser


def _add_validator_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("validator options (off unless given, as in Rust-GPU; they "
                             "go to spirv-val and to spirv-opt's own validation)")
    for dest, help_text in choices.VALIDATOR_FLAGS:
        g.add_argument("--" + dest.replace("_", "-"), dest=dest,
                       action=argparse.BooleanOptionalAction, default=False, help=help_text)


def _add_target_env(p: Any, default: str | None,
                    help_text: str) -> None:
    p.add_argument("--target-env", metavar="ENV", default=default, help=help_text)


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, told the terminal width so that it does not import
    `shutil` to ask (an import that costs more than parsing the arguments)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`, as argparse asks it: COLUMNS when positive,
    else the terminal of standard output, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The `spvlink` parser: the options every subcommand shares, then one phase per
    subcommand."""
    common = _Parser(add_help=False)
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                        help="show the Python traceback of an error")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="say more: inputs assembled from text, archive member sizes")

    parser = _Parser(
        prog=PROG, parents=[common],
        description="The SPIR-V link stage: link modules and archives, optimise and "
                    "validate with SPIRV-Tools, and inspect SPIR-V.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                help="`spvlink COMMAND --help` describes each")
    _add_link_command(sub, common)
    _add_link_many_command(sub, common)
    _add_archive_command(sub, common)
    _add_val_command(sub, common)
    _add_opt_command(sub, common)
    _add_dis_and_as_command(sub, common)
    _add_info_command(sub, common)
    return parser


def _add_link_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """`spvlink link`: inputs, -o, then the LINK_OPTIONS table's groups."""
    p = sub.add_parser("link", parents=[common], help="link modules and archives",
                       description="Link SPIR-V modules and rlib archives into validated "
                                   "module(s), as Rust-GPU's link stage does.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="SPIR-V modules (any extension), ar archives, SPIR-V assembly text "
                        "(assembled first), or - for stdin")
    p.add_argument("-o", "--output", default="out.spv", metavar="OUTPUT",
                   help="output module (default out.spv); - writes it to stdout")
    for title, options in LINK_OPTIONS:
        g = p.add_argument_group(title)
        for dest, flags, spec in options:
            g.add_argument(*flags, dest=dest, **spec)
        if title.startswith("validator"):
            _add_validator_flags(p)
    p.set_defaults(func=cmd_link)


def _add_link_many_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """`spvlink link-many`: a manifest of programs linked in parallel."""
    p = sub.add_parser("link-many", parents=[common], help="link many programs in parallel",
                       description="Link every program of a JSON or TOML manifest "
                                   '({"programs": [{"name", "inputs", "output", "options"}]}) '
                                   "on the cores this process may use.")
    p.add_argument("manifest", metavar="MANIFEST",
                   help="a .toml or .json manifest (see examples/programs.toml); relative "
                        "paths in it are taken from its folder")
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help="worker processes (default: the cores this process may use)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar even on a terminal")
    p.add_argument("--time-limit", type=float, default=600.0, metavar="SECONDS",
                   help="stop a program that runs longer (default 600)")
    p.add_argument("--memory-limit", type=int, default=None, metavar="MB",
                   help="memory each worker may use beyond its start (default: an equal "
                        "share of the machine's)")
    p.set_defaults(func=cmd_link_many)


def _add_archive_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """`spvlink archive`: write, list or extract an rlib."""
    p = sub.add_parser("archive", parents=[common], help="write, list or extract an rlib",
                       description="Deterministic GNU ar archives of SPIR-V objects, with "
                                   "lib.rmeta first, as Rust's rlibs. --list prints the "
                                   "member names, as `ar t` (sizes too under -v).")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("-o", "--output", metavar="LIB", help="write the archive LIB")
    mode.add_argument("--list", metavar="LIB",
                      help="print the names of the members of LIB (with -v: name and size)")
    mode.add_argument("--extract", metavar="LIB", help="extract the members of LIB")
    p.add_argument("--metadata", metavar="FILE", help="contents of lib.rmeta (default empty)")
    p.add_argument("-C", dest="directory", metavar="DIR", default=".",
                   help="directory to extract into (default .)")
    p.add_argument("objects", nargs="*", metavar="OBJECT",
                   help="SPIR-V modules to put in the archive (with -o), in this order")
    p.set_defaults(func=cmd_archive)


def _add_val_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """`spvlink val`: in-process spirv-val with the relaxation flags."""
    p = sub.add_parser("val", parents=[common], help="validate a module (spirv-val)",
                       description="Validate a module (or each module of an archive) "
                                   "in-process with SPIRV-Tools' validator, as spirv-val "
                                   "does; the relaxations are off unless given, as in Rust-GPU.")
    p.add_argument("file", metavar="FILE",
                   help="module, archive or SPIR-V assembly text, or - for stdin")
    _add_target_env(p, "spv1.6", "target environment (default spv1.6)")
    _add_validator_flags(p)
    p.set_defaults(func=cmd_val)


def _add_opt_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """`spvlink opt`: spirv-opt at a level."""
    p = sub.add_parser("opt", parents=[common], help="optimise a module (spirv-opt)",
                       description="Optimise a module with spirv-opt's pass lists for an "
                                   "optimisation level, as the link stage does.")
    p.add_argument("file", metavar="FILE",
                   help="module or SPIR-V assembly text, or - for stdin")
    p.add_argument("-O", dest="opt_level", choices=choices.OPT_LEVELS, required=True, metavar="LEVEL",
                   help="0, 1|2|3 (performance) or s|z (size)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output (- is stdout)")
    p.add_argument("--strip-debug", action="store_true",
                   help="also eliminate dead constants and strip debug info")
    p.add_argument("--preserve-bindings", action="store_true",
                   help="keep unused descriptor bindings (spirv-opt --preserve-bindings)")
    _add_target_env(p, None, "target environment for spirv-opt")
    p.set_defaults(func=cmd_opt)


def _add_dis_and_as_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """`spvlink dis` and `spvlink as`: the text tools."""
    p = sub.add_parser("dis", parents=[common], help="disassemble a module",
                       description="Print a module as SPIRV-Tools' assembly text, the same "
                                   "text spirv-dis prints.")
    p.add_argument("file", metavar="FILE",
                   help="module or SPIR-V assembly text, or - for stdin")
    p.add_argument("-o", "--output", metavar="OUT", default="-", help="text output (default -)")
    p.add_argument("--raw-id", action="store_true", help="numeric ids, as spirv-dis --raw-id")
    p.set_defaults(func=cmd_dis)

    p = sub.add_parser("as", parents=[common], help="assemble SPIR-V text",
                       description="Assemble SPIRV-Tools' assembly text into a module, as "
                                   "spirv-as does.")
    p.add_argument("file", metavar="FILE", help="assembly text, or - for stdin")
    p.add_argument("-o", "--output", metavar="OUT", default="out.spv",
                   help="output module (default out.spv; - is stdout)")
    _add_target_env(p, None, "SPIR-V version from the environment (default: the text's "
                             "'; Version:' comment, else 1.6)")
    p.add_argument("--keep-header", action="store_true",
                   help="take generator, bound and numeric ids from the text's header comments")
    p.add_argument("--preserve-numeric-ids", action="store_true",
                   help="%%5 stays id 5, as spirv-as --preserve-numeric-ids")
    p.set_defaults(func=cmd_as)


def _add_info_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """`spvlink info`: a module's summary."""
    p = sub.add_parser("info", parents=[common], help="summarise a module",
                       description="Summarise a module: version, bound, capabilities, "
                                   "entry points, imports and exports, sizes.")
    p.add_argument("file", metavar="FILE",
                   help="module or SPIR-V assembly text, or - for stdin")
    p.add_argument("--json", action="store_true", help="JSON instead of text")
    p.set_defaults(func=cmd_info)


def _version() -> str:
    from . import __version__

    return __version__


# ---------------------------------------------------------------------------------------
# Commands


def _check_target_env(parser: argparse.ArgumentParser, env: str | None) -> None:
    if env is None:
        return
    from .tools import TARGET_ENVS

    if env not in TARGET_ENVS:
        parser.error(f"unknown --target-env {env!r}: use one of "
                     f"{', '.join(sorted(TARGET_ENVS))}")


def _write_out(path: str, data: bytes | str) -> None:
    if path == "-":
        raw = text_bytes(data) if isinstance(data, str) else data
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return
    from pathlib import Path

    from .stage import _check_writable_dir, write_atomic

    _check_writable_dir(Path(path).parent, Path(path))  # created if missing, as rustc
    write_atomic(path, data)


def _note_assembled(args: argparse.Namespace, names: Sequence[str]) -> None:
    """Under -v, say which inputs were assembly text."""
    if getattr(args, "verbose", False):
        for name in names:
            _err(f"note: {name}: SPIR-V assembly text, assembled as `spvlink as` would")


def _read_module(path: str, args: argparse.Namespace) -> Any:
    from .stage import load_input

    mods = load_input(path)
    _note_assembled(args, [m.name for m in mods if m.assembled])
    if len(mods) != 1:
        from .errors import InputError

        raise InputError(f"{path}: an archive with {len(mods)} modules; extract it first "
                         "(spvlink archive --extract)")
    return mods[0].module


def cmd_link(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`spvlink link`: the link stage on the inputs; 0, or an error raised."""
    if args.validate or args.spirv_opt:  # the environment only matters to SPIRV-Tools
        _check_target_env(parser, args.target_env)
    to_stdout = args.output == "-"
    if to_stdout and args.module_output != "single":
        parser.error("-o - writes one module: it cannot be used with --module-output "
                     f"{args.module_output}")
    if args.inputs.count("-") > 1:
        parser.error("stdin (-) can be read only once")
    from .stage import StageOptions, run_stage

    fields = {dest: getattr(args, dest)
              for _, options in LINK_OPTIONS for dest, _, _ in options}
    fields.update((dest, getattr(args, dest)) for dest, _ in choices.VALIDATOR_FLAGS)
    options = StageOptions(output=None if to_stdout else args.output, **fields)
    from ._heap import tune_for_one_link

    tune_for_one_link()
    result = run_stage(args.inputs, options)
    _note_assembled(args, result.assembled)
    for text in result.disassembly:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
    for w in result.warnings:
        warn(w)
    if args.time_passes:
        _print_timings(result.timings)
    if to_stdout and result.binary is not None:
        _write_out("-", result.binary)
    return 0


def _print_timings(timings: Sequence[tuple[str, float]]) -> None:
    for name, secs in timings:
        _err(f"time: {secs:9.4f}s\t{name}")


def cmd_link_many(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`spvlink link-many`: every program of a manifest; 1 if any failed."""
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    gc.enable()  # `run` turned it off for one quick command; this one runs for long
    from .manifest import load_manifest, run_programs

    programs = load_manifest(args.manifest)
    show_bar = args.progress and sys.stderr.isatty()
    total = len(programs)
    bar_width = 30

    def progress(done: int, outcome: Any) -> None:
        if not outcome.ok:
            if show_bar:
                sys.stderr.write("\r\x1b[K")
            _diagnostic("error", f"program {outcome.name!r} failed: {outcome.message}",
                        outcome.notes)
        for w in outcome.warnings:
            if show_bar:
                sys.stderr.write("\r\x1b[K")
            warn(f"program {outcome.name!r}: {w}")
        if show_bar:
            filled = bar_width * done // max(total, 1)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (bar_width - filled)}] "
                             f"{done}/{total} {outcome.name[:40]}\x1b[K")
            sys.stderr.flush()

    if args.time_limit <= 0 or (args.memory_limit is not None and args.memory_limit < 1):
        parser.error("--time-limit and --memory-limit must be positive")
    summary = run_programs(programs, jobs=args.jobs, on_done=progress,
                           time_limit=args.time_limit,
                           memory_limit=None if args.memory_limit is None
                           else args.memory_limit << 20)
    if show_bar:
        sys.stderr.write("\r\x1b[K")
    failed = [o for o in summary.outcomes if not o.ok]
    _err(f"linked {len(summary.outcomes) - len(failed)} of {len(summary.outcomes)} programs "
         f"in {summary.seconds:.2f}s with {summary.workers} "
         f"worker{'s' if summary.workers != 1 else ''}"
         + (f"; failed: {', '.join(o.name for o in failed)}" if failed else ""))
    return 1 if failed else 0


def cmd_archive(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`spvlink archive`: write (-o), list (--list) or extract (--extract) an rlib."""
    from pathlib import Path

    from .archive import extraction_name, make_rlib, read_archive
    from .stage import read_input_bytes, write_atomic

    if args.output is not None:
        if not args.objects:
            parser.error("archive -o LIB needs at least one OBJECT")
        metadata = read_input_bytes(args.metadata) if args.metadata else b""
        objects = [(Path(o).name, read_input_bytes(o)) for o in args.objects]
        _write_out(args.output, make_rlib(objects, metadata))
        return 0
    if args.objects or args.metadata:
        parser.error("OBJECT and --metadata go with -o LIB only")
    lib = args.list or args.extract
    members = read_archive(read_input_bytes(lib), source=lib)
    if args.list:
        verbose = getattr(args, "verbose", False)
        for name, body in members:  # as `ar t`, and `ar tv` shows sizes
            sys.stdout.write(f"{name}\t{len(body)}\n" if verbose else f"{name}\n")
        return 0
    out_dir = Path(args.directory)
    if not os.path.isdir(out_dir):  # False for a name too long, too
        from .errors import InputError

        too_long = any(len(part.encode()) > 255 for part in out_dir.parts)
        reason = "file name too long" if too_long else "not a directory"
        raise InputError(f"cannot extract into {out_dir}: {reason}")
    # Every name is checked before anything is written: only files of -C itself.
    names = [extraction_name(name, source=lib) for name, _ in members]
    for name, (_, body) in zip(names, members, strict=True):
        write_atomic(out_dir / name, body)
    return 0


def cmd_val(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`spvlink val`: validate each module of FILE; 1 if one is invalid."""
    _check_target_env(parser, args.target_env)
    from .errors import ValidationError
    from .inputs import decode_input
    from .stage import expand_input, validator_options
    from .tools import validate

    members = expand_input(args.file)
    ok = True
    for name, raw in members:
        data, assembled = decode_input(name, raw)
        if assembled:
            _note_assembled(args, [name])
        try:
            validate(data, args.target_env, validator_options(args))
        except ValidationError as exc:
            _diagnostic("error", f"{name}: {exc.message.removeprefix('error: ')}", exc.notes)
            ok = False
    return 0 if ok else 1


def cmd_opt(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`spvlink opt`: spirv-opt's passes for -O LEVEL on FILE."""
    _check_target_env(parser, args.target_env)
    from .errors import ToolError
    from .inputs import decode_input
    from .stage import parse_input, read_input_bytes
    from .tools import optimize, optimizer_passes

    label = "<stdin>" if args.file == "-" else args.file
    data, assembled = decode_input(label, read_input_bytes(args.file))
    if assembled:
        _note_assembled(args, [label])
    parse_input(data, label)  # a clear error for input that is not SPIR-V
    passes = optimizer_passes(args.opt_level, strip=args.strip_debug)
    try:
        out = optimize(data, passes, target_env=args.target_env,
                       preserve_bindings=args.preserve_bindings) if passes else data
    except ToolError as exc:
        exc.message = f"{label}: {exc.message}"
        raise
    _write_out(args.output, out)
    return 0


def cmd_dis(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`spvlink dis`: FILE as SPIRV-Tools' assembly text."""
    from .text import disassemble

    text = disassemble(_read_module(args.file, args), raw_id=args.raw_id)
    _write_out(args.output, text_bytes(text))
    return 0


def _version_of_env(env: str) -> int:
    """The SPIR-V version word spirv-as uses for a target environment."""
    minor = {
        "vulkan1.0": 0, "vulkan1.1": 3, "vulkan1.1spv1.4": 4, "vulkan1.2": 5, "vulkan1.3": 6,
        "vulkan1.4": 6, "opengl4.0": 0, "opengl4.1": 0, "opengl4.2": 0, "opengl4.3": 0,
        "opengl4.5": 0,
    }.get(env)
    if minor is None:
        for prefix in ("spv1.", "universal1."):
            if env.startswith(prefix) and env[len(prefix):].isdigit():
                minor = int(env[len(prefix):])
        if env.startswith("opencl"):
            minor = 0 if env.startswith(("opencl1.", "opencl2.0", "opencl2.1")) else 2
    return 0x00010000 | ((6 if minor is None else minor) << 8)


def cmd_as(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`spvlink as`: assembly text to a module."""
    _check_target_env(parser, args.target_env)
    from .binary import write
    from .errors import AssemblyError
    from .stage import read_input_bytes
    from .text import assemble

    raw = read_input_bytes(args.file)
    label = "<stdin>" if args.file == "-" else args.file
    # Bytes that are not UTF-8 are kept (inside strings they are the string's own bytes,
    # as spirv-dis prints them); elsewhere the assembler refuses them by line and column.
    text = text_of(raw)
    try:
        version = _version_of_env(args.target_env) if args.target_env else None
        m = assemble(text, version=version, keep_header=args.keep_header,
                     preserve_numeric_ids=args.preserve_numeric_ids or None)
    except AssemblyError as exc:
        exc.message = f"{label}:{exc.message}"
        raise
    _write_out(args.output, write(m))
    return 0


def cmd_info(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`spvlink info`: a summary of FILE, as text or JSON."""
    import json

    from .info import describe, render_text

    d = describe(_read_module(args.file, args))
    if args.json:
        sys.stdout.write(json.dumps(d, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(d))
    return 0


# ---------------------------------------------------------------------------------------
# Entry point


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `spvlink` command line on `argv` (default `sys.argv[1:]`); the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    traceback = getattr(args, "traceback", False)
    from .errors import SpvError

    # The subcommand's own parser: its usage goes with its errors, its flags name options.
    commands = _subcommands(parser)
    command_parser = commands.get(args.command, parser)
    _ACTIVE_PARSER[:] = [commands.get("link" if args.command == "link-many" else args.command,
                                      parser)]
    try:
        return int(args.func(args, command_parser) or 0)
    except SpvError as exc:
        if traceback:
            import traceback as tb

            tb.print_exc()
        report_error(exc)
        return 1
    except BrokenPipeError:
        # The reader of stdout went away (`spvlink dis x.spv | head`): not our error.
        try:
            sys.stdout = None
        except Exception:
            pass
        return 1
    except KeyboardInterrupt:
        _err("error: interrupted")
        return 130
    except Exception as exc:
        if traceback:
            raise
        _diagnostic("error", f"internal error: {type(exc).__name__}: {exc}",
                    ["this is a bug in spvlink; rerun with --traceback to see where"])
        return INTERNAL_ERROR_EXIT


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run() -> None:
    """The `spvlink` command: `main`, then an immediate exit. A command lives for a
    moment, so the cyclic garbage collector is off: it would otherwise walk the tens of
    thousands of objects that importing numpy creates, several times (10-15 ms of a small
    link). The interpreter's teardown (freeing every module and array one by one) costs
    5-10 ms more and does nothing for us: output files are closed by now, and the
    standard streams are flushed here."""
    gc.disable()
    # A SIGTERM becomes SystemExit, so that `finally` blocks remove temporary outputs.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code: object = main()
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
