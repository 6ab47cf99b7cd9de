"""Random SPIR-V type graphs for the type-identity property tests (issue 9).

A generated `Program` is one type tree (the payload `B`: a struct of nested scalars,
vectors, matrices, arrays with length constants, runtime arrays, structs, pointers and a
recursive struct through a forward-declared pointer), laid out consistently (Offset,
ArrayStride, MatrixStride, RowMajor/ColMajor, Block by the std430 rules of the Vulkan
spec's "Offset and Stride Assignment"), and two or three modules, linked in any order,
that each declare their own copy of every type and every length constant, in their own
shuffled order:

- `lib.spv` exports `get(B*) -> leaf`: an access chain along `path` and a load;
- `data.spv` (or `lib.spv` when there are two modules) exports the variable `data` (`B*`);
- `main.spv` imports both, calls `get` on its own buffer and on `data`, loads a member of
  `data` through its own types and stores through access chains built from its own types.

So every use in `main.spv` type-checks after linking only when its copy of each type was
merged with the exporter's. Three modes: "shader" (Logical GLSL450, StorageBuffer),
"psb" (PhysicalStorageBuffer64, a recursive struct through a PhysicalStorageBuffer
forward pointer) and "kernel" (Physical64 OpenCL, CrossWorkgroup, a recursive struct
through a CrossWorkgroup forward pointer).

`structural_types` keys every type of a module (for example a linked output) by structure
and decorations, independently of spvlink, so a test can count distinct types.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, field, replace
from typing import Union

from hypothesis import strategies as st

# ---------------------------------------------------------------------------------- types


@dataclass(frozen=True)
class Scalar:
    is_float: bool
    width: int
    signed: bool = False


@dataclass(frozen=True)
class Vector:
    elem: Scalar
    n: int


@dataclass(frozen=True)
class Matrix:
    col: Vector
    cols: int


@dataclass(frozen=True)
class Array:
    elem: Type
    length: int
    stride: int | None


@dataclass(frozen=True)
class RuntimeArray:
    elem: Type
    stride: int | None


@dataclass(frozen=True)
class Member:
    type: Type
    offset: int | None
    matrix: tuple[int, bool] | None = None  # (MatrixStride, RowMajor) for matrices inside


@dataclass(frozen=True)
class Struct:
    members: tuple[Member, ...]
    block: bool = False
    packed: bool = False  # CPacked (kernel mode)


@dataclass(frozen=True)
class Node:
    """The recursive struct `{ scalar value; Node* next }` through a forward pointer."""
    scalar: Scalar
    storage: str
    offsets: tuple[int, int] | None  # member Offsets (shader modes)


@dataclass(frozen=True)
class Pointer:
    storage: str
    pointee: Type


Type = Union[Scalar, Vector, Matrix, Array, RuntimeArray, Struct, Node, Pointer]  # noqa: UP007

UINT = Scalar(False, 32)
F32 = Scalar(True, 32)


def _round(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def size_align(t: Type, major: tuple[int, bool] | None = None) -> tuple[int, int]:
    """std430 size and base alignment; `major` is the member's (MatrixStride, RowMajor)."""
    if isinstance(t, Scalar):
        return t.width // 8, t.width // 8
    if isinstance(t, Vector):
        s = t.elem.width // 8
        return t.n * s, s * (2 if t.n == 2 else 4)
    if isinstance(t, Matrix):
        assert major is not None
        stride, row_major = major
        return (t.col.n if row_major else t.cols) * stride, stride
    if isinstance(t, Array):
        assert t.stride is not None
        return t.length * t.stride, size_align(t.elem, major)[1]
    if isinstance(t, RuntimeArray):
        return 0, size_align(t.elem, major)[1]
    if isinstance(t, Pointer):
        return 8, 8
    if isinstance(t, Struct):
        align = max(size_align(m.type, m.matrix)[1] for m in t.members)
        last = t.members[-1]
        assert last.offset is not None
        return _round(last.offset + size_align(last.type, last.matrix)[0], align), align
    raise AssertionError(t)


def _matrix_in(t: Type) -> Matrix | None:
    while isinstance(t, Array | RuntimeArray):
        t = t.elem
    return t if isinstance(t, Matrix) else None


