"""The README's commands run as they are written, so the README cannot go stale.

Every fenced ```sh block of README.md runs in bash with `set -e` (a failing command fails
the test), in the README's order, in one scratch folder holding what a new user has after
`make demo`: a copy of `examples/`, `.venv` linked to the repository's, and `demo-out/build/`
made by `examples/build.py` (what `make demo` builds there). PATH starts with the venv's
`bin/`, as after `. .venv/bin/activate`. A ```python block runs in the same folder with the
venv's Python; when the next fenced block is a ```text block, the output must equal it.

Markers: an HTML comment on the line before a block (GitHub does not show it):

- `<!-- readme-test: skip (why) -->`: the block is not run. Only for blocks that set up or
  test the repository itself (`make demo`, `make test`: this test runs inside them), that
  are long (benchmarks, `make bench`) or that need a GPU machine. The reason is required.
- `<!-- readme-test: fails with the text below -->`: the block must exit with status 1 and
  print on stderr exactly the ```text block that follows it.

Static checks hold the rest of issue 13's "first five minutes": `make demo` and `make test`
come first, one command a line (no `[--optional]` brackets, no two commands on a line), and
no link points outside the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import ROOT

README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- readme-test: (.*) -->$")


@dataclass
class Block:
    lang: str
    text: str
    line: int  # of the opening fence, 1-based
    marker: str | None


def blocks(text: str) -> list[Block]:
    out: list[Block] = []
    lines = text.splitlines()
    k = 0
    while k < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[k])
        if not m:
            k += 1
            continue
        start = k
        k += 1
        body = []
        while k < len(lines) and lines[k] != "```":
            body.append(lines[k])
            k += 1
        assert k < len(lines), f"README.md:{start + 1}: unclosed code block"
        before = [ln for ln in lines[:start] if ln.strip()]
        marked = MARKER.match(before[-1]) if before else None
        out.append(Block(m.group(1), "\n".join(body) + "\n", start + 1,
                         marked.group(1) if marked else None))
        k += 1
    return out


ALL = blocks(README.read_text())


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a new user's clone holds after `make demo`, in a folder of its own."""
    if shutil.which("clang-14") is None or shutil.which("llvm-spirv-14") is None:
        pytest.skip("the README needs clang-14 and llvm-spirv-14 (make demo installs them)")
    d = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", d / "examples",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (d / ".venv").symlink_to(Path(sys.executable).parent.parent)
    r = subprocess.run([sys.executable, str(d / "examples" / "build.py"),
                        str(d / "demo-out" / "build")], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return d


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("COLUMNS", None)
    return env


def test_readme_blocks_run(scratch: Path) -> None:
    """Every block, in order; the message names the README line of a failing block."""
    ran = 0
    for k, block in enumerate(ALL):
        if block.marker and block.marker.startswith("skip"):
            continue
        if block.lang not in ("sh", "python"):
            continue
        where = f"README.md:{block.line}"
        if block.lang == "sh":
            cmd = ["bash", "-e", "-c", block.text]
        else:
            cmd = [sys.executable, "-c", block.text]
        r = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, env=_env(),
                           timeout=300)
        ran += 1
        follows = ALL[k + 1] if k + 1 < len(ALL) else None
        if block.marker == "fails with the text below":
            assert follows is not None and follows.lang == "text", where
            assert r.returncode == 1, f"{where}: exit {r.returncode}\n{r.stderr}"
            assert r.stderr == follows.text, where
            continue
        assert r.returncode == 0, f"{where}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        if block.lang == "python" and follows is not None and follows.lang == "text":
            assert r.stdout == follows.text, where
    assert ran >= 8


def test_markers_are_known_and_skips_say_why() -> None:
    for block in ALL:
        if block.marker is None:
            continue
        assert block.marker == "fails with the text below" or \
            re.fullmatch(r"skip \(.+\)", block.marker), f"README.md:{block.line}"


def test_make_demo_and_make_test_come_first() -> None:
    first = next(b for b in ALL if b.lang == "sh")
    assert first.text == "make demo\nmake test\n"
    assert README.read_text().index("make demo") < README.read_text().index("spvlink link")


def test_one_command_per_line() -> None:
    for block in ALL:
        if block.lang != "sh":
            continue
        heredoc = None
        for n, ln in enumerate(block.text.splitlines(), start=block.line + 1):
            if heredoc is not None:
                heredoc = None if ln == heredoc else heredoc
                continue
            m = re.search(r"<<'(\w+)'", ln)
            if m:
                heredoc = m.group(1)
            assert not re.search(r"\[-", ln), f"README.md:{n}: optional [--flag] in a command"
            assert ln.count("spvlink ") <= 1 and ";" not in ln and "&&" not in ln, \
                f"README.md:{n}: two commands on one line"


def test_links_stay_inside_the_repository() -> None:
    text = README.read_text()
    assert "../" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if "://" in target:
            continue
        assert (ROOT / target).exists(), target
    for named in re.findall(r"`((?:docs|bench|tools|examples)/[\w./-]+)`", text):
        assert (ROOT / named).exists(), named
