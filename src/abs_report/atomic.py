"""Atomic file and folder replacement, a lock per report folder, and leftovers recovery.

One rule for every file the project writes for others to read (a report folder, a
cached mask, a parameter file, a summary, the catalogue): readers see the old
content or the new one, never a part, and a process killed at any instruction
(``kill -9``) leaves the old content in place.

- Files are written to a hidden temporary name beside the target, flushed, then
  renamed over it (:func:`write_file`).
- A report folder is built whole in a hidden *scratch* folder beside its target
  (:func:`scratch_folder`) and swapped with the target in one system call
  (:func:`publish_folder`): ``renameat2(RENAME_EXCHANGE)`` on Linux, a plain
  rename when there is no target yet. The old report, now in the scratch
  folder, is removed afterwards. Elsewhere (no ``renameat2``) the old folder
  is moved aside first and moved back by :func:`recover` if a kill intervened.
- Publications of one report folder are serialised by ``fcntl.flock`` on
  ``.<name>.lock`` beside it, so two overlapping renders both succeed.
- Every scratch folder's name carries its creator's pid and host
  (``.<name>.<kind>.<pid>.<random>@<host>``); :func:`recover` removes those of
  processes that are gone (same host only: another host's pid means nothing here).

Modes are the ordinary ones under the process umask (0755 folders and 0644 files
under umask 022): ``mkstemp``/``mkdtemp``'s 0600/0700 never reach an output.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import socket
from pathlib import Path
from typing import Callable

RENAME_EXCHANGE = 2
"""``linux/fs.h``: swap two paths atomically (both must exist)."""

_MARKER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>scratch|old|tmp)\.(?P<pid>\d+)\.[0-9a-f]+@(?P<host>.+)$")


def umask() -> int:
    """The process umask (read without changing it for good)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    # '/' and '@' cannot appear in a folder name part we parse back.
    return socket.gethostname().replace("/", "_").replace("@", "_") or "localhost"


def _hidden_name(target: Path, kind: str) -> str:
    return f".{target.name}.{kind}.{os.getpid()}.{secrets.token_hex(4)}@{_host()}"


def write_file(path: Path | str, write: Callable[[Path], object] | bytes | str) -> Path:
    """Write ``path`` atomically: a temporary file beside it, fsynced, renamed over it.

    Parameters
    ----------
    path
        The file to (re)place.
    write
        Bytes, text (UTF-8), or a callable given the temporary path to write to.
    """
    path = Path(path)
    tmp = path.with_name(_hidden_name(path, "tmp"))
    try:
        if callable(write):
            write(tmp)
        else:
            data = write.encode("utf-8") if isinstance(write, str) else write
            with open(tmp, "xb") as stream:
                stream.write(data)
        os.chmod(tmp, 0o666 & ~umask())
        with open(tmp, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def scratch_folder(target: Path | str) -> Path:
    """A new, empty, hidden folder beside ``target`` (same file system), mode 0755 under umask 022."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = target.parent / _hidden_name(target, "scratch")
    folder.mkdir(mode=0o777)  # the umask applies: 0755 under 022, never mkdtemp's 0700
    return folder


def lock_path(target: Path | str) -> Path:
    """``outputs/<code>/.<year>.lock``: the lock file of a report folder."""
    target = Path(target)
    return target.parent / f".{target.name}.lock"


@contextlib.contextmanager
def folder_lock(target: Path | str):
    """Hold the exclusive lock of ``target`` (blocks while another process publishes it).

    ``flock`` locks die with their process: a killed publisher never leaves one held.
    """
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): publications are not serialised
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _libc_renameat2():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_RENAMEAT2 = _libc_renameat2()
AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` in one step; False when the system cannot (then nothing changed)."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def remove_old(folder: Path) -> None:
    """Delete a replaced report (now in a hidden scratch folder)."""
    shutil.rmtree(folder, ignore_errors=True)


def _swap(scratch: Path, target: Path) -> None:
    """Put ``scratch`` at ``target``; the old report, if any, ends up at ``scratch``."""
    if not os.path.lexists(target):
        os.rename(scratch, target)  # under the lock: nobody else creates ``target`` meanwhile
        return
    if exchange(scratch, target):
        return
    # Portable fallback: two renames; recover() puts the aside folder back after a kill.
    aside = target.parent / _hidden_name(target, "old")
    os.rename(target, aside)
    os.rename(scratch, target)
    os.rename(aside, scratch)


def publish_folder(scratch: Path | str, target: Path | str) -> None:
    """Replace the folder ``target`` by the complete folder ``scratch``, atomically.

    At every instant ``target`` is the old report or the new one, never missing
    (Linux; elsewhere see :func:`recover`). Concurrent publications of the same
    ``target`` take turns. ``scratch`` no longer exists afterwards.
    """
    scratch, target = Path(scratch), Path(target)
    with folder_lock(target):
        recover(target.parent, target.name)
        _swap(scratch, target)
        remove_old(scratch)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_ours(name: str) -> dict | None:
    """The marker of a hidden leftover whose process is gone (same host), else None."""
    match = _MARKER.match(name)
    if not match or match["host"] != _host() or _alive(int(match["pid"])):
        return None
    return match.groupdict()


def recover(parent: Path | str, only: str | None = None) -> list[Path]:
    """Remove the leftovers of dead processes in ``parent``; returns what was removed.

    A report folder moved aside by the portable fallback of a killed process
    (``kind == "old"``) is moved back first when its report is missing.
    ``only`` restricts recovery to the leftovers of that one report folder name.
    """
    parent = Path(parent)
    removed = []
    try:
        names = sorted(os.listdir(parent))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for name in names:
        marker = _is_ours(name)
        if marker is None or (only is not None and marker["name"] != only):
            continue
        path = parent / name
        target = parent / marker["name"]
        if marker["kind"] == "old" and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.rename(path, target)
                continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        removed.append(path)
    return removed


def recover_outputs(root: Path | str) -> list[Path]:
    """:func:`recover` in every territory folder of an outputs root (``outputs/<code>/``) and the root."""
    root = Path(root)
    removed = recover(root)
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()]
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for folder in folders:
        removed += recover(folder)
    return removed
