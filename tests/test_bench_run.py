"""Smoke test of bench/run.py on tiny workloads: it runs and reports every field (no timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
_BIN = Path(sys.prefix) / "lib/python3.11/site-packages/cmeel.prefix/bin"
_SPVLINK = Path(sys.executable).parent / "spvlink"

pytestmark = pytest.mark.skipif(
    not (_BIN / "spirv-link").is_file() or not _SPVLINK.is_file(),
    reason="needs the venv's spvlink and the cmeel SPIRV-Tools binaries",
)

_TOOL_FIELDS = {"times", "rss_kb", "median_s", "peak_rss_mb", "out_bytes", "valid", "ran"}


def test_run_tiny(tmp_path: Path) -> None:
    out_json = tmp_path / "r.json"
    r = subprocess.run(
        [
            sys.executable,
            str(_ROOT / "bench/run.py"),
            "--only",
            "chain5,wide3,wide3pe",
            "--repeat",
            "1",
            "--no-extras",
            "--work",
            str(tmp_path / "work"),
            "--json",
            str(out_json),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    header = r.stdout.splitlines()[0]
    for col in ("workload", "spvlink s", "spirv-link s", "ratio", "RSS", "out MB", "valid"):
        assert col in header
    data = json.loads(out_json.read_text())
    assert {"machine", "workloads", "growth", "help", "link_many"} <= data.keys()
    assert {"nproc", "cpu", "python", "spirv_tools", "date"} <= data["machine"].keys()
    rows = {w["name"]: w for w in data["workloads"]}
    assert set(rows) == {"chain5", "wide3", "wide3pe"}
    for row in rows.values():
        assert row["repeats"] == 1
        assert row["ratio"] > 0
        for tool in ("spvlink", "spirv_link"):
            res = row[tool]
            assert _TOOL_FIELDS <= res.keys()
            assert len(res["times"]) == 1
            assert res["valid"] is True
            assert res["out_bytes"] > 0
            assert res["peak_rss_mb"] > 0
    assert rows["wide3pe"]["spvlink"]["out_files"] == 8  # one module per entry point
    assert rows["chain5"]["spvlink"]["ran"] in ("ok", "-")
    assert rows["chain5"]["spirv_link"]["ran"] in ("ok", "-")
    assert (tmp_path / "work/chain5/workload.json").exists()


def test_run_end_to_end_rows(tmp_path: Path) -> None:
    """Issue 14's rows: spvlink's whole stage against spirv-link + spirv-opt (the passes the
    stage would give it) + spirv-val, each a process; outputs valid and the same bytes on
    every run."""
    out_json = tmp_path / "e.json"
    r = subprocess.run(
        [sys.executable, str(_ROOT / "bench/run.py"), "--only", "none",
         "--e2e", "chain5,chain5:O2,wide3pe", "--repeat", "2", "--no-extras",
         "--work", str(tmp_path / "work"), "--json", str(out_json)],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| end to end |" in r.stdout and "pipeline s (link + opt + val)" in r.stdout
    data = json.loads(out_json.read_text())
    assert data["workloads"] == []
    rows = {w["name"]: w for w in data["end_to_end"]}
    assert set(rows) == {"chain5:e2e", "chain5:e2e-O2", "wide3pe:e2e"}
    for row in rows.values():
        assert row["repeats"] == 2 and row["ratio"] > 0
        assert row["identical_across_runs"] is True
        assert row["spvlink"]["valid"] is True and row["pipeline"]["valid"] is True
        assert len(row["spvlink"]["times"]) == 2 and len(row["pipeline"]["times"]) == 2
        assert set(row["pipeline_steps"]) == {"spirv-link", "spirv-opt", "spirv-val"}
        # The pipeline's time is its three processes.
        assert row["pipeline"]["median_s"] >= max(row["pipeline_steps"].values())
    assert rows["chain5:e2e"]["pipeline_commands"][1].split()[1:3] == [
        "--eliminate-dead-const", "--strip-debug"]
    assert "-O" in rows["chain5:e2e-O2"]["pipeline_commands"][1].split()
    assert "-O 2" in rows["chain5:e2e-O2"]["spvlink_command"]
    assert rows["wide3pe:e2e"]["spvlink"]["out_files"] == 8


def test_validation_form_script() -> None:
    """bench/valform.py validates the module in each form (all the same module: none fails)
    and reports every form's time."""
    r = subprocess.run(
        [sys.executable, str(_ROOT / "bench/valform.py"),
         str(_ROOT / "tests/corpus/spv/vec_add.glslc-O0.spv"), "--env", "vulkan1.1",
         "--repeat", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    for form in ("as written", "functions reversed", "ids spread (x3)", "ids reversed",
                 "decorations by target", "decorations reversed"):
        assert f"| {form} |" in r.stdout


def test_start_up_floor(tmp_path: Path) -> None:
    """The start-up floor: each command run for real (the 2-module link writes a valid
    module), each time a median, and each chain target turned into seconds from
    spirv-link's median: 0.35 x 0.4 s = 0.14 s. The times are not compared with each
    other: that would assert wall-clock times, and the order is not a law (spvlink turns
    the garbage collector off before numpy's import and skips the interpreter's teardown,
    so under load its 2-module link has come in under a bare numpy import)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", _ROOT / "bench/run.py")
    assert spec is not None and spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = run  # dataclasses look their module up
    try:
        spec.loader.exec_module(run)
        run.__dict__["WORK"] = tmp_path / "work"  # where ensure_workload generates
        row = run.Row("chain200", "chain", 200, False, 201, 0, 1, run.ToolResult(),
                      run.ToolResult(median_s=0.4))
        floor = run.bench_floor([row], n=2)
    finally:
        del sys.modules["bench_run"]
    assert floor["runs"] == 2
    assert all(floor[k] > 0 for k in ("python_s", "python_import_numpy_s",
                                      "spvlink_link_2_modules_s"))
    target = floor["targets"]["chain200"]
    assert target["target_s"] == pytest.approx(0.14)
    assert target["floor_share"] == pytest.approx(floor["spvlink_link_2_modules_s"] / 0.14)
    linked = tmp_path / "work/chain1/out/floor.spv"
    assert subprocess.run([str(_BIN / "spirv-val"), "--target-env", "vulkan1.2", str(linked)],
                          capture_output=True).returncode == 0


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(_ROOT), *args], capture_output=True, text=True)


@pytest.mark.skipif(_git("rev-parse", "HEAD").returncode != 0, reason="needs a git checkout")
def test_baseline_rows(tmp_path: Path) -> None:
    """`--baseline REV` links every link-only row also with spvlink as REV has it (its src/
    exported with git archive into the work folder), alternating with the working tree's
    and spirv-link, and compares the outputs: against HEAD, with src/ as committed, they are
    the same bytes. A name that is no commit is one clean error."""
    out_json = tmp_path / "b.json"
    work = tmp_path / "work"
    r = subprocess.run(
        [sys.executable, str(_ROOT / "bench/run.py"), "--only", "chain5,wide3pe",
         "--repeat", "1", "--no-extras", "--run-kinds", "none", "--baseline", "HEAD",
         "--work", str(work), "--json", str(out_json)],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    head = _git("rev-parse", "HEAD").stdout.strip()
    assert f"| spvlink {head[:12]} s | ratio |" in r.stdout
    data = json.loads(out_json.read_text())
    assert data["machine"]["baseline"] == {"rev": "HEAD", "commit": head}
    assert (work / f"baseline-{head[:12]}/src/spvlink/__init__.py").is_file()
    committed = _git("diff", "--quiet", "HEAD", "--", "src").returncode == 0
    for row in data["workloads"]:
        base = row["baseline"]
        assert len(base["times"]) == 1 and base["valid"] is True and base["out_bytes"] > 0
        assert row["baseline_ratio"] == pytest.approx(
            row["spvlink"]["median_s"] / base["median_s"])
        if committed:
            assert row["baseline_same_output"] is True
    rows = {w["name"]: w for w in data["workloads"]}
    assert rows["wide3pe"]["baseline"]["out_files"] == 8  # one module per entry point
    bad = subprocess.run(
        [sys.executable, str(_ROOT / "bench/run.py"), "--only", "chain5", "--no-extras",
         "--baseline", "no-such-rev-here", "--work", str(work)],
        capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 1
    assert "error: --baseline no-such-rev-here: not a commit of this repository" in bad.stderr


def test_ab_the_code_against_a_commit(tmp_path: Path) -> None:
    """`bench/ab.py REV WORKLOAD...`: the working tree's spvlink and REV's, alternating
    alone, one row per workload with both medians and whether the outputs are the same
    bytes (against HEAD, with src/ as committed, they are). A name that is no commit is
    one clean error."""
    work = tmp_path / "work"
    r = subprocess.run(
        [sys.executable, str(_ROOT / "bench/ab.py"), "HEAD", "chain5", "wide3pe",
         "--runs", "2", "--work", str(work)],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    head = _git("rev-parse", "HEAD").stdout.strip()
    assert f"| wall {head[:12]} -> now | ratio |" in r.stdout
    rows = {line.split("|")[1].strip(): line.split("|") for line in r.stdout.splitlines()
            if line.startswith("| chain5 ") or line.startswith("| wide3pe ")}
    assert set(rows) == {"chain5", "wide3pe"}
    assert all(cells[2].strip() == "2" for cells in rows.values())
    if _git("diff", "--quiet", "HEAD", "--", "src").returncode == 0:
        assert all(cells[7].strip() == "yes" for cells in rows.values())
    assert (work / "chain5" / "out" / "ab-now.spv").is_file()
    bad = subprocess.run(
        [sys.executable, str(_ROOT / "bench/ab.py"), "no-such-rev-here", "chain5",
         "--work", str(work)],
        capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: REV no-such-rev-here: not a commit of this repository"
