"""The ``data:`` value of a parameter file, parsed once: the demonstration data or a dataset folder.

Every question about a report's data (which folder, which years, what
identifies it for a batch's fingerprint, what the manifest records) is
answered here, so that ``data: demo`` is decoded in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import InputError, Problem
from .manifest import sha256

DEMO = "demo"
"""The value that names the embedded demonstration data."""


@dataclass(frozen=True)
class DataRef:
    """Where a report's figures come from.

    ``written`` is the value as the parameter file gives it; ``folder_given``
    is the dataset folder it names, resolved against the parameter file's
    folder (``None`` for the demonstration data, which lives in the cache).
    """

    written: str
    folder_given: Path | None

    @classmethod
    def parse(cls, data: str, base: Path) -> "DataRef":
        """``demo`` or a folder (absolute, or relative to ``base``: the parameter file's folder)."""
        if data == DEMO:
            return cls(data, None)
        folder = Path(data)
        return cls(data, folder if folder.is_absolute() else Path(base) / folder)

    @property
    def is_demo(self) -> bool:
        return self.folder_given is None

    def folder(self, cache: Path | None = None) -> Path:
        """The dataset folder to read (the demonstration data are generated on first use in ``cache``)."""
        if self.folder_given is not None:
            return self.folder_given
        from .sources.synthetic import demo_folder

        return demo_folder(cache)

    def _problem(self, folder: Path, exc: Exception) -> InputError:
        return InputError(Problem(str(folder), str(exc), field="data", value=self.written))

    def load(self, departements=None, cache: Path | None = None):
        """The dataset, restricted to the communes of ``departements`` when given.

        ``cache`` holds the demonstration data (default :func:`~abs_report.paths.cache_dir`).

        Raises
        ------
        InputError
            The folder is not a readable dataset (names the folder and the ``data`` value).
        """
        from .observations import DataError, load

        folder = self.folder(cache)
        try:
            return load(folder, departements)
        except DataError as exc:
            raise self._problem(folder, exc) from None

    def years(self, cache: Path | None = None) -> tuple[int, ...]:
        """The years the dataset holds, read from its metadata only (cheap)."""
        from .observations import DataError, load_meta

        folder = self.folder(cache)
        try:
            return tuple(load_meta(folder).years)
        except DataError as exc:
            raise self._problem(folder, exc) from None

    def identity(self) -> dict:
        """What identifies the data for a batch's fingerprint, read without loading them.

        Demonstration data: the generator's name, version and seed; a dataset
        folder: the hash of each of its files.
        """
        if self.is_demo:
            from .sources import synthetic

            return {"synthetic": {"generator": synthetic.__name__, "version": synthetic.GENERATOR_VERSION,
                                  "seed": synthetic.SEED}}
        return {"files": _files_identity(str(self.folder_given.resolve()))}

    @property
    def cache_key(self) -> tuple[str, str]:
        """Two references to the same data share one loaded dataset in a process."""
        return (self.written, "" if self.is_demo else str(self.folder_given))


@cache
def _files_identity(folder: str) -> dict[str, str]:
    # Hashed once per process: a batch asks for every report, and datasets run to gigabytes.
    return {p.name: sha256(p) for p in sorted(Path(folder).glob("*")) if p.is_file()}
