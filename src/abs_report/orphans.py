"""Nothing outlives its process: child processes die with their parent, private folders are reclaimed.

A ``kill -9`` runs no ``finally``, no ``atexit``. Two defences make up for it:

- a forked worker (mask computation, a kernel) asks Linux to kill it when its
  parent dies (:func:`die_with_parent`), and checks at once that its parent is
  still the expected one (the parent may have died before the request);
- private runtime folders (kernel connection files with their HMAC key, Unix
  sockets) are named ``abs-k-<pid>-<random>`` in the temporary folder, so the
  next run removes those of processes that are gone (:func:`recover_private_folders`).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

PR_SET_PDEATHSIG = 1
PRIVATE_PREFIX = "abs-k-"
_PRIVATE = re.compile(rf"^{PRIVATE_PREFIX}(?P<pid>\d+)-[A-Za-z0-9_]+$")


def die_with_parent(expected_parent: int | None = None) -> None:
    """Be killed (SIGKILL) when the parent process dies (Linux; a no-op elsewhere).

    Parameters
    ----------
    expected_parent
        The parent's pid as the parent knew it before forking. When the parent
        died before the request, this process was already re-parented: it exits now.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    parent = os.getppid()
    if parent == 1 or (expected_parent is not None and parent != expected_parent):
        os._exit(1)


def private_folder() -> Path:
    """A new folder only this user can enter (0700), short enough for Unix socket paths."""
    return Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-", dir=tempfile.gettempdir()))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_private_folders(base: Path | str | None = None) -> list[Path]:
    """Remove this user's private folders whose process is gone; returns them."""
    base = Path(base or tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        match = _PRIVATE.match(entry.name)
        if not match or int(match["pid"]) == os.getpid():
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        if _gone(int(match["pid"])):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed
