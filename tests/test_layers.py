"""The layering rules of DESIGN.md, checked by walking every import with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "spvlink"

# Lower number = lower layer; a module may import only its own layer or lower ones,
# except that the two codecs never import each other.
LAYER = {
    "errors": 0, "_words": 0, "_cores": 0, "_heap": 0, "_once": 0, "timing": 0, "choices": 0, "record": 0,
    "grammar": 1, "spec": 1,
    "ir": 2,
    "binary": 3, "text": 3,
    "link": 4,
    "archive": 1, "tools": 1, "outputs": 1,
    "info": 5, "stage": 5, "inputs": 5, "postprocess": 5, "manifest": 6,
    "cli": 7, "__main__": 8, "__init__": 9,
}


def top(module_path: Path) -> str:
    rel = module_path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def imported_tops(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    pkg_depth = len(path.relative_to(SRC).parts) - 1
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = list(path.relative_to(SRC).parts[:-1])
                up = node.level - 1
                base = parts[: len(parts) - up] if up else parts
                target = base + (node.module.split(".") if node.module else [])
                if target:
                    out.add(target[0])
                else:
                    out.update(a.name for a in node.names)
            elif node.module and node.module.startswith("spvlink."):
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("spvlink."):
                    out.add(a.name.split(".")[1])
    del pkg_depth
    return out


def test_lower_layers_never_import_higher_ones() -> None:
    problems = []
    for path in SRC.rglob("*.py"):
        me = top(path)
        if me not in LAYER:
            problems.append(f"{path}: unknown layer {me}")
            continue
        for other in imported_tops(path) - {me}:
            if other not in LAYER:
                continue
            if LAYER[other] > LAYER[me]:
                problems.append(f"{path.relative_to(SRC)} imports {other}")
            if {me, other} == {"binary", "text"}:
                problems.append(f"{path.relative_to(SRC)}: codecs import each other")
            if me in ("archive", "tools", "outputs") and other != "errors":
                problems.append(f"{path.relative_to(SRC)} may import only errors, not {other}")
    assert not problems, "\n".join(problems)


# Where instruction header words may be taken apart and opcodes matched by number: the
# opcode facts (ir/layout), the grammar, the codecs and the grammar-blind words; the
# rest asks them (`spec.Op` names, `ir.layout` sets, `_words.opcode_of`).
OPCODE_HOMES = ("grammar/", "binary/", "text/", "ir/layout.py", "_words.py", "spec.py")


def _opcode_like(node: ast.expr) -> bool:
    text = ast.unparse(node).lower()
    return not isinstance(node, ast.Call) and (
        "opcode" in text or text == "op" or text.endswith(".op") or text.endswith("ws[0]"))


def _int_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value > 1


def opcode_number_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """`x & 0xFFFF`, and an opcode compared with (or looked up among) plain numbers."""
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitAnd) and any(
                isinstance(x, ast.Constant) and x.value == 0xFFFF for x in (n.left, n.right)):
            found.append((n.lineno, ast.unparse(n)))
        elif isinstance(n, ast.Compare):
            sides = [n.left, *n.comparators]
            numbers = [x for x in sides if _int_constant(x)] + [
                e for x in sides if isinstance(x, (ast.Tuple, ast.Set, ast.List))
                for e in x.elts if _int_constant(e)]
            if numbers and any(_opcode_like(x) for x in sides):
                found.append((n.lineno, ast.unparse(n)))
    return found


def test_opcode_numbers_only_in_their_homes() -> None:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(OPCODE_HOMES):
            continue
        problems += [f"{rel}:{line}: {text}"
                     for line, text in opcode_number_uses(ast.parse(path.read_text()))]
    assert not problems, "\n".join(problems)


def test_opcode_number_check_finds_them() -> None:
    """The check above is not vacuous: it finds each kind of use it forbids."""
    code = "a = ws[0] & 0xFFFF\nb = m.opcodes == 54\nc = op in (17, 18)\nd = len(x) == 2\n"
    assert [line for line, _ in opcode_number_uses(ast.parse(code))] == [1, 2, 3]
