"""Safe outputs (issue 11): atomic writes that follow symlinks and never replace a device,
FIFO or directory; per-entry-point output swapped in as a whole; outputs that clash with
inputs or each other refused; over-long names; archive extraction only under -C;
link-many's time limit, retry of a dead worker's program and memory bound.

Device nodes are made with mknod in a temporary folder (as root, as CI runs), never the
system's own."""

from __future__ import annotations

import gzip
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import ROOT, spirv_as
from spvlink import cli, manifest
from spvlink.archive import MAGIC, extraction_name
from spvlink.errors import ArchiveError, InputError
from spvlink.outputs import write_atomic, write_tree_atomic
from spvlink.stage import StageOptions, run_stage

SPV = ROOT / "tests" / "corpus" / "spv"
EXPORTS = SPV / "linkage_exports.spv"
IMPORTS = SPV / "linkage_imports.spv"
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------------------
# write_atomic


def test_symlink_target_is_written_and_link_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.spv"
    real.write_bytes(b"old")
    link = tmp_path / "link.spv"
    link.symlink_to("real.spv")
    write_atomic(link, b"new")
    assert link.is_symlink() and os.readlink(link) == "real.spv"
    assert real.read_bytes() == b"new"
    dangling = tmp_path / "dangling.spv"
    dangling.symlink_to("made.spv")
    write_atomic(dangling, b"x")
    assert dangling.is_symlink() and (tmp_path / "made.spv").read_bytes() == b"x"
    assert leftovers(tmp_path) == []


def test_fifo_is_refused_not_replaced_nor_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "out.spv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="it is a FIFO"):
        write_atomic(fifo, b"data")  # opening it would block: no reader
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    link = tmp_path / "to-fifo.spv"
    link.symlink_to(fifo)
    with pytest.raises(InputError, match=r"a link to .*out\.spv.*FIFO"):
        write_atomic(link, b"data")
    assert leftovers(tmp_path) == []


@ROOT_ONLY
def test_device_node_is_refused_not_replaced(tmp_path: Path) -> None:
    """As root, renaming over a device node replaces it; the null device's numbers are
    used on a node in a temporary folder, never on /dev/null."""
    dev = tmp_path / "null-like"
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    with pytest.raises(InputError, match="it is a character device"):
        write_atomic(dev, b"data")
    st = dev.lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    with pytest.raises(InputError, match="character device"):
        run_stage([EXPORTS, IMPORTS], StageOptions(output=dev, validate=False))
    assert stat.S_ISCHR(dev.lstat().st_mode)


def test_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(InputError, match="it is a directory"):
        write_atomic(tmp_path / "d", b"x")
    assert (tmp_path / "d").is_dir()


def test_name_too_long_is_a_clean_error(tmp_path: Path) -> None:
    long = tmp_path / ("x" * 300 + ".spv")
    with pytest.raises(InputError, match="file name too long"):
        write_atomic(long, b"x")
    with pytest.raises(InputError, match="file name too long"):
        run_stage([EXPORTS, IMPORTS], StageOptions(output=long, validate=False))
    # The temporary name is short even when the output's name is near the limit.
    near = tmp_path / ("y" * 250)
    write_atomic(near, b"ok")
    assert near.read_bytes() == b"ok" and leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------
# Trees (per-entry-point output)


def test_tree_is_swapped_in_whole(tmp_path: Path) -> None:
    d = tmp_path / "out.spvs"
    d.mkdir()
    (d / "stale.spv").write_bytes(b"old run")
    paths = write_tree_atomic(d, {"a.spv": b"A", "b.spv": b"B"})
    assert sorted(p.name for p in d.iterdir()) == ["a.spv", "b.spv"]
    assert paths == {"a.spv": d / "a.spv", "b.spv": d / "b.spv"}
    assert leftovers(tmp_path) == []


def test_tree_failing_midway_leaves_the_old_tree_and_no_temporaries(tmp_path: Path) -> None:
    d = tmp_path / "out.spvs"
    d.mkdir()
    (d / "old.spv").write_bytes(b"old")
    with pytest.raises(TypeError):
        write_tree_atomic(d, {"a.spv": b"A", "b.spv": 12345})  # type: ignore[dict-item]
    assert [p.name for p in d.iterdir()] == ["old.spv"]
    assert leftovers(tmp_path) == []
    with pytest.raises(InputError, match="not a plain file name"):
        write_tree_atomic(d, {"../escape.spv": b"x"})
    assert not (tmp_path / "escape.spv").exists()


@pytest.fixture()
def multi(tmp_path: Path) -> Path:
    p = tmp_path / "multi.spv"
    p.write_bytes(spirv_as((ROOT / "examples" / "asm" / "multi_entry.spvasm").read_text(),
                           "spv1.5"))
    return p