def _vec_align(n: int) -> int:
    return 8 if n == 2 else 16


# ------------------------------------------------------------------------------ strategies

SHADER_SCALARS = [UINT, Scalar(False, 32, True), F32, Scalar(True, 64), Scalar(False, 64)]
KERNEL_SCALARS = [UINT, Scalar(False, 8), Scalar(False, 16), Scalar(False, 64), F32,
                  Scalar(True, 64)]


@st.composite
def member_types(draw: st.DrawFn, depth: int, mode: str) -> Type:
    scalars = KERNEL_SCALARS if mode == "kernel" else SHADER_SCALARS
    kinds = ["scalar", "vector"]
    if depth > 0:
        kinds += ["array", "array", "struct"] + (["matrix"] if mode != "kernel" else [])
    if mode in ("psb", "kernel"):
        kinds.append("node")
    if mode == "kernel":
        kinds.append("pointer")
    kind = draw(st.sampled_from(kinds))
    if kind == "scalar":
        return draw(st.sampled_from(scalars))
    if kind == "vector":
        return Vector(draw(st.sampled_from(scalars)), draw(st.integers(2, 4)))
    if kind == "matrix":
        return Matrix(Vector(F32, draw(st.integers(2, 4))), draw(st.integers(2, 4)))
    if kind == "node":
        s = draw(st.sampled_from(scalars))
        if mode == "psb":
            return Pointer("PhysicalStorageBuffer", Node(s, "PhysicalStorageBuffer", (0, 8)))
        return Pointer("CrossWorkgroup", Node(s, "CrossWorkgroup", None))
    if kind == "pointer":
        return Pointer("CrossWorkgroup", draw(st.sampled_from(scalars)))
    if kind == "struct":
        return draw(structs(depth - 1, mode))
    elem = draw(member_types(depth - 1, mode))
    if isinstance(elem, Matrix) or (isinstance(elem, Array) and _matrix_in(elem)):
        # The member that holds it decides the matrix layout: laid out later.
        return Array(elem, draw(st.integers(1, 4)), None)
    return _with_stride(Array(elem, draw(st.integers(1, 4)), None), None,
                        draw(st.integers(0, 1)), mode)


def _with_stride(a: Array | RuntimeArray, major: tuple[int, bool] | None, extra: int,
                 mode: str) -> Array | RuntimeArray:
    """Fill in the strides of `a` (and of arrays inside it) once the matrix layout is known."""
    elem = a.elem
    if isinstance(elem, Array) and elem.stride is None:
        elem = _with_stride(elem, major, 0, mode)
    if mode == "kernel":
        return replace(a, elem=elem, stride=None)
    size, align = size_align(elem, major)
    return replace(a, elem=elem, stride=_round(size, align) + extra * align)


@st.composite
def structs(draw: st.DrawFn, depth: int, mode: str, *, top: bool = False) -> Struct:
    n = draw(st.integers(1, 3))
    raw = [draw(member_types(depth, mode)) for _ in range(n)]
    if top and mode != "kernel" and draw(st.booleans()):
        raw.append(RuntimeArray(draw(member_types(max(depth - 1, 0), mode)), None))
    members: list[Member] = []
    end = 0
    for t in raw:
        major = None
        m = _matrix_in(t)
        if m is not None and mode != "kernel":
            row_major = draw(st.booleans())
            major = (_vec_align(m.cols if row_major else m.col.n), row_major)
        if isinstance(t, Array | RuntimeArray) and t.stride is None:
            t = _with_stride(t, major, draw(st.integers(0, 1)), mode)
        if mode == "kernel":
            members.append(Member(t, None))
            continue
        size, align = size_align(t, major)
        offset = _round(end, align) + draw(st.integers(0, 1)) * align
        members.append(Member(t, offset, major))
        end = offset + size
    packed = mode == "kernel" and draw(st.integers(0, 4)) == 0
    return Struct(tuple(members), block=top and mode != "kernel", packed=packed)


