"""spirv-opt's `--eliminate-dead-const --strip-debug`, done natively on a keep-mask.

Rust-GPU's `link.rs` registers `EliminateDeadConstant` then `StripDebugInfo` when debug info
is off and `spirv_metadata` is `none`; on spvlink's output those two passes are all that
spirv-opt would do at `-O 0`, so the stage does them here instead of starting spirv-opt.
What each pass removes, as SPIRV-Tools 2025.5 does it (source/opt/):

`EliminateDeadConstantPass` (eliminate_dead_constant_pass.cpp):
- a constant (`spvOpcodeIsConstant`) whose uses, not counting those by annotation
  (decoration) and debug (OpString/OpSource*/OpName/OpMemberName/OpModuleProcessed)
  instructions, number zero is dead; a dead `OpConstantComposite`, `OpSpecConstantComposite`
  or `OpSpecConstantOp` takes one use off each constant id operand, which may make those dead
  in turn (a worklist, so iterated to a fixpoint);
- killing a constant kills its names and the decorations that target it (`KillInst` ->
  `KillNamesAndDecorates`).

`StripDebugInfoPass` (strip_debug_info_pass.cpp):
- debugs1: OpSource, OpSourceContinued, OpSourceExtension, OpString; but when the module
  declares `SPV_KHR_non_semantic_info`, an OpString some `NonSemantic.*` OpExtInst uses stays;
- debugs2 (OpName, OpMemberName) and debugs3 (OpModuleProcessed);
- the global debug-info OpExtInsts (`DebugInfo`, `OpenCL.DebugInfo.100`,
  `NonSemantic.Shader.DebugInfo.100`), and every OpLine/OpNoLine.
  It leaves the sets' OpExtInstImports and the extension.

Deliberate differences, where spirv-opt gives no valid result:
- An id operand of OpDecorateId (`AlignmentId %c`, `MaxByteOffsetId %c`) counts as a use
  here. spirv-opt kills such a constant and leaves the decoration naming an undefined id.
- Debug-info sets: spirv-opt 2025.5 aborts on modules whose functions use them (glslang
  `-gVS`: it writes DebugScope through the debug-info list it has just emptied), so there is
  no result of its to match. Here every debug-info OpExtInst goes (in functions too), with
  the sets' OpExtInstImports, the OpStrings only they used (spirv-opt would keep every
  OpString a `NonSemantic.*` instruction uses, its own debug info's included, because it
  looks before it kills) and `SPV_KHR_non_semantic_info` when no other non-semantic set is
  left: no debug information stays behind.
"""

from __future__ import annotations

import numpy as np

from ..grammar import DEBUG_INFO_SETS
from ..ir import Module, Section, decode_string
from ..ir.layout import DECORATION_OPCODES, EXT_INST_OPCODES, LINE_OPCODES, Word
from ..ir.module import is_in, ranges, unique
from ..spec import Op

# spvOpcodeIsConstant (source/opcode.cpp) and the composites it back-propagates through.
CONSTANTS = (Op.ConstantTrue, Op.ConstantFalse, Op.Constant, Op.ConstantComposite,
             Op.ConstantSampler, Op.ConstantNull, Op.ConstantFunctionPointerINTEL,
             Op.SpecConstantTrue, Op.SpecConstantFalse, Op.SpecConstant,
             Op.SpecConstantComposite, Op.SpecConstantOp)
COMPOSITES = (Op.ConstantComposite, Op.SpecConstantComposite, Op.SpecConstantOp)
# Uses by these do not keep a constant alive (IsAnnotationInst, IsDebug1/2/3Inst).
_NOT_USES = (*DECORATION_OPCODES, Op.DecorationGroup, Op.GroupDecorate, Op.GroupMemberDecorate,
             Op.String, Op.Source, Op.SourceContinued, Op.SourceExtension, Op.Name,
             Op.MemberName, Op.ModuleProcessed)
_STRIPPED = (Op.Source, Op.SourceContinued, Op.SourceExtension, Op.Name, Op.MemberName,
             Op.ModuleProcessed, *LINE_OPCODES)
NATIVE_STEP = "eliminate dead constants + strip debug info (native, no spirv-opt)"


