"""Re-issue, as a new version, every report whose published figures change with corrected data.

The CAF sends corrected data when an anomaly is found within 12 months of a
release. For each report folder under a root, the report's parameters (from
its manifest) are run on the corrected data up to ``published.csv`` — no
notebook, no rendering — and the rows compared with what the report
published, value by value. A report none of whose figures change is left
alone: not one of its files is opened for writing. The others are rendered
again as version ``n + 1`` (``report-v2.pdf``, ``published-v2.csv``...,
the earlier versions kept) with an "Erratum" box listing every corrected
figure, and listed, with their recipients, in ``reissue-<date>.json`` and
``.csv`` at the root: the CCAS to notify.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import manifest as mf
from . import manifest_check as mc
from . import published as pub
from .atomic import scratch_folder
from .errors import InputError, Problem
from .context import Erratum, ErratumItem
from .published import CellChange, compare_published, published_rows
from .params import write_params


@dataclass(frozen=True)
class Reissued:
    """One report re-issued: where, for whom, which version, how many figures corrected."""

    folder: Path
    territory: dict
    recipient: str
    version: int
    corrected: int
    files: tuple[str, ...]


@dataclass
class Outcome:
    """What a re-issue did, report by report."""

    reissued: list[Reissued] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    """Reports the corrected data cannot speak for, with the reason (French)."""
    listing: tuple[Path, ...] = ()


def find_reports(root: Path) -> list[Path]:
    """Report folders (holding a ``manifest.json``) under ``root``, scratch folders excepted."""
    root = Path(root)
    found = [p.parent for p in root.rglob(mf.MANIFEST)
             if not any(part.startswith(".") for part in p.parent.relative_to(root).parts)]
    return sorted(found)


def erratum_items(changes: list[CellChange], names: dict[tuple[str, str], str]) -> tuple[ErratumItem, ...]:
    """The corrected figures, as the erratum box and the listing need them."""

    def number(text: str):
        return float(text) if text else None

    return tuple(ErratumItem(c.table_id, c.zone_level, c.zone_code, names.get((c.zone_level, c.zone_code), c.zone_code),
                             c.year, c.measure, c.unit, number(c.before), c.before_status, number(c.after),
                             c.after_status) for c in changes)


def _skip_reason(recorded: dict, corrected_meta, corrected_years: tuple[int, ...]) -> str | None:
    """Why the corrected data do not apply to a report, or ``None`` when they do."""
    if recorded["dataset"].get("synthetic") and not corrected_meta.synthetic:
        return "rapport sur données de démonstration : non concerné par des données réelles corrigées"
    year = recorded["parameters"]["resolved"]["year"]
    if year not in corrected_years:
        return f"année {year} absente des données corrigées"
    return None


def _prepare(params_path: Path, geography):
    from .pipeline import prepare, read_report_params

    params, data = read_report_params(params_path, geography)
    return prepare(params, data, geography)


def _move_into_place(scratch: Path, folder: Path, version: int) -> tuple[str, ...]:
    """Move the new version's files beside the earlier ones; the manifest last.

    A version exists once its manifest does: if anything fails before, the
    folder still reads as the earlier version (the stray files are overwritten
    by the next attempt).
    """
    names = sorted(p.name for p in scratch.iterdir() if p.is_file() and p.name != mf.MANIFEST)
    moved = []
    for name in names + [mf.MANIFEST]:
        target = name if name.endswith(".yml") else mf.versioned(name, version)
        os.replace(scratch / name, folder / target)
        moved.append(target)
    return tuple(moved)


def _read_all(folders: list[Path]) -> dict[Path, dict]:
    """Every report's checked manifest, before anything is computed or written (all problems at once)."""
    checked, problems = {}, []
    for folder in folders:
        try:
            checked[folder] = mc.read_checked(folder)[0]
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return checked


def reissue_one(folder: Path, recorded: dict, corrected: Path, day: dt.date, geography,
                previous_published: Path) -> Reissued | None:
    """Re-issue one report when its figures change; ``None`` when none does (nothing written)."""
    from .pipeline import build_report

    version = recorded["version"] + 1
    with tempfile.TemporaryDirectory(prefix="abs-report-reissue-") as tmp:
        probe = write_params(mc.recorded_params(recorded, corrected), Path(tmp) / mc.PARAMS_NAME)
        prepared = _prepare(probe, geography)
        after = published_rows(pub.to_csv(prepared.published))
    changes = compare_published(published_rows(previous_published), after)
    if not changes:
        return None
    # Built beside the report folder (same depth), so the manifest's relative paths hold once moved.
    # Named after this process, so that the next run removes it after a kill (abs_report.atomic).
    scratch = scratch_folder(folder)
    try:
        values = mc.recorded_params(recorded, corrected, folder_of_data=scratch)
        params_path = write_params(values, scratch / f"params-v{version}.yml")
        # The same preparation (data, masks, published rows), now reading the report folder's own
        # copy of the parameters: the manifest records that file and the data relative to it.
        params = replace(prepared.params, source=params_path, data=values["data"], raw=values)
        erratum = Erratum(version, day.isoformat(), recorded["version"], recorded["edition"],
                          erratum_items(changes, prepared.context.zone_names()))
        prepared = replace(prepared, params=params, context=prepared.context.with_erratum(erratum))
        build_report(prepared, scratch, renderer=recorded["renderer"], edition=day)
        files = _move_into_place(scratch, folder, version)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    resolved = recorded["parameters"]["resolved"]
    return Reissued(folder, resolved["territory"], resolved["recipient"], version, len(changes), files)