def leaf_paths(t: Type, prefix: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], Scalar]]:
    """Every access-chain path from `t` to a scalar (not through pointers)."""
    if isinstance(t, Scalar):
        return [(prefix, t)]
    if isinstance(t, Vector):
        return [(prefix + (t.n - 1,), t.elem)]
    if isinstance(t, Matrix):
        return [(prefix + (t.cols - 1, t.col.n - 1), t.col.elem)]
    if isinstance(t, Array):
        return leaf_paths(t.elem, prefix + (t.length - 1,))
    if isinstance(t, RuntimeArray):
        return leaf_paths(t.elem, prefix + (0,))
    if isinstance(t, Struct):
        return [p for k, m in enumerate(t.members) for p in leaf_paths(m.type, prefix + (k,))]
    return []


# ------------------------------------------------------------------------------ mutation


def decoration_sites(t: Type, where: tuple = ()) -> list[tuple[tuple, str]]:
    """(location, decoration name) of every layout decoration inside `t`."""
    out: list[tuple[tuple, str]] = []
    if isinstance(t, Struct):
        if t.block:
            out.append((where + ("block",), "Block"))
        if t.packed:
            out.append((where + ("packed",), "CPacked"))
        for k, m in enumerate(t.members):
            if m.offset is not None:
                out.append((where + (k, "offset"), "Offset"))
            if m.matrix is not None:
                out.append((where + (k, "matrix_stride"), "MatrixStride"))
                out.append((where + (k, "major"), "RowMajor" if m.matrix[1] else "ColMajor"))
            out += decoration_sites(m.type, where + (k,))
    elif isinstance(t, Array | RuntimeArray):
        if t.stride is not None:
            out.append((where + ("stride",), "ArrayStride"))
        out += decoration_sites(t.elem, where + ("elem",))
    elif isinstance(t, Pointer) and isinstance(t.pointee, Node) and t.pointee.offsets:
        # Inside the cycle: the recursive struct's pointer member.
        out.append((where + ("node",), "Offset"))
    return out


def mutate(t: Type, site: tuple) -> Type:
    """`t` with the one decoration at `site` changed (a bigger Offset or stride, the other
    matrix order, no Block, CPacked flipped)."""
    head, rest = site[0], site[1:]
    if isinstance(t, Pointer) and isinstance(t.pointee, Node) and head == "node":
        node = t.pointee
        assert node.offsets is not None
        return replace(t, pointee=replace(node, offsets=(node.offsets[0], node.offsets[1] + 16)))
    if isinstance(t, Struct):
        if head == "block":
            return replace(t, block=False)
        if head == "packed":
            return replace(t, packed=not t.packed)
        m = t.members[head]
        if rest == ("offset",):
            assert m.offset is not None
            new = replace(m, offset=m.offset + 16)
        elif rest == ("matrix_stride",):
            assert m.matrix is not None
            new = replace(m, matrix=(m.matrix[0] + 16, m.matrix[1]))
        elif rest == ("major",):
            assert m.matrix is not None
            new = replace(m, matrix=(m.matrix[0], not m.matrix[1]))
        else:
            new = replace(m, type=mutate(m.type, rest))
        return replace(t, members=t.members[:head] + (new,) + t.members[head + 1:])
    if isinstance(t, Array | RuntimeArray):
        if head == "stride":
            assert t.stride is not None
            return replace(t, stride=t.stride + 16)
        return replace(t, elem=mutate(t.elem, rest))
    raise AssertionError((t, site))


# ------------------------------------------------------------------------------ emission


@dataclass
class _Decl:
    name: str
    text: str
    deps: list[str]


