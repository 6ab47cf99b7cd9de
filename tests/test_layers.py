"""The layering rules of DESIGN.md, checked by walking every import with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "spvlink"

# Lower number = lower layer; a module may import only its own layer or lower ones,
# except that the two codecs never import each other.
LAYER = {
    "errors": 0, "_words": 0, "timing": 0, "choices": 0, "record": 0,
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