def strip_debug_keep(m: Module, keep: np.ndarray | None = None) -> np.ndarray:
    """`keep` (a keep-mask over `m`; all by default) less what spirv-opt's
    `--eliminate-dead-const --strip-debug` would remove from the kept module."""
    keep = np.ones(len(m), dtype=bool) if keep is None else keep.copy()
    keep &= ~_dead_constants(m, keep)
    ops = m.opcodes
    strings = np.flatnonzero((ops == Op.String) & keep)
    ext = np.flatnonzero(is_in(ops, list(EXT_INST_OPCODES)) & keep)
    set_names = _ext_set_names(m)
    debug_sets = [i for i, s in set_names.items() if s in DEBUG_INFO_SETS]
    if ext.size:
        set_of = m.operand(ext, Word.EXT_INST_SET).astype(np.int64)
        debug = is_in(set_of, debug_sets)
        keep[ext[debug]] = False
        others = [i for i, s in set_names.items()
                  if s.startswith("NonSemantic.") and i not in debug_sets]
        if strings.size and others and _declares_non_semantic_info(m):
            used = _ids_used_by(m, ext[~debug & is_in(set_of, others)])
            strings = strings[~is_in(m.result_ids[strings], used)]
    if debug_sets:
        # Only where spirv-opt aborts (see above): the sets' imports go, and the extension
        # when no other non-semantic set needs it.
        imports = m.indices_of(Op.ExtInstImport)
        keep[imports[is_in(m.result_ids[imports], debug_sets)]] = False
        if not any(s.startswith("NonSemantic.") for i, s in set_names.items()
                   if i not in debug_sets):
            for i in m.indices_of(Op.Extension).tolist():
                if decode_string(m.inst_words(i)[1:]) == "SPV_KHR_non_semantic_info":
                    keep[i] = False
    keep[strings] = False
    keep[is_in(ops, list(_STRIPPED))] = False
    return keep


def strip_debug(m: Module) -> Module:
    """`m` as `spirv-opt --eliminate-dead-const --strip-debug` leaves it (ids unchanged)."""
    keep = strip_debug_keep(m)
    return m if keep.all() else m.select(np.flatnonzero(keep))


def _dead_constants(m: Module, keep: np.ndarray) -> np.ndarray:
    """Mask of the kept constants EliminateDeadConstant kills, with their names and
    decorations."""
    ops = m.opcodes
    const = is_in(ops, list(CONSTANTS)) & keep & (m.sections == int(Section.GLOBAL))
    dead = np.zeros(len(m), dtype=bool)
    if not const.any():
        return dead
    rid = m.result_ids
    user = m.id_inst
    counted = keep[user] & ~m.id_is_result & ~is_in(ops, list(_NOT_USES))[user]
    # A deliberate difference: an OpDecorateId operand (AlignmentId %c) is a use. spirv-opt
    # does not count it, kills the constant and leaves the decoration naming an undefined id
    # (spirv-val: "forward referenced IDs have not been defined").
    counted |= (keep[user] & (ops[user] == Op.DecorateId)
                & (m.id_pos >= m.starts[user] + 3))
    counts = np.bincount(m.words[m.id_pos[counted]].astype(np.int64), minlength=m.bound)
    def_const = np.full(m.bound, -1, dtype=np.int64)
    def_const[rid[const]] = np.flatnonzero(const)
    composite = is_in(ops, list(COMPOSITES))
    # Operand ids of a constant: past its result type and result id (words 1 and 2).
    operand = m.id_pos >= m.starts[user] + 3
    frontier = np.flatnonzero(const & (counts[rid] == 0))
    while frontier.size:
        dead[frontier] = True
        back = frontier[composite[frontier]]
        if not back.size:
            break
        lo = np.searchsorted(m.id_pos, m.starts[back])
        hi = np.searchsorted(m.id_pos, m.starts[back] + m.sizes[back])
        n = hi - lo
        at = ranges(lo, n)
        at = at[operand[at]]
        refs = m.words[m.id_pos[at]].astype(np.int64)
        refs = refs[def_const[refs] >= 0]
        np.subtract.at(counts, refs, 1)
        cand = def_const[unique(refs)] if refs.size else refs
        frontier = cand[~dead[cand] & (counts[rid[cand]] == 0)]
    # Their names and the decorations that target them.
    gone = rid[dead]
    named = np.flatnonzero(is_in(m.sections, [int(Section.DEBUG_NAME), int(Section.ANNOTATION)])
                           & keep)
    if named.size:
        targets = m.operand(named, Word.NAME_TARGET).astype(np.int64)
        dead[named[is_in(targets, gone)]] = True
    return dead


def _ext_set_names(m: Module) -> dict[int, str]:
    out = {}
    for i in m.indices_of(Op.ExtInstImport).tolist():
        ws = m.inst_words(i)
        out[ws[1]] = decode_string(ws[2:])
    return out


def _declares_non_semantic_info(m: Module) -> bool:
    return any(decode_string(m.inst_words(i)[1:]) == "SPV_KHR_non_semantic_info"
               for i in m.indices_of(Op.Extension).tolist())


def _ids_used_by(m: Module, insts: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(m), dtype=bool)
    mask[insts] = True
    return m.words[m.id_pos[mask[m.id_inst]]]


__all__ = ["NATIVE_STEP", "strip_debug", "strip_debug_keep"]