@dataclass
class Emitter:
    """One module's declarations: each type and constant once, emitted in a random
    topological order (forward pointers first where a struct needs them)."""

    prefix: str
    mode: str
    decls: list[_Decl] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    ids: dict[object, str] = field(default_factory=dict)
    caps: set[str] = field(default_factory=set)
    counter: int = 0

    def new(self, hint: str) -> str:
        self.counter += 1
        return f"%{self.prefix}_{hint}{self.counter}"

    def add(self, key: object, hint: str, text: str, deps: list[str]) -> str:
        name = self.new(hint)
        self.ids[key] = name
        self.decls.append(_Decl(name, f"{name} = {text}", deps))
        return name

    def const(self, value: int) -> str:
        key = ("const", value)
        if key in self.ids:
            return self.ids[key]
        u = self.type(UINT)
        return self.add(key, "c", f"OpConstant {u} {value}", [u])

    def type(self, t: Type) -> str:
        if t in self.ids:
            return self.ids[t]
        if isinstance(t, Scalar):
            if t.width == 64:
                self.caps.add("Float64" if t.is_float else "Int64")
            elif t.width in (8, 16):
                self.caps.add(f"Int{t.width}")
            if t.is_float:
                return self.add(t, "f", f"OpTypeFloat {t.width}", [])
            return self.add(t, "i", f"OpTypeInt {t.width} {int(t.signed)}", [])
        if isinstance(t, Vector):
            e = self.type(t.elem)
            return self.add(t, "v", f"OpTypeVector {e} {t.n}", [e])
        if isinstance(t, Matrix):
            c = self.type(t.col)
            return self.add(t, "m", f"OpTypeMatrix {c} {t.cols}", [c])
        if isinstance(t, Array):
            e, n = self.type(t.elem), self.const(t.length)
            name = self.add(t, "a", f"OpTypeArray {e} {n}", [e, n])
            if t.stride is not None:
                self.annotations.append(f"OpDecorate {name} ArrayStride {t.stride}")
            return name
        if isinstance(t, RuntimeArray):
            e = self.type(t.elem)
            name = self.add(t, "r", f"OpTypeRuntimeArray {e}", [e])
            if t.stride is not None:
                self.annotations.append(f"OpDecorate {name} ArrayStride {t.stride}")
            return name
        if isinstance(t, Struct):
            ms = [self.type(m.type) for m in t.members]
            name = self.add(t, "s", "OpTypeStruct " + " ".join(ms), ms)
            for k, m in enumerate(t.members):
                if m.offset is not None:
                    self.annotations.append(f"OpMemberDecorate {name} {k} Offset {m.offset}")
                if m.matrix is not None:
                    self.annotations.append(
                        f"OpMemberDecorate {name} {k} {'RowMajor' if m.matrix[1] else 'ColMajor'}")
                    self.annotations.append(
                        f"OpMemberDecorate {name} {k} MatrixStride {m.matrix[0]}")
            if t.block:
                self.annotations.append(f"OpDecorate {name} Block")
            if t.packed:
                self.annotations.append(f"OpDecorate {name} CPacked")
            return name
        if isinstance(t, Pointer) and isinstance(t.pointee, Node):
            node = t.pointee
            s = self.type(node.scalar)
            ptr, sname = self.new("fp"), self.new("node")
            self.ids[t], self.ids[node] = ptr, sname
            fwd = f"{ptr}_fwd"
            self.decls.append(_Decl(fwd, f"OpTypeForwardPointer {ptr} {node.storage}", []))
            self.decls.append(_Decl(sname, f"{sname} = OpTypeStruct {s} {ptr}", [s, fwd]))
            self.decls.append(_Decl(ptr, f"{ptr} = OpTypePointer {node.storage} {sname}",
                                    [sname]))
            if node.offsets is not None:
                for k, off in enumerate(node.offsets):
                    self.annotations.append(f"OpMemberDecorate {sname} {k} Offset {off}")
            self.names.append(f'OpName {sname} "{self.prefix}_node"')
            return ptr
        if isinstance(t, Pointer):
            p = self.type(t.pointee)
            return self.add(t, "p", f"OpTypePointer {t.storage} {p}", [p])
        raise AssertionError(t)

    def fn_type(self, ret: str, *params: str) -> str:
        key = ("fn", ret, params)
        if key in self.ids:
            return self.ids[key]
        return self.add(key, "fn", " ".join(["OpTypeFunction", ret, *params]),
                        [ret, *params])

    def ordered(self, rnd: random.Random) -> list[str]:
        """The declarations in a random order that respects their dependencies."""
        pending = {d.name: d for d in self.decls}
        done: set[str] = set()
        out: list[str] = []
        while pending:
            ready = sorted(n for n, d in pending.items() if all(x in done for x in d.deps))
            pick = ready[rnd.randrange(len(ready))]
            out.append(pending.pop(pick).text)
            done.add(pick)
        return out


