"""Cache files checked against the hash of their content before use.

A cache (``data/cache/``: secrecy masks, demonstration data, batch cuts) is
reused across runs, machines and people: a file truncated by a full disk,
edited by hand or copied from elsewhere must never reach a report. Each cached
file is written atomically beside a sidecar ``<name>.sha256`` holding the
SHA-256 of its bytes; a reader recomputes it and uses the file only when both
agree. Anything else (a mismatch, a missing sidecar, a file that does not
parse) is discarded with one French warning on stderr and rebuilt by the
caller: never a crash, never a wrong figure.

The sidecar detects damage, not a forger who rewrites both files: ``verify``
therefore rebuilds what it relies on in a private cache (docs/SECURITY.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from .atomic import write_file
from .manifest import sha256

SIDECAR_SUFFIX = ".sha256"


class DamagedCache(Exception):
    """A cached file that must not be used; the message says why, in French."""


def sidecar(path: Path) -> Path:
    """``<path>.sha256``."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_checked(path: Path, data: bytes) -> None:
    """Write ``data`` and its sidecar (file first: a file without sidecar is never trusted)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, data)
    write_sidecar(path, hashlib.sha256(data).hexdigest())


def write_sidecar(path: Path, digest: str) -> None:
    write_file(sidecar(path), (digest + "\n").encode("ascii"))


def recorded_digest(path: Path) -> str:
    """The digest a sidecar records; :class:`DamagedCache` when absent or not a digest."""
    try:
        text = sidecar(path).read_bytes().decode("ascii").strip()
    except FileNotFoundError:
        raise DamagedCache("sans empreinte SHA-256") from None
    except (OSError, UnicodeDecodeError):
        raise DamagedCache("empreinte SHA-256 illisible") from None
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise DamagedCache("empreinte SHA-256 illisible")
    return text


def read_checked(path: Path) -> bytes | None:
    """The bytes of ``path`` when they match its sidecar; ``None`` when neither exists (a miss).

    Raises
    ------
    DamagedCache
        The file or its sidecar is missing, unreadable or they disagree.
    """
    if not path.exists() and not sidecar(path).exists():
        return None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DamagedCache("fichier absent") from None
    except OSError as exc:
        raise DamagedCache(f"illisible ({exc.strerror or exc})") from None
    if hashlib.sha256(data).hexdigest() != recorded_digest(path):
        raise DamagedCache("contenu différent de son empreinte SHA-256 (modifié ou tronqué)")
    return data


def read_checked_pair(first: Path, second: Path) -> tuple[bytes, bytes] | None:
    """Both files of a cache entry when each matches its sidecar; ``None`` when neither exists.

    Raises
    ------
    DamagedCache
        Either file is damaged, or only one of the two exists.
    """
    one, two = read_checked(first), read_checked(second)
    if one is None and two is None:
        return None
    if one is None or two is None:
        raise DamagedCache("entrée incomplète")
    return one, two


def check_file(path: Path) -> None:
    """:class:`DamagedCache` unless ``path`` matches its sidecar (read in blocks, not kept)."""
    try:
        digest = sha256(path)
    except FileNotFoundError:
        raise DamagedCache("fichier absent") from None
    except OSError as exc:
        raise DamagedCache(f"illisible ({exc.strerror or exc})") from None
    if digest != recorded_digest(path):
        raise DamagedCache("contenu différent de son empreinte SHA-256 (modifié ou tronqué)")


def warn(what: str, path: Path, reason: str) -> None:
    """One line on stderr: what was discarded and why (it is rebuilt)."""
    print(f"abs-report: avertissement : {what} en cache ignoré et reconstruit, {reason} : {path}",
          file=sys.stderr)


def discard(*paths: Path) -> None:
    """Remove cached files (and their sidecars) or folders; what is already gone is fine."""
    for path in paths:
        for item in (path, sidecar(path)):
            if item.is_dir() and not item.is_symlink():
                aside = item.with_name(f".{item.name}.discarded-{os.getpid()}")
                try:
                    os.replace(item, aside)  # readers never see a half-removed folder
                except OSError:
                    aside = item
                shutil.rmtree(aside, ignore_errors=True)
            else:
                try:
                    item.unlink()
                except FileNotFoundError:
                    pass