def test_per_entry_point_output_replaces_the_old_set_and_writes_json_last(
        tmp_path: Path, multi: Path) -> None:
    out = tmp_path / "s.spv"
    spvs = tmp_path / "s.spvs"
    spvs.mkdir()
    (spvs / "gone.spv").write_bytes(b"from an earlier run")
    res = run_stage([multi], StageOptions(output=out, module_output="per-entry-point"))
    assert sorted(p.name for p in spvs.iterdir()) == [f"{e}.spv" for e in res.entry_points]
    assert res.json_path is not None
    json_time = res.json_path.stat().st_mtime_ns
    assert all(p.stat().st_mtime_ns <= json_time for p in spvs.iterdir())
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------
# Clashing paths


def test_output_equal_to_json_or_input_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.spv"
    with pytest.raises(InputError, match=r"--json .*out\.spv is also -o"):
        run_stage([EXPORTS, IMPORTS], StageOptions(output=out, json=out, validate=False))
    assert not out.exists()
    a = tmp_path / "a.spv"
    a.write_bytes(EXPORTS.read_bytes())
    with pytest.raises(InputError, match=r"is also input"):
        run_stage([a, IMPORTS], StageOptions(output=a, validate=False))
    assert a.read_bytes() == EXPORTS.read_bytes()
    alias = tmp_path / "alias.spv"
    alias.symlink_to(a)
    with pytest.raises(InputError, match=r"is also input"):
        run_stage([a, IMPORTS], StageOptions(output=alias, validate=False))


def test_input_inside_the_per_entry_point_folder_is_refused(tmp_path: Path,
                                                             multi: Path) -> None:
    spvs = tmp_path / "s.spvs"
    spvs.mkdir()
    inside = spvs / "multi.spv"
    inside.write_bytes(multi.read_bytes())
    with pytest.raises(InputError, match="replaced as a whole"):
        run_stage([inside], StageOptions(output=tmp_path / "s.spv",
                                         module_output="per-entry-point"))
    assert inside.read_bytes() == multi.read_bytes()


# ---------------------------------------------------------------------------------------
# Archive extraction


def _member(name: bytes, body: bytes) -> bytes:
    head = (name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6)
            + b"644".ljust(8) + str(len(body)).encode().ljust(10) + b"`\n")
    return head + body + (b"\n" if len(body) % 2 else b"")


ARCHIVE_KINDS = ("dot-dot", "absolute", "gnu-long-name", "bsd-name", "nul", "ok-then-bad")


def _archive(kind: str, base: Path) -> bytes:
    body = EXPORTS.read_bytes()
    if kind == "dot-dot":
        return MAGIC + _member(b"../escaped.spv/", body)
    if kind == "absolute":  # a long name can spell an absolute path
        return MAGIC + _member(b"//", f"{base}/abs.spv/\n".encode()) + _member(b"/0", body)
    if kind == "gnu-long-name":
        return MAGIC + _member(b"//", b"../../escaped-long.spv/\n") + _member(b"/0", body)
    if kind == "bsd-name":
        return MAGIC + _member(b"#1/20", b"../bsd-escaped.spv\0\0" + body)
    if kind == "nul":
        return MAGIC + _member(b"#1/8", b"a\0b.spv\0" + body)
    assert kind == "ok-then-bad"  # nothing is written, not even the good member
    return (MAGIC + _member(b"fine.spv/", body)
            + _member(b"#1/12", b"../x.spv\0\0\0\0" + body))