@dataclass
class Program:
    mode: str
    block: Struct
    path: tuple[int, ...]
    leaf: Scalar
    three: bool  # lib, data and main; else lib (also exporting data) and main
    order: int  # which permutation of the modules is the link order
    seeds: tuple[int, int, int]

    @property
    def env(self) -> str:
        """The spirv-val environment of the inputs."""
        return "spv1.0" if self.mode == "kernel" else "spv1.5"

    @property
    def linked_envs(self) -> tuple[str, ...]:
        return ("opencl1.2", "opencl2.0") if self.mode == "kernel" else ("vulkan1.2",)

    def modules(self, mutation: tuple[str, tuple] | None = None) -> list[tuple[str, str]]:
        """(file name, assembly) of each module in link order; `mutation` = (file, site)
        changes one decoration of that file's copy of `B`."""
        roles = ["lib", "data", "main"] if self.three else ["lib", "main"]
        orders = list(itertools.permutations(roles))
        out = []
        for role in orders[self.order % len(orders)]:
            block = self.block
            if mutation is not None and mutation[0] == role:
                block = mutate(block, mutation[1])  # type: ignore[assignment]
            seed = self.seeds[["lib", "data", "main"].index(role)]
            out.append((f"{role}.spv", self._module(role, block, random.Random(seed))))
        return out

    def _module(self, role: str, block: Type, rnd: random.Random) -> str:
        kernel = self.mode == "kernel"
        sc = "CrossWorkgroup" if kernel else "StorageBuffer"
        e = Emitter(role, self.mode)
        # Declare the payload first in a random member order, so the ids differ per module.
        pb = e.type(Pointer(sc, block))
        leaf = e.type(self.leaf)
        pleaf = e.type(Pointer(sc, self.leaf))
        idx = [e.const(i) for i in self.path]
        fn_get = e.fn_type(leaf, pb)
        e.names.append(f'OpName {e.ids[block]} "B_{role}"')
        exports_data = role == "data" or (role == "lib" and not self.three)
        body: list[str] = []
        annotations: list[str] = []
        entry: list[str] = []
        variables: list[str] = []
        if role == "lib":
            annotations.append('OpDecorate %get LinkageAttributes "get" Export')
            body += [f"%get = OpFunction {leaf} None {fn_get}",
                     f"%p = OpFunctionParameter {pb}", "%l = OpLabel",
                     f"%ac = OpAccessChain {pleaf} %p {' '.join(idx)}",
                     f"%v = OpLoad {leaf} %ac", "OpReturnValue %v", "OpFunctionEnd"]
        if exports_data or role == "main":
            kind = "Export" if exports_data else "Import"
            annotations.append(f'OpDecorate %data LinkageAttributes "data" {kind}')
            if not kernel:
                annotations += ["OpDecorate %data DescriptorSet 0", "OpDecorate %data Binding 1"]
            variables.append(f"%data = OpVariable {pb} {sc}")
        if role == "main":
            annotations.append('OpDecorate %get LinkageAttributes "get" Import')
            body += [f"%get = OpFunction {leaf} None {fn_get}",
                     f"%gp = OpFunctionParameter {pb}", "OpFunctionEnd"]
            void = e.add("void", "void", "OpTypeVoid", [])
            first = block.members[0]  # type: ignore[union-attr]
            pfirst = e.type(Pointer(sc, first.type)) if _loadable(first.type) else None
            c0 = e.const(0)
            if kernel:
                fn_main = e.fn_type(void, pb)
                entry += ['OpEntryPoint Kernel %main "main"']
                params = [f"%buf = OpFunctionParameter {pb}"]
            else:
                fn_main = e.fn_type(void)
                entry += ['OpEntryPoint GLCompute %main "main" %buf %data',
                          "OpExecutionMode %main LocalSize 1 1 1"]
                annotations += ["OpDecorate %buf DescriptorSet 0", "OpDecorate %buf Binding 0"]
                variables.insert(0, f"%buf = OpVariable {pb} {sc}")
                params = []
            body += [f"%main = OpFunction {void} None {fn_main}", *params, "%ml = OpLabel",
                     f"%r1 = OpFunctionCall {leaf} %get %buf",
                     f"%r2 = OpFunctionCall {leaf} %get %data",
                     f"%pd = OpAccessChain {pleaf} %data {' '.join(idx)}",
                     "OpStore %pd %r1",
                     f"%pm = OpAccessChain {pleaf} %buf {' '.join(idx)}",
                     "OpStore %pm %r2"]
            if pfirst is not None:
                body += [f"%pdf = OpAccessChain {pfirst} %data {c0}",
                         f"%whole = OpLoad {e.ids[first.type]} %pdf",
                         f"%pbf = OpAccessChain {pfirst} %buf {c0}",
                         "OpStore %pbf %whole"]
            body += ["OpReturn", "OpFunctionEnd"]
        # Shader: StorageBuffer pointers are passed to `get`, which needs variable pointers.
        caps = (["Addresses", "Kernel"] if kernel else ["Shader", "VariablePointersStorageBuffer"])
        caps.append("Linkage")
        if self.mode == "psb":
            caps.append("PhysicalStorageBufferAddresses")
        caps += sorted(e.caps)
        model = {"shader": "Logical GLSL450", "psb": "PhysicalStorageBuffer64 GLSL450",
                 "kernel": "Physical64 OpenCL"}[self.mode]
        lines = [f"OpCapability {c}" for c in caps]
        lines += [f"OpMemoryModel {model}", *entry, *e.names, *annotations, *e.annotations]
        lines += e.ordered(rnd) + variables + body
        return "\n".join(lines) + "\n"


