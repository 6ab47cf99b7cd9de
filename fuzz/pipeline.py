"""One input through spvlink, with the oracles of issue 11.

The pipeline: (assemble, for text) -> read -> the exact walk -> disassemble and assemble
back -> link alone -> link with a partner from the corpus -> for each linked module:
write -> read back -> spirv-dis. The oracles:
- only `SpvError` subclasses escape spvlink ("error" is a clean outcome, anything else is
  a "crash");
- spvlink's own outputs are readable by spvlink and by spirv-dis, modules it assembles
  are readable by it, its disassembly is accepted by its assembler, and `--raw-id`
  disassembly assembled with the header kept gives the same bytes ("disagree");
- the fast reader and the exact walk agree, on the module or on the failure ("disagree").
Memory and time are the worker's business (`fuzz.worker`).
"""

from __future__ import annotations

import os
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spvlink.errors import SpvError

SOURCE = "fuzz-input.spv"
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "spv"


class Disagreement(Exception):
    """spvlink disagrees with itself or with spirv-dis; `kind` names the oracle."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass
class Report:
    """What happened to one input."""

    outcome: str = "ok"  # ok | error | crash | disagree | memory | hang
    signature: str = ""  # stage and exception type (and place) for anything not ok/error
    detail: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    successes: list[str] = field(default_factory=list)  # stages that ran cleanly


_partners: dict[str, Any] = {}


def partner_module(name: str) -> Any:
    """A corpus module, read once per process."""
    from spvlink.binary import read

    if name not in _partners:
        _partners[name] = read((CORPUS / name).read_bytes(), source=name)
    return _partners[name]


def _spirv_dis() -> str:
    from spvlink.tools import tool_path

    return str(tool_path("spirv-dis"))


def _where(exc: BaseException) -> str:
    """The innermost spvlink frame of a traceback, as file:function."""
    frames = traceback.extract_tb(exc.__traceback__)
    inner = [f for f in frames if "/spvlink/" in f.filename] or frames
    if not inner:
        return "?"
    f = inner[-1]
    return f"{Path(f.filename).name}:{f.name}"


def run_case(data: bytes, config: dict[str, Any], report: Report,
             deadline_check: Any = None) -> None:
    """Run the pipeline, filling `report`. Raises only what the worker must see itself
    (MemoryError, its timeout exception, KeyboardInterrupt)."""
    stage = "start"
    try:
        for stage, step in _steps(data, config, report):
            t0 = time.perf_counter()
            try:
                step()
            finally:
                report.stage_seconds[stage] = (report.stage_seconds.get(stage, 0.0)
                                               + time.perf_counter() - t0)
    except _Stop:
        pass
    except Disagreement as exc:
        report.outcome, report.signature, report.detail = "disagree", f"{stage}:{exc.kind}", str(exc)
    except CliCrash as exc:
        report.outcome, report.signature, report.detail = "crash", f"cli:{exc.kind}", str(exc)
    except SpvError as exc:
        report.outcome, report.detail = "error", f"{stage}: {type(exc).__name__}: {exc}"[:500]
    except (MemoryError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if type(exc).__name__ == "Timeout":  # the worker's own
            raise
        report.outcome = "crash"
        report.signature = f"{stage}:{type(exc).__name__}@{_where(exc)}"
        report.detail = "".join(traceback.format_exception(exc))[-3000:]


class CliCrash(Exception):
    """The command exited with a status other than 0 and 1, or printed a traceback."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class _Stop(Exception):
    """The input was rejected cleanly where that ends the pipeline."""


