"""Writing output files safely: whole or not at all, and only where a file belongs.

- A file is written to a temporary file beside it and renamed into place, so a reader
  never sees half of it. An existing symlink is followed: its target is replaced, the
  link stays. A directory, FIFO, device or socket is never replaced (renaming over
  `/dev/null` as root would replace the system's null device): that is an error.
- A set of files (per-entry-point output) is written to a temporary directory and
  swapped in as a whole, so a run killed midway leaves the old set or the new one.
- Temporary files and directories are removed on every exit path Python sees
  (exceptions, `KeyboardInterrupt`, `SystemExit`, and at interpreter exit).
- An output that is also an input, or two outputs with one path, are refused before
  any work, and a name too long for the file system is a clean error.

Depends only on `errors`, like `archive`, so it can be used and tested alone.
"""

from __future__ import annotations

import atexit
import errno
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import InputError

# Temporary files and directories alive now, removed at exit if still there.
_live: set[str] = set()
# Keep temporary names well inside NAME_MAX (255) whatever the output's name.
_STEM_CHARS = 40


def _cleanup() -> None:
    for p in sorted(_live):
        _remove(p)
    _live.clear()


atexit.register(_cleanup)


def _remove(p: str) -> None:
    try:
        if os.path.isdir(p) and not os.path.islink(p):
            import shutil  # here: it imports bz2 and lzma, 2.5 ms of every start

            shutil.rmtree(p, ignore_errors=True)
        else:
            os.unlink(p)
    except OSError:
        pass


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return exc.strerror or str(exc)


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def destination(path: str | Path) -> Path:
    """Where writing `path` puts the bytes: the target of a symlink (followed to the
    end), else `path`. Raises `InputError` if that is an existing non-regular file."""
    path = Path(path)
    try:
        target = Path(os.path.realpath(path)) if os.path.islink(path) else path
        st = os.stat(target)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise InputError(f"cannot write {path}: {_reason(exc)}") from None
        return target  # missing, or a parent that is not a folder: the writer says so
    kind = _kind(st.st_mode)
    if kind is not None:
        shown = path if target == path else f"{path} (a link to {target})"
        raise InputError(f"cannot write {shown}: it is {kind}; spvlink replaces only "
                         "regular files")
    return target