def _loadable(t: Type) -> bool:
    """A member that can be loaded and stored whole (no runtime array inside)."""
    return not isinstance(t, RuntimeArray)


@st.composite
def programs(draw: st.DrawFn, modes: tuple[str, ...] = ("shader", "psb", "kernel")) -> Program:
    mode = draw(st.sampled_from(modes))
    block = draw(structs(3, mode, top=True).filter(has_leaf))
    paths = leaf_paths(block)
    path, leaf = draw(st.sampled_from(paths))
    seeds = (draw(st.integers(0, 2**16)), draw(st.integers(0, 2**16)),
             draw(st.integers(0, 2**16)))
    return Program(mode, block, path, leaf, draw(st.booleans()), draw(st.integers(0, 5)), seeds)


def has_leaf(block: Struct) -> bool:
    return bool(leaf_paths(block))


# ------------------------------------------------------------------------ structural keys

_LINE = re.compile(r"^\s*(?:(%\S+) = )?(Op\w+)(.*)$")


def structural_types(text: str) -> dict[str, object]:
    """Every type id of a disassembly (spirv-dis --raw-id) -> a key from its opcode,
    literals, operand keys (array lengths by constant value), decorations and member
    decorations (names ignored). Recursion through forward pointers is keyed by the
    distance back to the pointer being revisited, so equal recursive types get equal keys."""
    defs: dict[str, tuple[str, list[str]]] = {}
    decos: dict[str, list[tuple[str, ...]]] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        rid, op, rest = m.group(1), m.group(2), m.group(3).split()
        if op in ("OpDecorate", "OpMemberDecorate"):
            if "LinkageAttributes" not in rest:
                decos.setdefault(rest[0], []).append((op, *rest[1:]))
        elif rid and (op.startswith("OpType") or op.startswith("OpConstant")):
            defs[rid] = (op, rest)

    def key(i: str, stack: tuple[str, ...]) -> object:
        if i in stack:
            return ("back", len(stack) - stack.index(i))
        op, rest = defs[i]
        stack = stack + (i,)
        ops: list[object] = []
        for w in rest:
            if w.startswith("%") and w in defs:
                if op == "OpTypeArray" and defs[w][0] == "OpConstant":
                    ops.append(("len", key(defs[w][1][0], stack), tuple(defs[w][1][1:])))
                else:
                    ops.append(key(w, stack))
            else:
                ops.append(w)
        return (op, tuple(ops), tuple(sorted(decos.get(i, []))))

    return {i: key(i, ()) for i, (op, _) in defs.items() if op.startswith("OpType")}