def _steps(data: bytes, config: dict[str, Any], report: Report) -> Any:
    """(stage name, thunk) pairs, generated lazily: each may depend on the last."""
    from spvlink.binary import read, write
    from spvlink.binary.reader import _read_exactly
    from spvlink.link import LinkOptions, link
    from spvlink.text import assemble, disassemble

    state: dict[str, Any] = {"data": data}

    if config.get("cli"):
        yield "cli", lambda: run_cli(data, config)

    if config.get("kind") == "asm":
        def do_assemble() -> None:
            text = data.decode("utf-8", "replace")
            m = assemble(text, keep_header=bool(config.get("keep_header")))
            out = write(m)
            try:
                read(out, source=SOURCE)
            except SpvError as exc:
                raise Disagreement("assembled-unreadable", str(exc)[:300]) from None
            state["data"] = out
        yield "assemble", do_assemble

    def do_read() -> None:
        fast: Any = None
        fast_error: SpvError | None = None
        try:
            fast = read(state["data"], source=SOURCE)
        except SpvError as exc:
            fast_error = exc
        try:
            exact = _read_exactly([state["data"]], [SOURCE])[0]
        except SpvError as exc:
            if fast_error is None:
                raise Disagreement("reader-vs-walk", f"the exact walk rejects: {exc}") from None
            raise
        if fast_error is not None:
            raise Disagreement("reader-vs-walk", f"only the fast reader rejects: {fast_error}")
        if not _same(fast, exact):
            raise Disagreement("reader-vs-walk", "the two decodings differ")
        state["m"] = fast
    yield "read", do_read
    report.successes.append("read")

    def do_text() -> None:
        m = state["m"]
        raw = disassemble(m, raw_id=True)
        try:
            back = assemble(raw, keep_header=True)
        except SpvError as exc:
            raise Disagreement("raw-dis-rejected", str(exc)[:300]) from None
        if write(back) != write(m):
            raise Disagreement("dis-as-changed", "assemble(disassemble(m, raw_id)) != m")
        try:
            assemble(disassemble(m))
        except SpvError as exc:
            raise Disagreement("friendly-dis-rejected", str(exc)[:300]) from None
    yield "dis-as", do_text

    options = LinkOptions(allow_partial_linkage=True,
                          create_library=bool(config.get("create_library")),
                          module_output="per-entry-point" if config.get("per_entry")
                          else "single")
    links: list[tuple[str, list[Any]]] = [("link-alone", [state["m"]])]
    if config.get("partner"):
        p = partner_module(config["partner"])
        links.append(("link-partner",
                      [p, state["m"]] if config.get("partner_first") else [state["m"], p]))
    for stage, mods in links:
        outputs: list[Any] = []

        def do_link(mods: list[Any] = mods, outputs: list[Any] = outputs,
                    stage: str = stage) -> None:
            try:
                r = link(mods, options)
            except SpvError:
                return  # a clean refusal; the other link may still go through
            outputs.extend([r.module] if r.module is not None else list(r.modules.values()))
            report.successes.append(stage)
        yield stage, do_link

        def do_outputs(outputs: list[Any] = outputs) -> None:
            for out in outputs:
                check_output(write(out))
        yield stage + "-output", do_outputs


def run_cli(data: bytes, config: dict[str, Any]) -> None:
    """The same input through the command line (`link`, `dis`, `info`): each exits 0 or
    1, and a failure is one `error:` line, never a traceback (exit 101)."""
    import sys
    import tempfile

    from .worker import Timeout, time_limit

    with tempfile.TemporaryDirectory(prefix="spvlink-fuzz-") as d:
        name = "in.spvasm" if config.get("kind") == "asm" else "in.spv"
        Path(d, name).write_bytes(data)
        partner = [str(CORPUS / config["partner"])] if config.get("partner") else []
        commands = [["link", name, *partner, "-o", "out.spv", "--allow-partial-linkage"],
                    ["dis", name], ["info", name]]
        for args in commands:
            try:
                r = subprocess.run([sys.executable, "-m", "spvlink", *args], cwd=d,
                                   capture_output=True, timeout=time_limit(len(data)),
                                   env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
                                   preexec_fn=lambda: _cli_memory(len(data)))
            except subprocess.TimeoutExpired:
                raise Timeout() from None
            err = r.stderr.decode("utf-8", "replace")
            if r.returncode not in (0, 1) or "Traceback" in err:
                raise CliCrash(f"{args[0]}-exit-{r.returncode}", err[-1500:])
            if r.returncode == 1 and not err.startswith("error: "):
                raise CliCrash(f"{args[0]}-no-error-line", err[-1500:])


def _cli_memory(size: int) -> None:
    """In the command's process, before exec: its own address-space limit, a fresh
    interpreter's allowance plus the worker's per-byte allowance (not the worker's limit,
    which counts the worker's own size)."""
    import resource

    from .worker import MEMORY_BASE, MEMORY_PER_BYTE

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (CLI_BASE + MEMORY_BASE + MEMORY_PER_BYTE * size,
                                            hard))


# What a fresh `python -m spvlink` maps before reading its input (numpy, the grammar).
CLI_BASE = 4 << 30


def check_output(b: bytes) -> None:
    """spvlink's output must be readable by spvlink and by spirv-dis."""
    from spvlink.binary import read

    try:
        read(b, source="linked.spv")
    except SpvError as exc:
        raise Disagreement("output-unreadable", str(exc)[:300]) from None
    r = subprocess.run([_spirv_dis(), "-o", os.devnull, "-"], input=b, capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise Disagreement("output-spirv-dis", r.stderr.decode(errors="replace")[:300])


def _same(a: Any, b: Any) -> bool:
    import numpy as np

    return (a.header_words() == b.header_words()
            and all(np.array_equal(getattr(a, k), getattr(b, k))
                    for k in ("words", "starts", "sizes", "opcodes", "sections", "id_pos",
                              "id_inst")))
