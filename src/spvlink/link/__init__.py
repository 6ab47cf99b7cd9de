"""The linker: `link(modules, LinkOptions) -> LinkResult`.

Passes take a Module and return a new one; none does I/O. The order:
merge -> flatten decoration groups -> deduplicate -> resolve imports/exports ->
dead-code elimination -> entry-point interfaces -> metadata stripping -> compact ids,
and, per entry point, the last four again on each entry point's own module. Where no
decoration group needs flattening, deduplication decides on the inputs laid end to end
and is applied in the copy that sorts them into the merged module (`merge.LaidOut`); where
DCE will run, that copy also leaves out the function bodies no root can reach (`prune`),
which DCE would drop anyway.
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Callable, Sequence

from .. import choices
from ..errors import LinkError, LinkWarning
from ..ir import Module
from ..record import Options
from ..spec import Op
from ..timing import StepTimer
from .dce import live_instructions
from .dedup import dedup_plan, deduplicate
from .finish import (
    cleanup_keep,
    compact_ids_remap,
    exported_functions,
    flatten_decoration_groups,
    metadata_keep,
)
from .interface import interface_replacements
from .merge import input_name, lay_out
from .preconditions import check_link_inputs
from .prune import dead_function_bodies
from .split import entry_points, file_stems
from .symbols import origin_namer, resolve

# The generator word spvlink writes: tool id 0 is unregistered ("Khronos" reserved), so
# SPIRV-Tools prints it as `Khronos; N`; the low half is spvlink's own version number.
GENERATOR = 0x00000001



class LinkOptions(Options):
    """What `link` does, as keyword-only fields named as `spvlink link`'s flags
    (`use_highest_version=True` is --use-highest-version, `dce=False` is --no-dce):
    `create_library` keeps exports and allows unresolved imports; `allow_partial_linkage`
    allows unresolved imports; `use_highest_version` links inputs of different SPIR-V
    versions at the highest; `dce` removes unused functions and globals; `compact_ids`
    renumbers ids densely; `module_output` is "single" or "per-entry-point";
    `spirv_metadata` ("none", "name-variables", "full") says which names stay. The
    comments on the fields say the rest."""

    create_library: bool = False
    allow_partial_linkage: bool = False
    # Physical addressing only: an import whose pointers differ from the definition's
    # only in pointee type binds to it, with OpBitcast where the types meet.
    allow_pointer_mismatch: bool = False
    use_highest_version: bool = False
    dce: bool = True
    compact_ids: bool = True
    # Keep every variable with a DescriptorSet/Binding, and the interfaces that list them.
    preserve_bindings: bool = False
    module_output: str = "single"  # or "per-entry-point" ("multiple" is an alias)
    spirv_metadata: str = "none"  # "none", "name-variables" or "full"
    # Read by the stage only (`choices.strips_debug`): the linker strips nothing for it.
    debuginfo: bool = False
    time_passes: bool = False  # fill LinkResult.timings with each pass's time
    export_names: bool = False  # fill LinkResult.export_names (30 ms at 1000 modules)
    verify: bool = False  # check the module's invariants after every pass (the tests do)
    # Called with ("post-merge" | "post-split" | "post-split:<file stem>", module) when set:
    # after merging, and for each output module when it is finished.
    dump: Callable[[str, Module], None] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "module_output", choices.module_output(self.module_output))
        for problem in (
            choices.unknown("module output", self.module_output, choices.MODULE_OUTPUTS),
            choices.unknown("spirv metadata level", self.spirv_metadata,
                            choices.METADATA_LEVELS),
        ):
            if problem:
                raise LinkError(problem)


class LinkResult:
    """What `link` made: `module` (one module), or `modules` (entry point name -> module)
    with `--module-output per-entry-point`; `entry_points` in module order."""

    def __init__(self, timings: list[tuple[str, float]] | None = None) -> None:
        self.module: Module | None = None  # single-module output
        self.modules: dict[str, Module] = {}  # entry name -> module
        self.stems: dict[str, str] = {}  # entry name -> file stem
        # With `export_names`, per output module (None: the single one): function id ->
        # the export name the linker resolved (the decorations are gone from the output).
        self.export_names: dict[str | None, dict[int, str]] = {}
        self.entry_points: list[str] = []  # in module order
        self.timings: list[tuple[str, float]] = [] if timings is None else timings
        self.warnings: list[LinkWarning] = []  # accepted, but worth saying (`str()`: the text)

    @property
    def per_entry_point(self) -> bool:
        """One module per entry point (`modules`) rather than one module (`module`)."""
        return self.module is None

    def __repr__(self) -> str:
        if self.module is not None:
            made = f"module={self.module!r}"
        else:
            made = "modules={" + ", ".join(f"{k!r}: {m!r}" for k, m in self.modules.items()) + "}"
        return f"LinkResult(entry_points={self.entry_points!r}, {made})"


def link(modules: Sequence[Module], options: LinkOptions | None = None) -> LinkResult:
    """Link `modules` (read with `spvlink.read` or `spvlink.load`) as `options` say.

    Raises a `LinkError` naming every symbol and file at fault (`str()` lists them, as the
    CLI prints them). No I/O: write `result.module` with `spvlink.write`."""
    return link_consuming(list(modules), options)


def link_consuming(modules: list[Module], options: LinkOptions | None = None) -> LinkResult:
    """`link`, for a caller that hands over its only references to the inputs (the
    stage): `modules` is emptied once they are merged, so their arrays are freed before
    the merged module is sorted instead of living to the end (chain 2000: 20 MB less peak
    memory). `link` passes a copy of its list: its caller's modules are left alone. A
    sequence that is not a list (a tuple) cannot be emptied: it is copied, as `link` does."""
    if not isinstance(modules, list):
        modules = list(modules)
    options = options or LinkOptions()
    timer = StepTimer()
    # Many Python objects live during a big link; the cyclic collector only costs time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _link(modules, options, timer)
    finally:
        if gc_was_enabled:
            gc.enable()


def _link(modules: list[Module], options: LinkOptions, timer: StepTimer) -> LinkResult:
    with timer("check inputs"):
        check_link_inputs(modules)
    with timer("merge"):
        sources = [input_name(mod, k) for k, mod in enumerate(modules)]
        laid = lay_out(modules, use_highest_version=options.use_highest_version,
                       generator=GENERATOR, consume=True)
        origin = origin_namer(sources, laid.shifts)
    # The merged module itself is made only where something needs it: the post-merge
    # dump, and flattening decoration groups (made once if both need it).
    merged: Module | None = None
    if options.dump:
        merged = laid.merged()
        options.dump("post-merge", merged)
    if laid.joined.indices_of(Op.DecorationGroup).size:
        # Flattening rewrites instructions, in the merged module; dedup then runs on it.
        with timer("flatten decoration groups"):
            if merged is None:
                merged = laid.merged()
            m = _verified(flatten_decoration_groups(_verified(merged, options)), options)
        del laid, merged
        with timer("deduplicate"):
            m = _verified(deduplicate(m), options)
    else:
        del merged  # the dump's copy, if any: not kept through the link
        # Deduplication decided on the inputs end to end and applied in the copy that
        # sorts them: one copy of the whole module fewer. Where DCE runs, the bodies it
        # would drop are left out of that copy too (`prune`).
        dead = None
        if options.dce or options.module_output != "single":
            with timer("dead function bodies"):
                dead = dead_function_bodies(laid.joined, library=options.create_library)
        with timer("deduplicate"):
            keep, remap = dedup_plan(laid.joined)
            if dead is not None:
                keep &= ~dead
            m = _verified(laid.merged(keep, remap), options)
        del laid, keep, remap, dead
    # For --disassemble-fn: read before resolving removes the decorations.
    exported = exported_functions(m) if options.export_names else {}
    with timer("resolve imports"):
        res = resolve(m, origin, create_library=options.create_library,
                      allow_partial_linkage=options.allow_partial_linkage,
                      allow_pointer_mismatch=options.allow_pointer_mismatch)
        m = _verified(res.module, options)
    roots = list(res.unresolved)
    if options.create_library:
        roots += res.exports

    result = LinkResult(timings=timer.timings if options.time_passes else [])
    result.warnings = res.warnings
    eps = entry_points(m)
    result.entry_points = [name for _, _, name in eps]

    if options.module_output == "single":
        m, result.export_names[None] = _finish(m, options, timer, roots=roots, entry=None,
                                               exported=exported)
        if options.dump:
            options.dump("post-split", m)
        result.module = m
        return result

    result.stems = file_stems(result.entry_points)
    for index, _model, name in eps:
        with timer(f"split {name}"):
            part, names = _finish(m, options, timer, roots=roots, entry=index,
                                  exported=exported)
        if options.dump:
            options.dump(f"post-split:{result.stems[name]}", part)
        # Two entry points may share a name under different execution models.
        if name not in result.modules:
            result.modules[name] = part
            result.export_names[name] = names
    return result


def _verified(m: Module, options: LinkOptions) -> Module:
    if options.verify:
        from ..ir.check import check_module

        check_module(m)
    return m


def _finish(m: Module, options: LinkOptions, timer: StepTimer, *, roots: list[int],
            entry: int | None, exported: dict[int, str]) -> tuple[Module, dict[int, str]]:
    """DCE, interfaces and stripping are decided on `m` and applied by one `select` (and a
    splice of the rewritten entry points); compaction then renumbers the smaller result.
    Also returns `exported` (id -> export name) for the functions kept, in the new ids."""
    import numpy as np

    with timer("dead-code elimination"):
        if options.dce or entry is not None:
            keep = live_instructions(m, extra_roots=roots,
                                     entry_points=None if entry is None else [entry],
                                     remove_pure=options.dce,
                                     preserve_bindings=options.preserve_bindings)
        else:
            keep = np.ones(len(m), dtype=bool)
    with timer("clean-ups"):
        keep = cleanup_keep(m, keep)
    with timer("entry-point interfaces"):
        replace = interface_replacements(m, keep, preserve_bindings=options.preserve_bindings)
    with timer("strip metadata"):
        keep = metadata_keep(m, keep, spirv_metadata=options.spirv_metadata)
        out = m.select(np.flatnonzero(keep))
        if replace:
            new_index = np.cumsum(keep) - 1
            out = out.splice({int(new_index[i]): insts for i, insts in replace.items()})
    names = exported_functions(out, exported)
    if options.compact_ids:
        with timer("compact ids"):
            out, remap = compact_ids_remap(_verified(out, options))
        names = {int(remap[fid]): name for fid, name in names.items()}
    _verified(out, options)
    return out, names


class _CallableModule(types.ModuleType):
    """`spvlink.link(modules)` calls `link`: once this subpackage is imported, Python makes
    `spvlink.link` the subpackage, which would hide the function of the same name."""

    def __call__(self, modules: Sequence[Module], options: LinkOptions | None = None
                 ) -> LinkResult:
        return link(modules, options)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["GENERATOR", "LinkOptions", "LinkResult", "link", "link_consuming"]
