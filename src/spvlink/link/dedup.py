"""Deduplication: module-level declarations that several inputs repeat.

- OpCapability, OpExtension, OpExtInstImport by their operands (imports remapped);
- types structurally, including their decorations and member decorations;
- constants (scalar, composite, null), OpUndef; spec constants only with equal
  decorations; global variables with the same BuiltIn in the same storage class;
- identical OpString (remapped) and OpSource; identical decorations; one OpName per id.

Definitions precede uses in the global section, so one forward pass canonicalises every
operand before its user is keyed. An id used before its definition (recursive types
through OpTypeForwardPointer) keys as itself: such types are merged only when their ids
already agree, which is never wrong.
"""

from __future__ import annotations

import numpy as np

from ..ir import Module, Section
from ..ir.layout import CONSTANT_OPCODES, SPEC_CONSTANT_OPCODES, TYPE_OPCODES
from ..spec import Op
from .facts import decorations

_MERGEABLE = TYPE_OPCODES | CONSTANT_OPCODES | {Op.Undef}


def deduplicate(m: Module) -> Module:
    remap = np.arange(m.bound, dtype=np.uint32)
    canon: list[int] = list(range(m.bound))
    keep = np.ones(len(m), dtype=bool)
    decos = decorations(m)

    # Capabilities, extensions, imports: by words (imports by name, remapping the id).
    seen_words: set[tuple[int, ...]] = set()
    ext_by_name: dict[tuple[int, ...], int] = {}
    for i in m.indices(Section.CAPABILITY, Section.EXTENSION, Section.EXT_INST_IMPORT).tolist():
        ws = m.inst_words(i)
        if ws[0] & 0xFFFF == Op.ExtInstImport:
            key = tuple(ws[2:])
            first = ext_by_name.get(key)
            if first is None:
                ext_by_name[key] = ws[1]
            else:
                canon[ws[1]] = first
                keep[i] = False
        else:
            t = tuple(ws)
            if t in seen_words:
                keep[i] = False
            seen_words.add(t)

    # Types, constants, undefs and builtin variables, in one forward pass.
    deco_key_cache: dict[int, tuple] = {}

    def deco_key(target: int) -> tuple:
        k = deco_key_cache.get(target)
        if k is None:
            rows = []
            for j in decos.by_target.get(target, ()):
                ws = m.inst_words(j)
                rows.append((ws[0] & 0xFFFF, *ws[2:]))
            k = tuple(sorted(rows))
            deco_key_cache[target] = k
        return k

    glob = m.indices(Section.GLOBAL)
    if glob.size:
        g_first = int(glob[0])
        g_last = int(glob[-1])
        w0 = int(m.starts[g_first])
        w1 = int(m.starts[g_last] + m.sizes[g_last])
        words = m.words[w0:w1].tolist()
        lo, hi = np.searchsorted(m.id_pos, [w0, w1])
        idpos = (m.id_pos[lo:hi] - w0).tolist()
        idinst = m.id_inst[lo:hi].tolist()
        opcodes = m.opcodes[g_first:g_last + 1].tolist()
        starts = (m.starts[g_first:g_last + 1] - w0).tolist()
        sizes = m.sizes[g_first:g_last + 1].tolist()
        seen: dict[tuple, int] = {}
        forward: list[tuple[int, int]] = []
        p = 0
        n_ids = len(idpos)
        for k, op in enumerate(opcodes):
            i = g_first + k
            s = starts[k]
            e = s + sizes[k]
            # Collect this instruction's id offsets.
            ids_here = []
            while p < n_ids and idinst[p] == i:
                ids_here.append(idpos[p])
                p += 1
            if op == Op.TypeForwardPointer:
                forward.append((i, words[s + 1]))
                continue
            if op not in _MERGEABLE and op != Op.Variable:
                continue
            has_type = op not in TYPE_OPCODES
            rid_off = s + (2 if has_type else 1)
            rid = words[rid_off]
            if op == Op.Variable:
                if rid not in decos.builtin or len(ids_here) != 2:
                    continue
            body = words[s:e]
            for off in ids_here:
                if off != rid_off:
                    body[off - s] = canon[words[off]]
            body[rid_off - s] = 0
            gkey: tuple = tuple(body)
            if op in TYPE_OPCODES or op in SPEC_CONSTANT_OPCODES or op == Op.Variable:
                gkey = (gkey, deco_key(rid))
            elif rid in decos.by_target:
                gkey = (gkey, deco_key(rid))
            first = seen.get(gkey)
            if first is None:
                seen[gkey] = rid
            else:
                canon[rid] = first
                keep[i] = False
        # A forward declaration of a pointer merged into an earlier one must go with it.
        for i, ptr in forward:
            if canon[ptr] != ptr:
                keep[i] = False

    remap[:] = np.asarray(canon, dtype=np.uint32)
    m = m.select(np.flatnonzero(keep), remap=remap)
    return _dedup_debug_and_annotations(m)


def _dedup_debug_and_annotations(m: Module) -> Module:
    """Identical OpString (remapped), OpSource, decorations; one OpName per id."""
    keep = np.ones(len(m), dtype=bool)
    canon = list(range(m.bound))
    changed = False
    strings: dict[tuple[int, ...], int] = {}
    seen: set[tuple[int, ...]] = set()
    named: set[tuple[int, ...]] = set()
    for i in m.indices(Section.DEBUG_STRING, Section.DEBUG_NAME, Section.ANNOTATION).tolist():
        ws = m.inst_words(i)
        op = ws[0] & 0xFFFF
        if op == Op.String:
            key = tuple(ws[2:])
            first = strings.get(key)
            if first is None:
                strings[key] = ws[1]
            else:
                canon[ws[1]] = first
                keep[i] = False
                changed = True
        elif op == Op.Name:
            if (ws[1],) in named:
                keep[i] = False
            named.add((ws[1],))
        elif op == Op.MemberName:
            if (ws[1], ws[2], -1) in named:
                keep[i] = False
            named.add((ws[1], ws[2], -1))
        elif op in (Op.Source, Op.SourceExtension) or int(m.sections[i]) == Section.ANNOTATION:
            if op in (Op.DecorationGroup, Op.GroupDecorate, Op.GroupMemberDecorate):
                continue
            t = tuple(canon[w] if k == 3 and op == Op.Source else w for k, w in enumerate(ws))
            if op == Op.Source and i + 1 < len(m) and int(m.opcodes[i + 1]) == Op.SourceContinued:
                continue
            if t in seen:
                keep[i] = False
            seen.add(t)
    if keep.all() and not changed:
        return m
    remap = np.asarray(canon, dtype=np.uint32) if changed else None
    return m.select(np.flatnonzero(keep), remap=remap)