def _temporary_name(parent: Path, name: str, n: int, suffix: str) -> str:
    return str(parent / f".{name[:_STEM_CHARS]}.{os.getpid()}.{n}.{suffix}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write `data` to `path` through a temporary file beside it renamed into place.
    A symlink's target is written; a directory, FIFO or device is refused. Returns
    `path`."""
    path = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    target = destination(path)
    parent = target.parent if str(target.parent) else Path(".")
    tmp = ""
    try:
        for n in range(1000):
            tmp = _temporary_name(parent, target.name, n, "tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                continue
        else:
            raise InputError(f"cannot write {path}: no free temporary name in {parent}")
        _live.add(tmp)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, 0o666 & ~_umask())
        destination(path)  # still a regular file (or nothing) just before the rename
        os.replace(tmp, target)
        _live.discard(tmp)
    except FileNotFoundError:
        raise InputError(f"cannot write {path}: directory {parent} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot write {path}: {_reason(exc)}") from None
    finally:
        if tmp in _live:
            _live.discard(tmp)
            _remove(tmp)
    return path


def write_tree_atomic(directory: str | Path, files: Mapping[str, bytes | str]) -> dict[str, Path]:
    """Make `directory` hold exactly `files` (name -> data), swapped in as a whole: the
    files go to a new temporary directory beside it, which then takes its place (the old
    directory is renamed aside first and removed after). Returns name -> path."""
    directory = Path(directory)
    target = Path(os.path.realpath(directory)) if os.path.islink(directory) else directory
    if target.exists() and not target.is_dir():
        raise InputError(f"cannot write {directory}: it exists and is not a directory")
    parent = target.parent if str(target.parent) else Path(".")
    for name in files:
        if not name or "/" in name or "\0" in name or name in (".", ".."):
            raise InputError(f"cannot write {name!r} into {directory}: not a plain file name")
    tmp = old = ""
    try:
        for n in range(1000):
            tmp = _temporary_name(parent, target.name, n, "tmpdir")
            try:
                os.mkdir(tmp)
                break
            except FileExistsError:
                continue
        else:
            raise InputError(f"cannot write {directory}: no free temporary name in {parent}")
        _live.add(tmp)
        for name, data in files.items():
            raw = data.encode() if isinstance(data, str) else data
            with open(os.path.join(tmp, name), "xb") as f:
                f.write(raw)
        if target.is_dir():
            old = _temporary_name(parent, target.name, 0, "old")
            _live.add(old)
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except OSError:
                os.rename(old, target)
                raise
        else:
            os.rename(tmp, target)
        _live.discard(tmp)
    except FileNotFoundError:
        raise InputError(f"cannot write {directory}: directory {parent} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot write {directory}: {_reason(exc)}") from None
    finally:
        for p in (tmp, old):
            if p and p in _live:
                _live.discard(p)
                _remove(p)
    return {name: directory / name for name in files}


def _identity(path: Path, dirs: dict[str, str] | None = None
              ) -> tuple[str, tuple[int, int] | None]:
    """A path's resolved spelling and, if it exists, its (device, inode). With `dirs` (a
    cache of resolved folders), a path that is not itself a link is resolved through its
    folder's cached spelling: thousands of inputs in a few folders cost a stat each, not
    a walk of every component."""
    try:
        # No lexical `..` folding (abspath's): a folder through a link resolves as the
        # system would, by realpath of the folder.
        folder, name = os.path.split(os.path.join(os.getcwd(), os.fspath(path)))
        if dirs is not None and name not in ("", ".", "..") and not os.path.islink(path):
            if folder not in dirs:
                dirs[folder] = os.path.realpath(folder)
            real = os.path.join(dirs[folder], name)
        else:
            real = os.path.realpath(path)
    except OSError as exc:
        raise InputError(f"cannot use {path}: {_reason(exc)}") from None
    try:
        st = os.stat(real)
    except OSError:
        return real, None
    return real, (st.st_dev, st.st_ino)


def check_outputs(inputs: Iterable[str | Path], outputs: Iterable[tuple[str, str | Path]],
                  *, trees: Iterable[tuple[str, str | Path]] = ()) -> None:
    """Refuse an output that is also an input, two outputs with one path, or a tree
    output (a directory swapped in as a whole) holding an input or another output.
    `outputs` and `trees` are (what, path) pairs; `what` names the option in messages."""
    seen: dict[str, str] = {}
    seen_ino: dict[tuple[int, int], str] = {}
    dirs: dict[str, str] = {}
    tree_list = [(what, Path(p), _identity(Path(p))[0]) for what, p in trees]
    files = list(outputs)
    # An input (it exists) is an output file only if that file exists and is the same
    # (device, inode): one stat per input, none when no output exists yet. Only a tree,
    # which may hold inputs, needs the inputs' resolved spellings.
    by_inode_only = not tree_list
    if by_inode_only and not any(os.path.lexists(p) for _, p in files):
        inputs = ()
    for src in inputs:
        if str(src) == "-":
            continue
        if by_inode_only:
            try:
                st = os.stat(src)
            except OSError:
                continue  # reading it will say what is wrong
            seen_ino[(st.st_dev, st.st_ino)] = f"input {src}"
            continue
        real, ino = _identity(Path(src), dirs)
        seen[real] = f"input {src}"
        if ino is not None:
            seen_ino[ino] = f"input {src}"
    for _, p in files:
        destination(p)  # a FIFO or device fails here, before any work
    for what, p in [*files, *((w, p) for w, p, _ in tree_list)]:
        real, ino = _identity(Path(p))
        other = seen.get(real) or (seen_ino.get(ino) if ino is not None else None)
        if other is not None:
            raise InputError(f"{what} {p} is also {other}; refusing to overwrite it")
        seen[real] = f"{what} {p}"
        if ino is not None:
            seen_ino[ino] = f"{what} {p}"
    for what, p, real_dir in tree_list:
        inside = real_dir.rstrip("/") + "/"
        for real, owner in seen.items():
            if real.startswith(inside) and not owner.startswith(what):
                raise InputError(f"{what} {p} is replaced as a whole, but it holds {owner}")


__all__ = ["check_outputs", "destination", "write_atomic", "write_tree_atomic"]