def reissue(corrected: Path | str, reports: Path | str, day: dt.date | None = None,
            geography=None) -> Outcome:
    """Compare every report under ``reports`` with ``corrected`` data; re-issue those that change.

    Parameters
    ----------
    corrected
        The corrected dataset folder (``abs-report data import ... --into DIR``).
    reports
        Root of the report folders (``outputs/``).
    day
        Date of the correction, printed in the erratum and used as the new edition date.

    Raises
    ------
    InputError
        ``corrected`` is not a dataset folder, or ``reports`` holds no report.
    """
    from .geography import load_geography
    from .observations import DataError, load

    corrected, reports = Path(corrected).resolve(), Path(reports)
    day = day or dt.date.today()
    try:
        corrected_data = load(corrected)
    except DataError as exc:
        raise InputError(Problem(str(corrected), str(exc), field="--corrected-data")) from None
    folders = find_reports(reports) if reports.is_dir() else []
    if not folders:
        raise InputError(Problem(str(reports), "aucun dossier de rapport (manifest.json) sous ce dossier",
                                 field="--reports"))
    geography = geography or load_geography()
    outcome = Outcome()
    checked = _read_all(folders)
    for folder in folders:
        recorded = checked[folder]
        reason = _skip_reason(recorded, corrected_data.meta, corrected_data.years())
        if reason:
            outcome.skipped.append((folder, reason))
            continue
        previous = folder / recorded["outputs"]["published.csv"]["file"]
        done = reissue_one(folder, recorded, corrected, day, geography, previous)
        if done is None:
            outcome.unchanged.append(folder)
        else:
            outcome.reissued.append(done)
    outcome.listing = write_listing(outcome, reports, corrected, day)
    return outcome


# --- the list of reports to notify ---------------------------------------------------------

LISTING_COLUMNS = ("dossier", "territoire", "niveau", "code", "destinataire", "version", "chiffres_corriges",
                   "rapport_pdf", "rapport_html")


def listing_rows(outcome: Outcome, root: Path) -> list[dict]:
    """One row per re-issued report: the CCAS to notify and the files to send."""
    rows = []
    for r in outcome.reissued:
        rows.append({"dossier": mf.relative(r.folder, root), "territoire": r.territory["name"],
                     "niveau": r.territory["level"], "code": r.territory["code"], "destinataire": r.recipient,
                     "version": r.version, "chiffres_corriges": r.corrected,
                     "rapport_pdf": mf.versioned("report.pdf", r.version) if
                     mf.versioned("report.pdf", r.version) in r.files else "",
                     "rapport_html": mf.versioned("report.html", r.version) if
                     mf.versioned("report.html", r.version) in r.files else ""})
    return rows


def write_listing(outcome: Outcome, root: Path, corrected: Path, day: dt.date) -> tuple[Path, Path]:
    """``reissue-<date>.json`` (with unchanged and skipped reports) and ``reissue-<date>.csv``."""
    rows = listing_rows(outcome, root)
    stem = Path(root) / f"reissue-{day.isoformat()}"
    document = {
        "date": day.isoformat(),
        "corrected_data": {"path": mf.relative(corrected, root),
                           "files": {name: mf.fingerprint(corrected / name) for name in mf.DATASET_FILES}},
        "reissued": rows,
        "unchanged": [mf.relative(f, root) for f in outcome.unchanged],
        "skipped": [{"dossier": mf.relative(f, root), "raison": why} for f, why in outcome.skipped],
    }
    json_path, csv_path = stem.with_suffix(".json"), stem.with_suffix(".csv")
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(LISTING_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    csv_path.write_text(buffer.getvalue(), encoding="utf-8")
    return json_path, csv_path


def summary_text(outcome: Outcome, root: Path) -> str:
    """What a user reads after a re-issue (French)."""
    lines = [f"{len(outcome.reissued)} rapport(s) réédité(s), {len(outcome.unchanged)} inchangé(s), "
             f"{len(outcome.skipped)} non concerné(s)."]
    if outcome.reissued:
        lines.append("\nRapports réédités (destinataires à prévenir) :")
        for row in listing_rows(outcome, root):
            lines.append(f"- {row['territoire']} ({row['niveau']} {row['code']}) : version {row['version']}, "
                         f"{row['chiffres_corriges']} chiffre(s) corrigé(s) — {row['destinataire']} — "
                         f"{row['dossier']}")
    for folder, why in outcome.skipped:
        lines.append(f"  non concerné : {mf.relative(folder, root)} ({why})")
    if outcome.listing:
        lines.append("\nListe écrite dans " + " et ".join(str(p) for p in outcome.listing))
    return "\n".join(lines)