@pytest.mark.parametrize("kind", ARCHIVE_KINDS)
def test_extract_refuses_names_outside_the_folder(tmp_path: Path, kind: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """binutils' ar (PR 17533) keeps extraction in the current directory tree; spvlink
    refuses such a member with an error and writes nothing at all."""
    lib = tmp_path / "lib.rlib"
    lib.write_bytes(_archive(kind, tmp_path))
    out = tmp_path / "a" / "b"
    out.mkdir(parents=True)
    code = cli.main(["archive", "--extract", str(lib), "-C", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and "refusing to extract" in err
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["lib.rlib"]


def test_extraction_name_rules() -> None:
    assert extraction_name("lib.spv") == "lib.spv"
    assert extraction_name("..lib.spv") == "..lib.spv"
    for bad in ("", ".", "..", "../x", "/x", "a/b", "a\0b"):
        with pytest.raises(ArchiveError):
            extraction_name(bad)


def test_extract_over_long_directory_is_a_clean_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = tmp_path / "lib.rlib"
    lib.write_bytes(MAGIC + _member(b"m.spv/", EXPORTS.read_bytes()))
    code = cli.main(["archive", "--extract", str(lib), "-C", str(tmp_path / ("d" * 300))])
    assert code == 1 and capsys.readouterr().err.startswith("error: ")


# ---------------------------------------------------------------------------------------
# link-many


def _programs(tmp_path: Path, stuck_input: Path) -> list[manifest.Program]:
    return [manifest.Program("stuck", [str(stuck_input), str(IMPORTS)],
                             str(tmp_path / "stuck.spv")),
            manifest.Program("fine", [str(EXPORTS), str(IMPORTS)], str(tmp_path / "fine.spv"))]


def test_link_many_stops_a_program_past_its_time_limit(tmp_path: Path) -> None:
    """A program that never ends (its input is a FIFO nobody writes) fails alone after
    the time limit; the other program links."""
    fifo = tmp_path / "never.spv"
    os.mkfifo(fifo)
    summary = manifest.run_programs(_programs(tmp_path, fifo), jobs=2, time_limit=3)
    by = {o.name: o for o in summary.outcomes}
    assert by["fine"].ok and (tmp_path / "fine.spv").exists()
    assert not by["stuck"].ok and "time limit of 3 s" in by["stuck"].message


def test_link_many_retries_a_dead_workers_program_once(tmp_path: Path) -> None:
    """The worker linking "stuck" is killed while it waits on its input; the program is
    linked again in a fresh worker, which gets the bytes and succeeds. The FIFO's writer
    is a separate process, so that no forked worker holds a write end."""
    fifo = tmp_path / "slow.spv"
    os.mkfifo(fifo)
    data = EXPORTS.read_bytes()
    # It reads a known count of bytes: forked workers hold its stdin's write end too.
    writer = subprocess.Popen(
        [sys.executable, "-c", "import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
         "data = sys.stdin.buffer.read(int(sys.argv[2])); os.write(fd, data); os.close(fd)",
         str(fifo), str(len(data))], stdin=subprocess.PIPE)
    result: list[manifest.Summary] = []
    t = threading.Thread(target=lambda: result.append(manifest.run_programs(
        _programs(tmp_path, fifo), jobs=1, time_limit=120)))
    t.start()
    try:
        first = _reader_of(fifo, exclude={writer.pid})
        os.kill(first, signal.SIGKILL)
        second = _reader_of(fifo, exclude={writer.pid, first})
        assert second != first
        assert writer.stdin is not None
        writer.stdin.write(data)
        writer.stdin.flush()
        writer.wait(timeout=60)
    finally:
        writer.kill()
    t.join(timeout=120)
    by = {o.name: o for o in result[0].outcomes}
    assert by["stuck"].ok, by["stuck"].message
    assert by["fine"].ok


def _reader_of(fifo: Path, exclude: set[int], wait: float = 60) -> int:
    """The pid of a child of this process that has `fifo` open (from /proc)."""
    deadline = time.monotonic() + wait
    me = os.getpid()
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{me}/task").iterdir():
            for pid in (task / "children").read_text().split():
                if int(pid) in exclude:
                    continue
                try:
                    fds = list(Path(f"/proc/{pid}/fd").iterdir())
                    if any(os.readlink(fd) == str(fifo) for fd in fds):
                        return int(pid)
                except OSError:
                    continue
        time.sleep(0.05)
    raise AssertionError(f"no worker opened {fifo}")


def test_link_many_memory_bound_fails_the_program_cleanly(tmp_path: Path) -> None:
    """Past its memory bound a worker's program fails with a message naming the limit.
    The input is an 800 KB module (linkage_exports.spv with 40,000 more types and names,
    a regression input of the fuzzing harness): its arrays need new mappings, which 1 MB
    more than the worker starts with cannot hold."""
    big = tmp_path / "big.spv"
    big.write_bytes(gzip.decompress(
        (ROOT / "tests/regressions/fuzz/class-friendly-names-shared.spv.gz").read_bytes()))
    program = manifest.Program("big", [str(big), str(IMPORTS)], str(tmp_path / "big-out.spv"))
    # In a fresh interpreter: a worker forked from this long-lived test process could find
    # enough freed memory in its inherited heap to need no new address space at all.
    code = ("import sys; from spvlink import manifest; "
            "p = manifest.Program('big', sys.argv[1:3], sys.argv[3]); "
            "[o] = manifest.run_programs([p], jobs=1, memory_limit=1 << 20).outcomes; "
            "print(o.ok, o.message)")
    r = subprocess.run([sys.executable, "-c", code, *program.inputs, program.output],
                       capture_output=True, text=True, timeout=300)
    assert r.stdout.strip() == ("False ran out of memory (the limit per worker is 1 MB; "
                                "--memory-limit)"), r.stderr
    assert not (tmp_path / "big-out.spv").exists()
    # The same program links with the default bound.
    assert manifest.run_programs([program], jobs=1).outcomes[0].ok
