"""Benchmark workload generator: families of SPIR-V modules for the linker.

``python bench/workloads.py KIND N --out DIR [--seed S]`` writes the modules of
one workload (little-endian SPIR-V 1.5, Vulkan compute style: Shader + Linkage,
Logical GLSL450) and a ``workload.json`` manifest; :func:`generate` does the same
from Python and returns a :class:`Workload`.

Kinds:

``chain N``
    N library modules each exporting five ``uint chain_k_j(uint)`` functions of
    about 40 integer operations; ``chain_k_0`` calls the imported
    ``chain_{k-1}_0`` (k >= 1); the others are unused exports. A main module has
    one GLCompute entry point ``main`` doing ``buf[i] = chain_{N-1}_0(buf[i])``.
``wide N``
    N library modules each redeclaring about 50 types and 100 constants and
    exporting eight small functions ``wide_k_e``; a main module has entry points
    ``main0``..``main7``, entry e calling ``wide_k_e`` for k = 0..N-1 in turn.
``chain-arrays N``, ``wide-arrays N``
    The same programs (the same expected buffers) with every function taking a
    struct ``{uint[2]; uint[3]}`` by value instead of a uint (the value rides in
    both arrays; the callee reads ``b[2]``): each module declares its own arrays,
    struct and length constants, in an order of its own, so imports resolve only
    when arrays from different modules are the same type (issue 9).
``big``
    Two modules of about 4 MB each with long straight-line integer functions;
    the first exports ``big_export``, which the second imports and calls from its
    entry point ``main``. N scales the size (default 1 means about 4 MB each).

Every module passes ``spirv-val --target-env spv1.5``; linking all inputs with
``spirv-link --target-env vulkan1.2`` gives a module that passes
``spirv-val --target-env vulkan1.2``. The expected buffer contents are computed
by interpreting the same operation lists that were emitted (uint32 wraparound)
for the input buffer :func:`input_buffer`. Output is a pure function of
(kind, n, seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import spirv_emit as se  # noqa: E402
from spirv_emit import ModuleBuilder  # noqa: E402

BUFFER_WORDS = 256
LOCAL_SIZE = 64
CALL = -1  # pseudo-opcode in a Program: call the program's callee

_KIND_IDS = {"chain": 1, "wide": 2, "big": 3}

_BIN_OPS = np.array(
    [
        se.OP_IADD,
        se.OP_IMUL,
        se.OP_BITWISE_XOR,
        se.OP_SHIFT_LEFT_LOGICAL,
        se.OP_SHIFT_RIGHT_LOGICAL,
        se.OP_ISUB,
        se.OP_BITWISE_AND,
        se.OP_BITWISE_OR,
    ]
)
# relative frequencies of the ops above (and/or less often: they lose entropy)
_BIN_P = np.array([0.18, 0.16, 0.2, 0.1, 0.1, 0.14, 0.05, 0.07])

_NP_OPS: dict[int, Callable[[Any, Any], np.ndarray]] = {
    se.OP_IADD: np.add,
    se.OP_IMUL: np.multiply,
    se.OP_BITWISE_XOR: np.bitwise_xor,
    se.OP_SHIFT_LEFT_LOGICAL: np.left_shift,
    se.OP_SHIFT_RIGHT_LOGICAL: np.right_shift,
    se.OP_ISUB: np.subtract,
    se.OP_BITWISE_AND: np.bitwise_and,
    se.OP_BITWISE_OR: np.bitwise_or,
}


def input_buffer() -> list[int]:
    """The input buffer every workload is specified for: i * 2654435761 mod 2^32."""
    return [(i * 2654435761) % 2**32 for i in range(BUFFER_WORDS)]


@dataclass
class Workload:
    """One generated workload.

    ``inputs`` are the module files in link order. ``input`` is the initial
    content of the storage buffer (set 0, binding 0) of ``buffer_words`` uints;
    run with ``buffer_words / 64`` work groups. ``expected`` is the buffer after
    running the single entry point (chain, big; None for wide), and
    ``expected_per_entry`` maps every entry point to its expected buffer.
    """

    kind: str
    n: int
    seed: int
    inputs: list[Path]
    expected: list[int] | None
    entry_points: list[str]
    buffer_words: int = BUFFER_WORDS
    input: list[int] = field(default_factory=input_buffer)
    expected_per_entry: dict[str, list[int]] = field(default_factory=dict)

    @property
    def groups(self) -> tuple[int, int, int]:
        return (self.buffer_words // LOCAL_SIZE, 1, 1)

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.inputs)


# ====================================================================== programs


@dataclass
class Program:
    """Straight-line uint code: op i computes pool[i+1] from pool (pool[0] = x).

    ``ops[i]`` is an opcode or CALL; ``a[i]`` a pool index; ``b[i]`` a pool
    index, or a constant value when ``b_const[i]``. CALL applies ``callee`` to
    pool[a[i]]. The result is the last pool value.
    """

    ops: list[int]
    a: list[int]
    b: list[int]
    b_const: list[bool]
    callee: str | None = None


def random_program(
    rng: np.random.Generator,
    n_ops: int,
    pool: np.ndarray,
    call_at: int | None = None,
    callee: str | None = None,
) -> Program:
    """About ``n_ops`` operations (exactly, unless the last step needs more).

    Built from steps that are each a bijection of the running value, so long
    chains never collapse to a constant and a wrong link shows in the output:
    ``s op= c`` (add, sub, xor, mul by an odd constant), ``s ^= (s >> k) & c``
    (and ``<<``, ``|``, or without a mask), ``s += s << k`` / ``s -= s << k``,
    and, at op index ``call_at``, ``s = callee(s)``.
    """
    n_steps = n_ops  # upper bound
    kinds = rng.integers(0, 10, n_steps)
    ops3 = rng.integers(0, 4, n_steps)
    consts = pool[rng.integers(0, len(pool), n_steps)]
    shifts = rng.integers(1, 32, n_steps)
    flags = rng.integers(0, 2, n_steps)
    ops: list[int] = []
    a: list[int] = []
    b: list[int] = []
    bc: list[bool] = []
    s = 0  # pool index of the running value

    def emit(op: int, av: int, bv: int, is_const: bool) -> int:
        ops.append(op)
        a.append(av)
        b.append(bv)
        bc.append(is_const)
        return len(ops)  # pool index of the result

    step = 0
    while len(ops) < n_ops:
        if call_at is not None and len(ops) >= call_at:
            s = emit(CALL, s, 0, False)
            call_at = None
            continue
        kind = int(kinds[step])
        c = int(consts[step])
        k = int(shifts[step])
        left = bool(flags[step])
        step += 1
        if kind < 4 or n_ops - len(ops) < 2:  # s op= c
            op = (se.OP_IADD, se.OP_ISUB, se.OP_BITWISE_XOR, se.OP_IMUL)[int(ops3[step - 1])]
            s = emit(op, s, c | 1 if op == se.OP_IMUL else c, True)
        elif kind < 8:  # s ^= (s >>/<< k) [&/| c]
            sh = se.OP_SHIFT_LEFT_LOGICAL if left else se.OP_SHIFT_RIGHT_LOGICAL
            t = emit(sh, s, k, True)
            if kind >= 5 and n_ops - len(ops) >= 2:
                t = emit(se.OP_BITWISE_AND if kind < 7 else se.OP_BITWISE_OR, t, c, True)
            s = emit(se.OP_BITWISE_XOR, s, t, False)
        else:  # s +-= s << k
            t = emit(se.OP_SHIFT_LEFT_LOGICAL, s, k, True)
            s = emit(se.OP_IADD if left else se.OP_ISUB, s, t, False)
    return Program(ops, a, b, bc, callee)


def run_program(
    prog: Program, x: np.ndarray, call: Callable[[np.ndarray], np.ndarray] | None = None
) -> np.ndarray:
    pool = [x]
    for op, a, b, bc in zip(prog.ops, prog.a, prog.b, prog.b_const, strict=True):
        va = pool[a]
        if op == CALL:
            assert call is not None
            pool.append(call(va))
        else:
            vb = np.uint32(b) if bc else pool[b]
            pool.append(_NP_OPS[op](va, vb))
    return pool[-1]


class Lib:
    """Common ids of a library-style module: uint and uint(uint), or, with ``arrays`` (a
    generator deciding this module's declaration order), uint(S) for S = {uint[2]; uint[3]}."""

    def __init__(self, b: ModuleBuilder, arrays: np.random.Generator | None = None) -> None:
        self.b = b
        b.capability(se.CAP_SHADER)
        b.capability(se.CAP_LINKAGE)
        self.uint = b.type(se.OP_TYPE_INT, 32, 0)
        self.arrays = arrays is not None
        self.arg = self.uint
        if arrays is not None:
            # The module's own length constants and arrays, in its own order.
            lengths = [2, 3] if arrays.integers(0, 2) else [3, 2]
            arr = {n: b.type(se.OP_TYPE_ARRAY, self.uint, self.uconst(n)) for n in lengths}
            self.arr2, self.arr3 = arr[2], arr[3]
            self.arg = b.type(se.OP_TYPE_STRUCT, self.arr2, self.arr3, unique=True)
        self.fn_uu = b.type(se.OP_TYPE_FUNCTION, self.uint, self.arg)

    def wrap(self, w: list[int], v: int) -> int:
        """The argument carrying uint ``v``: S{{v, v}, {v, v, v}} (``v`` itself without arrays)."""
        if not self.arrays:
            return v
        b = self.b
        a2, a3, s = b.id(), b.id(), b.id()
        w += se.inst(se.OP_COMPOSITE_CONSTRUCT, [self.arr2, a2, v, v])
        w += se.inst(se.OP_COMPOSITE_CONSTRUCT, [self.arr3, a3, v, v, v])
        w += se.inst(se.OP_COMPOSITE_CONSTRUCT, [self.arg, s, a2, a3])
        return s

    def unwrap(self, w: list[int], p: int) -> int:
        """The uint a parameter carries (member 1, element 2)."""
        if not self.arrays:
            return p
        x = self.b.id()
        w += se.inst(se.OP_COMPOSITE_EXTRACT, [self.uint, x, p, 1, 2])
        return x

    def uconst(self, value: int) -> int:
        return self.b.constant(se.OP_CONSTANT, self.uint, value & 0xFFFFFFFF)

    def emit_program(
        self, prog: Program, name: str | None, linkage: int | None, callee_id: int = 0
    ) -> int:
        """Emit ``uint f(uint x)`` computing ``prog``; return the function id."""
        b = self.b
        fid = b.id()
        x = b.id()
        uint = self.uint
        w = b.functions
        w += se.inst(se.OP_FUNCTION, [uint, fid, se.FUNCTION_CONTROL_NONE, self.fn_uu])
        w += se.inst(se.OP_FUNCTION_PARAMETER, [self.arg, x])
        w += se.inst(se.OP_LABEL, [b.id()])
        ids = [self.unwrap(w, x)]
        consts = b._consts
        for op, a, bv, bc in zip(prog.ops, prog.a, prog.b, prog.b_const, strict=True):
            rid = b.bound
            b.bound += 1
            if op == CALL:
                w += (0x50000 | se.OP_FUNCTION_CALL, uint, rid, callee_id, self.wrap(w, ids[a]))
            else:
                if bc:
                    cid = consts.get((se.OP_CONSTANT, uint, bv))
                    if cid is None:
                        cid = self.uconst(bv)
                else:
                    cid = ids[bv]
                w += (0x50000 | op, uint, rid, ids[a], cid)
            ids.append(rid)
        w += se.inst(se.OP_RETURN_VALUE, [ids[-1]])
        w += se.inst(se.OP_FUNCTION_END, [])
        if name is not None:
            b.name(fid, name)
            if linkage is not None:
                b.linkage(fid, name, linkage)
        return fid


def emit_call_sequence(
    lib: Lib, callees: Sequence[int], name: str | None, linkage: int | None
) -> int:
    """Emit ``uint f(uint x)`` returning callees[-1](...callees[0](x))."""
    b = lib.b
    fid = b.id()
    x = b.id()
    w = b.functions
    w += se.inst(se.OP_FUNCTION, [lib.uint, fid, se.FUNCTION_CONTROL_NONE, lib.fn_uu])
    w += se.inst(se.OP_FUNCTION_PARAMETER, [lib.uint, x])
    w += se.inst(se.OP_LABEL, [b.id()])
    v = x
    for c in callees:
        r = b.id()
        w += se.inst(se.OP_FUNCTION_CALL, [lib.uint, r, c, v])
        v = r
    w += se.inst(se.OP_RETURN_VALUE, [v])
    w += se.inst(se.OP_FUNCTION_END, [])
    if name is not None:
        b.name(fid, name)
        if linkage is not None:
            b.linkage(fid, name, linkage)
    return fid


class ComputeMain:
    """The compute side: storage buffer, GlobalInvocationId, entry points."""

    def __init__(self, lib: Lib) -> None:
        self.lib = lib
        b = lib.b
        uint = lib.uint
        self.void = b.type(se.OP_TYPE_VOID)
        self.fn_void = b.type(se.OP_TYPE_FUNCTION, self.void)
        self.v3uint = b.type(se.OP_TYPE_VECTOR, uint, 3)
        self.ptr_in_v3 = b.type(se.OP_TYPE_POINTER, se.SC_INPUT, self.v3uint)
        self.rta = b.type(se.OP_TYPE_RUNTIME_ARRAY, uint)
        self.block = b.type(se.OP_TYPE_STRUCT, self.rta, unique=True)
        self.ptr_sb_block = b.type(se.OP_TYPE_POINTER, se.SC_STORAGE_BUFFER, self.block)
        self.ptr_sb_uint = b.type(se.OP_TYPE_POINTER, se.SC_STORAGE_BUFFER, uint)
        self.c0 = lib.uconst(0)
        b.decorate(self.rta, se.DEC_ARRAY_STRIDE, 4)
        b.decorate(self.block, se.DEC_BLOCK)
        b.member_decorate(self.block, 0, se.DEC_OFFSET, 0)
        self.gid = b.variable(self.ptr_in_v3, se.SC_INPUT)
        self.buf = b.variable(self.ptr_sb_block, se.SC_STORAGE_BUFFER)
        b.decorate(self.gid, se.DEC_BUILTIN, se.BUILTIN_GLOBAL_INVOCATION_ID)
        b.decorate(self.buf, se.DEC_DESCRIPTOR_SET, 0)
        b.decorate(self.buf, se.DEC_BINDING, 0)
        b.name(self.gid, "gl_GlobalInvocationID")
        b.name(self.buf, "buf")

    def entry(self, name: str, callees: Sequence[int]) -> None:
        """``buf[i] = callees[-1](...callees[0](buf[i]))`` for i = gid.x."""
        b = self.lib.b
        uint = self.lib.uint
        fid = b.id()
        w = b.functions
        w += se.inst(se.OP_FUNCTION, [self.void, fid, se.FUNCTION_CONTROL_NONE, self.fn_void])
        w += se.inst(se.OP_LABEL, [b.id()])
        g = b.id()
        w += se.inst(se.OP_LOAD, [self.v3uint, g, self.gid])
        i = b.id()
        w += se.inst(se.OP_COMPOSITE_EXTRACT, [uint, i, g, 0])
        p = b.id()
        w += se.inst(se.OP_ACCESS_CHAIN, [self.ptr_sb_uint, p, self.buf, self.c0, i])
        v = b.id()
        w += se.inst(se.OP_LOAD, [uint, v, p])
        for c in callees:
            arg = self.lib.wrap(w, v)
            r = b.id()
            w += se.inst(se.OP_FUNCTION_CALL, [uint, r, c, arg])
            v = r
        w += se.inst(se.OP_STORE, [p, v])
        w += se.inst(se.OP_RETURN, [])
        w += se.inst(se.OP_FUNCTION_END, [])
        b.name(fid, name)
        b.entry_point(se.EXEC_GLCOMPUTE, fid, name, [self.gid, self.buf])
        b.execution_mode(fid, se.MODE_LOCAL_SIZE, LOCAL_SIZE, 1, 1)


def _rng(seed: int, kind: str, *parts: int) -> np.random.Generator:
    return np.random.default_rng([seed, _KIND_IDS[kind], *parts])


def _order_rng(seed: int, kind: str, k: int) -> np.random.Generator:
    """Decides module k's declaration order in an arrays variant, apart from ``_rng``'s
    stream so that the programs (and expected buffers) stay those of the plain kind."""
    return _rng(seed, kind, k, 0xA7)


def _const_pool(seed: int, kind: str, size: int = 64) -> np.ndarray:
    """Seed-wide pool of uint constants shared by all modules (duplicates on purpose)."""
    rng = _rng(seed, kind, 0xC0)
    pool = rng.integers(0, 2**32, size, dtype=np.uint64)
    return np.concatenate([pool, np.array([1, 3, 0xFF, 0xFFFF, 0x9E3779B9], dtype=np.uint64)])


def _x0() -> np.ndarray:
    return np.array(input_buffer(), dtype=np.uint32)


def _width(n: int) -> int:
    return max(1, len(str(max(n - 1, 0))))


# ====================================================================== chain

CHAIN_FUNCS = 5
CHAIN_OPS = 40


def gen_chain(n: int, out_dir: Path, seed: int, arrays: bool = False) -> Workload:
    if n < 1:
        raise ValueError("chain needs N >= 1")
    pool = _const_pool(seed, "chain")
    wd = _width(n)
    inputs: list[Path] = []
    progs0: list[Program] = []
    for k in range(n):
        rng = _rng(seed, "chain", k)
        lib = Lib(ModuleBuilder(), _order_rng(seed, "chain", k) if arrays else None)
        callee_id = 0
        if k >= 1:
            callee_id = lib.b.import_function(lib.uint, lib.fn_uu, [lib.arg], f"chain_{k - 1}_0")
        for j in range(CHAIN_FUNCS):
            call_at = int(rng.integers(1, 5)) if (j == 0 and k >= 1) else None
            prog = random_program(
                rng,
                CHAIN_OPS,
                pool,
                call_at=call_at,
                callee=f"chain_{k - 1}_0" if call_at is not None else None,
            )
            if j == 0:
                progs0.append(prog)
            lib.emit_program(prog, f"chain_{k}_{j}", se.LINKAGE_EXPORT, callee_id)
        path = out_dir / f"chain_{k:0{wd}d}.spv"
        lib.b.write(path)
        inputs.append(path)

    main = Lib(ModuleBuilder(), _order_rng(seed, "chain", n) if arrays else None)
    cm = ComputeMain(main)
    f = main.b.import_function(main.uint, main.fn_uu, [main.arg], f"chain_{n - 1}_0")
    cm.entry("main", [f])
    path = out_dir / "chain_main.spv"
    main.b.write(path)
    inputs.append(path)

    expected = _chain_eval(progs0, _x0())
    exp = [int(v) for v in expected]
    kind = "chain-arrays" if arrays else "chain"
    return Workload(kind, n, seed, inputs, exp, ["main"], expected_per_entry={"main": exp})


def _chain_eval(progs: list[Program], x: np.ndarray) -> np.ndarray:
    """Evaluate progs[-1] where progs[k] calls progs[k-1], without recursion."""
    # Walk down: compute each program's pool up to its call, then back up.
    pending: list[tuple[Program, list[np.ndarray]]] = []
    arg = x
    for prog in reversed(progs):
        pool = [arg]
        stop = len(prog.ops)
        for i, op in enumerate(prog.ops):
            if op == CALL:
                stop = i
                break
            vb = np.uint32(prog.b[i]) if prog.b_const[i] else pool[prog.b[i]]
            pool.append(_NP_OPS[op](pool[prog.a[i]], vb))
        pending.append((prog, pool))
        if stop == len(prog.ops):
            break
        arg = pool[prog.a[stop]]
    result: np.ndarray | None = None
    for prog, pool in reversed(pending):
        for i in range(len(pool) - 1, len(prog.ops)):
            op = prog.ops[i]
            if op == CALL:
                assert result is not None
                pool.append(result)
                continue
            vb = np.uint32(prog.b[i]) if prog.b_const[i] else pool[prog.b[i]]
            pool.append(_NP_OPS[op](pool[prog.a[i]], vb))
        result = pool[-1]
    assert result is not None
    return result


# ====================================================================== wide

WIDE_FUNCS = 8


class WideTypes:
    """About 50 types and 100 constants, redeclared by every wide module."""

    def __init__(self, lib: Lib, rng: np.random.Generator, pool: np.ndarray) -> None:
        b = lib.b
        T = se
        self.lib = lib
        uint = lib.uint
        self.void = b.type(T.OP_TYPE_VOID)
        self.bool = b.type(T.OP_TYPE_BOOL)
        self.int = b.type(T.OP_TYPE_INT, 32, 1)
        self.float = b.type(T.OP_TYPE_FLOAT, 32)
        vec: dict[tuple[int, int], int] = {}
        for ct in (uint, self.int, self.float, self.bool):
            for size in (2, 3, 4):
                vec[(ct, size)] = b.type(T.OP_TYPE_VECTOR, ct, size)
        self.vec = vec
        v4u = vec[(uint, 4)]
        v2f = vec[(self.float, 2)]
        c = lib.uconst
        self.arr_u4 = self._array(uint, c(4), 4)
        self.arr_u8 = self._array(uint, c(8), 4)
        self.arr_i4 = self._array(self.int, c(4), 4)
        self.arr_f3 = self._array(self.float, c(3), 4)
        self.arr_v4u2 = self._array(v4u, c(2), 16)
        self.arr_v2f4 = self._array(v2f, c(4), 8)
        self.rta = b.type(T.OP_TYPE_RUNTIME_ARRAY, uint)
        b.decorate(self.rta, T.DEC_ARRAY_STRIDE, 4)
        self.s0 = self._struct([(uint, 0), (uint, 4)], "S0")
        self.s1 = self._struct([(v4u, 0), (self.float, 16), (uint, 20)], "S1")
        self.s2 = self._struct([(self.int, 0), (v2f, 8), (uint, 16)], "S2")
        self.s3 = self._struct([(self.s0, 0), (uint, 8)], "S3")
        self.s4 = self._struct([(self.arr_u4, 0), (uint, 16)], "S4")
        self.s5 = self._struct([(self.arr_v4u2, 0), (self.arr_v2f4, 32)], "S5")
        self.s6 = self._struct([(self.float, o) for o in (0, 4, 8, 12)], "S6")
        self.sb = self._struct([(self.rta, 0)], "SB")
        b.decorate(self.sb, T.DEC_BLOCK)
        fn = se.SC_FUNCTION
        sbc = se.SC_STORAGE_BUFFER
        self.ptr_fn_uint = b.type(T.OP_TYPE_POINTER, fn, uint)
        for t in (self.int, self.float, v4u, v2f, self.bool):
            b.type(T.OP_TYPE_POINTER, fn, t)
        self.ptr_sb_uint = b.type(T.OP_TYPE_POINTER, sbc, uint)
        for t in (self.sb, self.s0, self.s1, v4u, self.arr_u4):
            b.type(T.OP_TYPE_POINTER, sbc, t)
        b.type(T.OP_TYPE_FUNCTION, self.void)
        b.type(T.OP_TYPE_FUNCTION, uint, uint, uint)
        b.type(T.OP_TYPE_FUNCTION, self.float, self.float)
        b.type(T.OP_TYPE_FUNCTION, self.void, uint)
        b.type(T.OP_TYPE_FUNCTION, self.int, self.int)
        b.type(T.OP_TYPE_FUNCTION, v4u, v4u)
        b.type(T.OP_TYPE_FUNCTION, self.bool, uint)
        b.type(T.OP_TYPE_FUNCTION, uint, uint, uint, uint)

        # ---- constants
        def pick(k: int) -> list[int]:
            return [int(v) for v in pool[rng.integers(0, len(pool), k)]]

        self.u = pick(40)
        for v in self.u:
            c(v)
        self.i = [int(v) & 0xFFFFFFFF for v in rng.integers(-1000, 1000, 15)]
        for v in self.i:
            b.constant(T.OP_CONSTANT, self.int, v)
        fvals = [float(v) / 4 for v in rng.integers(-64, 64, 12)]
        fids = [b.constant(T.OP_CONSTANT, self.float, se.float_bits(v)) for v in fvals]
        b.constant(T.OP_CONSTANT_TRUE, self.bool)
        b.constant(T.OP_CONSTANT_FALSE, self.bool)

        def comp(t: int, parts: Sequence[int]) -> int:
            return b.constant(T.OP_CONSTANT_COMPOSITE, t, *parts)

        for _ in range(4):
            comp(vec[(uint, 2)], [c(v) for v in pick(2)])
        for _ in range(3):
            comp(vec[(uint, 3)], [c(v) for v in pick(3)])
        self.v4 = [pick(4) for _ in range(5)]
        self.v4_ids = [comp(v4u, [c(v) for v in vals]) for vals in self.v4]
        iconst = [b.constant(T.OP_CONSTANT, self.int, v) for v in self.i]
        for j in range(2):
            comp(vec[(self.int, 4)], iconst[j * 4 : j * 4 + 4])
        for j in range(3):
            comp(v2f, fids[j * 2 : j * 2 + 2])
        for j in range(2):
            comp(vec[(self.float, 4)], fids[j * 4 : j * 4 + 4])
        self.s0v = [pick(2) for _ in range(4)]
        self.s0_ids = [comp(self.s0, [c(v) for v in vals]) for vals in self.s0v]
        comp(self.s1, [self.v4_ids[0], fids[0], c(self.u[0])])
        comp(self.s1, [self.v4_ids[1], fids[1], c(self.u[1])])
        self.s3v = [(self.s0v[j], self.u[j + 2]) for j in range(2)]
        self.s3_ids = [comp(self.s3, [self.s0_ids[j], c(self.u[j + 2])]) for j in range(2)]
        self.a4 = [pick(4) for _ in range(4)]
        self.a4_ids = [comp(self.arr_u4, [c(v) for v in vals]) for vals in self.a4]
        comp(self.arr_u8, [c(v) for v in pick(8)])
        comp(self.arr_v4u2, self.v4_ids[2:4])
        b.constant(T.OP_CONSTANT_NULL, self.s1)
        b.constant(T.OP_CONSTANT_NULL, vec[(self.float, 4)])
        b.constant(T.OP_CONSTANT_NULL, self.arr_u8)

    def _array(self, elem: int, length_id: int, stride: int) -> int:
        b = self.lib.b
        t = b.type(se.OP_TYPE_ARRAY, elem, length_id)
        b.decorate(t, se.DEC_ARRAY_STRIDE, stride)
        return t

    def _struct(self, members: list[tuple[int, int]], name: str) -> int:
        b = self.lib.b
        t = b.type(se.OP_TYPE_STRUCT, *(m for m, _ in members), unique=True)
        b.name(t, name)
        for i, (_, off) in enumerate(members):
            b.member_decorate(t, i, se.DEC_OFFSET, off)
        return t


WideEval = Callable[[np.ndarray], np.ndarray]


def _u(v: int) -> np.uint32:
    return np.uint32(v & 0xFFFFFFFF)


# Python evaluators of the wide functions (bound with functools.partial).
def _ev_prog(p: Program, c: int, x: np.ndarray) -> np.ndarray:
    return run_program(p, x) ^ _u(c)


def _ev_add_xor(c1: int, c2: int, x: np.ndarray) -> np.ndarray:
    return (x + _u(c1)) ^ _u(c2)


def _ev_mul_add(c1: int, c2: int, x: np.ndarray) -> np.ndarray:
    return x * _u(c1) + _u(c2)


def _ev_sub_xor(c1: int, c2: int, x: np.ndarray) -> np.ndarray:
    return (x - _u(c1)) ^ _u(c2)


def _ev_sub_mul(c1: int, c2: int, x: np.ndarray) -> np.ndarray:
    return (x - _u(c1)) * _u(c2)


def _ev_select(c0: int, c1: int, c2: int, x: np.ndarray) -> np.ndarray:
    return np.where(x < _u(c0), x ^ _u(c1), x ^ _u(c2)).astype(np.uint32)


def _wide_module(k: int, seed: int, pool: np.ndarray, arrays: bool = False
                 ) -> tuple[ModuleBuilder, list[WideEval]]:
    """One wide library module and the Python evaluators of its eight exports."""
    rng = _rng(seed, "wide", k)
    lib = Lib(ModuleBuilder(), _order_rng(seed, "wide", k) if arrays else None)
    b = lib.b
    t = WideTypes(lib, rng, pool)
    uint = lib.uint
    c = lib.uconst
    ev: list[WideEval] = []
    I = se.inst  # noqa: E741

    def begin(e: int, unwrap: bool = True) -> tuple[int, int, list[int]]:
        fid = b.id()
        x = b.id()
        w = b.functions
        w += I(se.OP_FUNCTION, [uint, fid, se.FUNCTION_CONTROL_NONE, lib.fn_uu])
        w += I(se.OP_FUNCTION_PARAMETER, [lib.arg, x])
        w += I(se.OP_LABEL, [b.id()])
        name = f"wide_{k}_{e}"
        b.name(fid, name)
        b.linkage(fid, name, se.LINKAGE_EXPORT)
        return fid, lib.unwrap(w, x) if unwrap else x, w

    def op(w: list[int], opcode: int, rtype: int, *args: int) -> int:
        r = b.id()
        w += I(opcode, [rtype, r, *args])
        return r

    def end(w: list[int], v: int) -> None:
        w += I(se.OP_RETURN_VALUE, [v])
        w += I(se.OP_FUNCTION_END, [])

    def pick() -> int:
        return t.u[int(rng.integers(0, len(t.u)))]

    # e0: generic straight-line program
    p0 = random_program(rng, 8, pool)
    f0 = lib.emit_program(p0, f"wide_{k}_0", se.LINKAGE_EXPORT)
    ev.append(partial(_ev_prog, p0, 0))

    # e1: vector construct, vector add with a composite constant, extract, xor
    _, x, w = begin(1)
    c1, c2, c3 = pick(), pick(), pick()
    vi = int(rng.integers(0, 5))
    j = 2 * int(rng.integers(0, 2))  # a component holding x
    v4u = t.vec[(uint, 4)]
    v = op(w, se.OP_COMPOSITE_CONSTRUCT, v4u, x, c(c1), x, c(c2))
    s = op(w, se.OP_IADD, v4u, v, t.v4_ids[vi])
    r = op(w, se.OP_COMPOSITE_EXTRACT, uint, s, j)
    end(w, op(w, se.OP_BITWISE_XOR, uint, r, c(c3)))
    cv = t.v4[vi][j]
    ev.append(partial(_ev_add_xor, cv, c3))

    # e2: Function variable round trip
    _, x, w = begin(2, unwrap=False)
    c1, c2 = pick() | 1, pick()
    var = b.id()
    w += I(se.OP_VARIABLE, [t.ptr_fn_uint, var, se.SC_FUNCTION])
    x = lib.unwrap(w, x)  # after the variable, which must come first in the block
    m = op(w, se.OP_IMUL, uint, x, c(c1))
    w += I(se.OP_STORE, [var, m])
    ld = op(w, se.OP_LOAD, uint, var)
    end(w, op(w, se.OP_IADD, uint, ld, c(c2)))
    ev.append(partial(_ev_mul_add, c1, c2))

    # e3: extract from a nested struct constant
    _, x, w = begin(3)
    si = int(rng.integers(0, 2))
    mi = int(rng.integers(0, 2))
    c1 = pick()
    r = op(w, se.OP_COMPOSITE_EXTRACT, uint, t.s3_ids[si], 0, mi)
    d = op(w, se.OP_ISUB, uint, x, r)
    end(w, op(w, se.OP_BITWISE_XOR, uint, d, c(c1)))
    sv = t.s3v[si][0][mi]
    ev.append(partial(_ev_sub_xor, sv, c1))

    # e4: compare and select (both arms flip only bits below the threshold)
    _, x, w = begin(4)
    c0 = 1 << int(rng.integers(4, 32))
    c1, c2 = pick() & (c0 - 1), pick() & (c0 - 1)
    cond = op(w, se.OP_ULESS_THAN, t.bool, x, c(c0))
    a = op(w, se.OP_BITWISE_XOR, uint, x, c(c1))
    bb = op(w, se.OP_BITWISE_XOR, uint, x, c(c2))
    end(w, op(w, se.OP_SELECT, uint, cond, a, bb))
    ev.append(partial(_ev_select, c0, c1, c2))

    # e5: extract from an array constant
    _, x, w = begin(5)
    ai = int(rng.integers(0, 4))
    idx = int(rng.integers(0, 4))
    c1 = pick()
    r = op(w, se.OP_COMPOSITE_EXTRACT, uint, t.a4_ids[ai], idx)
    odd = op(w, se.OP_BITWISE_OR, uint, r, c(1))
    m = op(w, se.OP_IMUL, uint, x, odd)
    end(w, op(w, se.OP_IADD, uint, m, c(c1)))
    av = t.a4[ai][idx] | 1
    ev.append(partial(_ev_mul_add, av, c1))

    # e6: call e0 in the same module
    _, x, w = begin(6)
    c1 = pick()
    r = op(w, se.OP_FUNCTION_CALL, uint, f0, lib.wrap(w, x))
    end(w, op(w, se.OP_BITWISE_XOR, uint, r, c(c1)))
    ev.append(partial(_ev_prog, p0, c1))

    # e7: signed arithmetic through bitcasts
    _, x, w = begin(7)
    i1 = t.i[int(rng.integers(0, len(t.i)))]
    i2 = t.i[int(rng.integers(0, len(t.i)))] | 1
    xi = op(w, se.OP_BITCAST, t.int, x)
    s = op(w, se.OP_ISUB, t.int, xi, b.constant(se.OP_CONSTANT, t.int, i1))
    m = op(w, se.OP_IMUL, t.int, s, b.constant(se.OP_CONSTANT, t.int, i2))
    end(w, op(w, se.OP_BITCAST, uint, m))
    ev.append(partial(_ev_sub_mul, i1, i2))
    return b, ev


def gen_wide(n: int, out_dir: Path, seed: int, arrays: bool = False) -> Workload:
    if n < 1:
        raise ValueError("wide needs N >= 1")
    pool = _const_pool(seed, "wide")
    wd = _width(n)
    inputs: list[Path] = []
    vals = [_x0() for _ in range(WIDE_FUNCS)]
    for k in range(n):
        b, evs = _wide_module(k, seed, pool, arrays)
        path = out_dir / f"wide_{k:0{wd}d}.spv"
        b.write(path)
        inputs.append(path)
        for e in range(WIDE_FUNCS):
            vals[e] = evs[e](vals[e]).astype(np.uint32)

    main = Lib(ModuleBuilder(), _order_rng(seed, "wide", n) if arrays else None)
    cm = ComputeMain(main)
    imports = [
        [
            main.b.import_function(main.uint, main.fn_uu, [main.arg], f"wide_{k}_{e}")
            for k in range(n)
        ]
        for e in range(WIDE_FUNCS)
    ]
    names = [f"main{e}" for e in range(WIDE_FUNCS)]
    for e in range(WIDE_FUNCS):
        cm.entry(names[e], imports[e])
    path = out_dir / "wide_main.spv"
    main.b.write(path)
    inputs.append(path)
    per = {names[e]: [int(v) for v in vals[e]] for e in range(WIDE_FUNCS)}
    kind = "wide-arrays" if arrays else "wide"
    return Workload(kind, n, seed, inputs, None, names, expected_per_entry=per)


# ====================================================================== big

BIG_FUNCS = 200  # per module, times n
BIG_OPS = 1000


def gen_big(n: int, out_dir: Path, seed: int) -> Workload:
    """Two modules of about 4 MB * n each."""
    if n < 1:
        raise ValueError("big needs N >= 1")
    pool = _const_pool(seed, "big", 1024)
    x = _x0()
    inputs: list[Path] = []
    # module 0: internal functions g_i, exported big_export calls all of them in turn
    rng = _rng(seed, "big", 0)
    lib = Lib(ModuleBuilder())
    ids = []
    for i in range(BIG_FUNCS * n):
        prog = random_program(rng, BIG_OPS, pool)
        ids.append(lib.emit_program(prog, f"big_a_{i}", None))
        x = run_program(prog, x)
    emit_call_sequence(lib, ids, "big_export", se.LINKAGE_EXPORT)
    path = out_dir / "big_0.spv"
    lib.b.write(path)
    inputs.append(path)
    # module 1: imports big_export, own functions h_i, entry point main
    rng = _rng(seed, "big", 1)
    lib = Lib(ModuleBuilder())
    cm = ComputeMain(lib)
    imp = lib.b.import_function(lib.uint, lib.fn_uu, [lib.uint], "big_export")
    ids = [imp]
    for i in range(BIG_FUNCS * n):
        prog = random_program(rng, BIG_OPS, pool)
        ids.append(lib.emit_program(prog, f"big_b_{i}", None))
        x = run_program(prog, x)
    cm.entry("main", ids)
    path = out_dir / "big_1.spv"
    lib.b.write(path)
    inputs.append(path)
    exp = [int(v) for v in x]
    return Workload("big", n, seed, inputs, exp, ["main"], expected_per_entry={"main": exp})


# ====================================================================== entry points

_GENERATORS: dict[str, Callable[[int, Path, int], Workload]] = {
    "chain": gen_chain,
    "wide": gen_wide,
    "big": gen_big,
    "chain-arrays": partial(gen_chain, arrays=True),
    "wide-arrays": partial(gen_wide, arrays=True),
}


def generate(kind: str, n: int, out_dir: Path, seed: int = 1) -> Workload:
    """Write workload ``kind`` of size ``n`` into ``out_dir`` and describe it.

    Also writes ``out_dir/workload.json`` (inputs relative to out_dir, entry
    points, input and expected buffers).
    """
    if kind not in _GENERATORS:
        raise ValueError(f"unknown workload kind {kind!r} (have: {', '.join(_GENERATORS)})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wl = _GENERATORS[kind](n, out_dir, seed)
    manifest = {
        "kind": wl.kind,
        "n": wl.n,
        "seed": wl.seed,
        "inputs": [p.name for p in wl.inputs],
        "entry_points": wl.entry_points,
        "buffer_words": wl.buffer_words,
        "groups": list(wl.groups),
        "input": wl.input,
        "expected": wl.expected,
        "expected_per_entry": wl.expected_per_entry,
    }
    (out_dir / "workload.json").write_text(json.dumps(manifest) + "\n")
    return wl


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("kind", choices=sorted(_GENERATORS))
    ap.add_argument("n", type=int, nargs="?", default=1)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    wl = generate(args.kind, args.n, args.out, args.seed)
    dt = time.perf_counter() - t0
    size = wl.total_bytes()
    print(
        f"{args.kind} {args.n}: {len(wl.inputs)} modules, {size / 1e6:.2f} MB, "
        f"{dt:.2f} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
