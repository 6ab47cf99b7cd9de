"""Issue 12: the Module's edits (`select`, `splice`, `concatenate`) against a simple model
(a list of instruction word lists), and `Module.check()` on what they make.

Every property runs on real modules of the corpus: random orders and keep-masks, random
id remaps, random splices, concatenations with shifts. The model is what the docstrings
promise; `check()` holds the invariants (starts tile the words, id positions ascending and
inside their instruction, sections in order, ids below the bound)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import CORPUS
from spvlink.binary import read, write
from spvlink.ir import Module, Section, concatenate
from spvlink.ir import module as ir_module
from spvlink.ir.check import ModuleInvariantError, check_module

NAMES = sorted(p.name for p in (CORPUS / "spv").glob("*.spv") if not p.name.endswith(".be.spv"))


@functools.cache
def corpus_module(name: str) -> Module:
    return read((CORPUS / "spv" / name).read_bytes(), source=name)


def model(m: Module) -> list[list[int]]:
    return [m.inst_words(i) for i in range(len(m))]


def id_offsets(m: Module) -> list[list[int]]:
    """Per instruction, the offsets of its id words: the index the reader built."""
    out: list[list[int]] = [[] for _ in range(len(m))]
    for p, i in zip(m.id_pos.tolist(), m.id_inst.tolist(), strict=True):
        out[i].append(p - int(m.starts[i]))
    return out


SETTINGS = settings(max_examples=40, deadline=None)


def test_every_corpus_module_checks() -> None:
    for name in NAMES:
        corpus_module(name).check()


@SETTINGS
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 2**32 - 1))
def test_select_keeps_and_remaps_like_the_model(name: str, seed: int) -> None:
    """`select(order, remap=)`: the instructions `order`, each id word mapped through the
    remap. Within-section orders only (a keep-mask), so the result stays in layout order."""
    m = corpus_module(name)
    rng = np.random.default_rng(seed)
    keep = np.flatnonzero(rng.random(len(m)) < rng.uniform(0.2, 1.0))
    perm = rng.permutation(np.arange(1, m.bound))
    remap = np.concatenate([[0], perm]).astype(np.uint32)  # a bijection of the ids
    out = m.select(keep, remap=remap)
    offsets = id_offsets(m)
    expected = []
    for i in keep.tolist():
        ws = m.inst_words(i)
        for o in offsets[i]:
            ws[o] = int(remap[ws[o]])
        expected.append(ws)
    assert model(out) == expected
    assert id_offsets(out) == [offsets[i] for i in keep.tolist()]
    check_module(out, unique_results=True)


@SETTINGS
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 2**32 - 1))
def test_select_any_order(name: str, seed: int) -> None:
    """Any order of runs (the merge's sort), and a keep-mask of them: words and id
    positions follow each instruction, whichever way the runs are copied."""
    m = corpus_module(name)
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, max(len(m), 2)), size=min(5, len(m) - 1),
                              replace=False)) if len(m) > 2 else np.array([], dtype=np.int64)
    runs = np.split(np.arange(len(m)), cuts)
    order = np.concatenate([runs[k] for k in rng.permutation(len(runs))])
    offsets = id_offsets(m)
    # Both ways of copying runs: slice by slice (long runs) and one index array.
    for words_per_run in (0, 1 << 30):
        saved, ir_module.SLICE_WORDS_PER_RUN = ir_module.SLICE_WORDS_PER_RUN, words_per_run
        try:
            out = m.select(order)
            kept = m.select(np.sort(order[: max(1, order.size // 2)]),
                            remap=np.arange(m.bound, dtype=np.uint32))
        finally:
            ir_module.SLICE_WORDS_PER_RUN = saved
        assert model(out) == [m.inst_words(i) for i in order.tolist()]
        assert id_offsets(out) == [offsets[i] for i in order.tolist()]
        half = np.sort(order[: max(1, order.size // 2)]).tolist()
        assert model(kept) == [m.inst_words(i) for i in half]
        assert id_offsets(kept) == [offsets[i] for i in half]
        check_module(kept, unique_results=True)


@SETTINGS
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 2**32 - 1))
def test_splice_like_the_model(name: str, seed: int) -> None:
    """`splice({i: [...]})`: instruction i replaced by the given ones (none deletes it);
    here each is replaced by copies of instructions of its own section, or deleted."""
    m = corpus_module(name)
    rng = np.random.default_rng(seed)
    chosen = sorted(set(rng.integers(0, len(m), size=min(6, len(m))).tolist()))
    replace: dict[int, list[list[int]]] = {}
    for i in chosen:
        same = np.flatnonzero(m.sections == m.sections[i])
        picks = rng.choice(same, size=int(rng.integers(0, 3)))
        replace[i] = [m.inst_words(int(j)) for j in picks]
    out = m.splice(replace)
    expected: list[list[int]] = []
    offsets: list[list[int]] = []
    old = id_offsets(m)
    for i in range(len(m)):
        if i in replace:
            expected += replace[i]
            offsets += [old[int(np.flatnonzero([m.inst_words(k) == ws for k in range(len(m))])[0])]
                        for ws in replace[i]]
        else:
            expected.append(m.inst_words(i))
            offsets.append(old[i])
    assert model(out) == expected
    assert id_offsets(out) == offsets
    check_module(out, unique_results=False)  # copies repeat result ids on purpose


@settings(max_examples=25, deadline=None)
@given(names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_concatenate_shifts_ids(names: list[str], seed: int) -> None:
    """`concatenate(modules, shifts)`: the instruction streams end to end, each module's
    ids plus its shift."""
    mods = [corpus_module(n) for n in names]
    rng = np.random.default_rng(seed)
    shifts, total = [], 0
    for m in mods:
        total += int(rng.integers(0, 1000))
        shifts.append(total)
        total += m.bound
    out = concatenate(mods, shifts, version=mods[0].version, generator=0, bound=total + 1)
    expected = []
    for m, s in zip(mods, shifts, strict=True):
        offsets = id_offsets(m)
        for i in range(len(m)):
            ws = m.inst_words(i)
            for o in offsets[i]:
                ws[o] += s
            expected.append(ws)
    assert model(out) == expected
    assert sum((id_offsets(m) for m in mods), []) == id_offsets(out)


@settings(max_examples=25, deadline=None)
@given(names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=3),
       picks=st.lists(st.sampled_from(list(Section)), min_size=1, max_size=4))
def test_indices_is_the_scan_in_order_or_not(names: list[str], picks: list[Section]) -> None:
    """`Module.indices(*sections)`: the instructions in those sections, in order. A module
    whose sections are in Logical Layout order (the invariant; every corpus module) reads
    them from where each section begins; inputs concatenated end to end are out of order
    and are scanned. Both give what a scan gives."""
    mods = [corpus_module(n) for n in names]
    shifts = list(np.cumsum([0] + [m.bound for m in mods[:-1]]))
    joined = concatenate(mods, shifts, version=mods[0].version, generator=0,
                         bound=int(sum(m.bound for m in mods)) + 1)
    assert mods[0]._section_bounds() is not None
    ordered = bool((np.diff(joined.sections.astype(np.int64)) >= 0).all())
    assert (joined._section_bounds() is not None) == ordered
    for m in (*mods, joined):
        expected = np.flatnonzero(np.isin(m.sections, [int(s) for s in picks]))
        got = m.indices(*picks)
        assert got.dtype == np.int64 and got.tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 40)), max_size=60),
       st.sampled_from([None, np.int32, np.int64]))
def test_ranges_is_each_range_in_turn(runs: list[tuple[int, int]], dtype: object) -> None:
    """`ranges(lo, n)`: [lo[0], lo[0] + n[0]), then [lo[1], ...), as the list comprehension
    says; empty ranges add nothing, and the dtype asked for is the one returned (the
    gathers of `select` and the reader ask for int32)."""
    lo = np.array([a for a, _ in runs], dtype=np.int64)
    n = np.array([b for _, b in runs], dtype=np.int64)
    got = ir_module.ranges(lo, n, dtype)
    assert got.tolist() == [a + j for a, b in runs for j in range(b)]
    assert got.dtype == np.dtype(np.int64 if dtype is None else dtype)


def test_check_names_what_is_broken() -> None:
    m = corpus_module(NAMES[0])
    with pytest.raises(ModuleInvariantError, match="not below the bound"):
        m.with_header(bound=2).check()
    words = m.words.copy()
    words[0] = (words[0] & 0xFFFF) | (7 << 16)
    with pytest.raises(ModuleInvariantError, match="word count differs"):
        m.with_words(words).check()
    last_result = int(np.flatnonzero(m.result_ids > 0)[-1])
    twice = m.select(np.concatenate([np.arange(len(m)), [last_result]]))
    with pytest.raises(ModuleInvariantError, match="defined twice"):
        twice.check()
    backwards = m.select(np.arange(len(m))[::-1])
    with pytest.raises(ModuleInvariantError, match="section|Logical Layout"):
        backwards.check()


@functools.cache
def names_by_memory_model() -> list[list[str]]:
    """Corpus names grouped by their OpMemoryModel's words: what can be merged."""
    from spvlink.spec import Op

    groups: dict[tuple[int, ...], list[str]] = {}
    for n in NAMES:
        m = corpus_module(n)
        mm = m.indices_of(Op.MemoryModel)
        groups.setdefault(tuple(m.inst_words(int(mm[0]))) if mm.size else (), []).append(n)
    return [g for _, g in sorted(groups.items())]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_dedup_plan_on_the_inputs_end_to_end_is_dedup_after_the_sort(data: st.DataObject
                                                                      ) -> None:
    """The linker decides deduplication on the inputs laid end to end and applies it in
    the copy that sorts them (`merge.LaidOut.merged(keep, remap)`): that must be exactly
    `deduplicate` of the merged module, as `dedup.dedup_plan` says (each decision takes the
    first of equal instructions in one section, and the sort keeps each section's order).
    Corpus modules in random groups, repeats included (so that much merges); groups whose
    versions or memory models clash are skipped. Decoration groups are flattened first in
    the merged module, so the plan is never made where they stand."""
    from hypothesis import assume

    from spvlink.errors import LinkError
    from spvlink.link.dedup import dedup_plan, deduplicate
    from spvlink.link.merge import lay_out
    from spvlink.spec import Op

    group = data.draw(st.sampled_from(names_by_memory_model()))
    names = data.draw(st.lists(st.sampled_from(group), min_size=1, max_size=5))
    mods = [corpus_module(n) for n in names]
    assume(not any((m.opcodes == Op.DecorationGroup).any() for m in mods))
    try:
        laid = lay_out(mods, use_highest_version=True, generator=0)
    except LinkError:
        assume(False)
    fused = laid.merged(*dedup_plan(laid.joined))
    fused.check()
    assert write(fused) == write(deduplicate(laid.merged()))
