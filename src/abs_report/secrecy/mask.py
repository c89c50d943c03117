"""Protect a linked table once, store its status mask, reuse it everywhere."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import checked_cache as cc
from ..atomic import recover
from ..catalogue import MEASURES
from ..errors import BuildFailed
from ..geography import PIECE_LEVEL, Geography, Zone
from . import primary as st
from .derived import judged_pieces
from .lp import Attacker
from .relations import build_system
from .rules import Rules
from .secondary import Suppression, suppress
from .table import CELL_KEY, build_cells, scope_rows

MASK_FORMAT = "7"
"""Bump when the cached mask layout or the suppression algorithm changes."""


class UnprotectedCells(BuildFailed):
    """Secondary suppression ended with cells still exposed: the table cannot be published."""

    def __init__(self, message: str, cells: pd.DataFrame | None = None):
        super().__init__(message)
        self.cells = cells


@dataclass(frozen=True)
class Protection:
    """Cells of one linked table with the status of each.

    Attributes
    ----------
    cells
        ``zone_level, zone_code, year, measure, value, status``.
    passes
        Cells hidden by each pass (primary, threshold, secondary_heuristic,
        secondary_lp_<round>, and ``republished`` partners found computable).
    rules_version
        Version of the rules file applied.
    mask_hash
        sha256 of the sorted ``(zone_level, zone_code, year, measure, status, value)`` rows:
        the hash of the mask actually used, values included (a report's figures come from them).
    """

    cells: pd.DataFrame = field(repr=False)
    passes: dict[str, int]
    rules_version: str
    mask_hash: str

    @functools.cached_property
    def _rows_of_zone(self) -> dict[tuple[str, str], np.ndarray]:
        """Row positions of each ``(zone_level, zone_code)``, indexed once per protection."""
        return self.cells.groupby(["zone_level", "zone_code"], sort=False, observed=True).indices

    def cells_of(self, zones: Iterable[tuple[str, str]]) -> pd.DataFrame:
        """The cells of ``zones`` only, in table order (``(zone_level, zone_code)`` pairs).

        A report reads a few hundred of a part's tens of thousands of cells, for
        each of its years: looking them up beats filtering the whole table each time.
        """
        index = self._rows_of_zone
        found = [index[key] for key in dict.fromkeys(zones) if key in index]
        return self.cells.iloc[np.sort(np.concatenate(found)) if found else []]

    def status_of(self, zone_level: str, zone_code: str, measure: str) -> str:
        """Status of one cell (``missing`` when the table does not hold it)."""
        hit = self.cells[(self.cells["zone_level"] == zone_level) & (self.cells["zone_code"] == zone_code)
                         & (self.cells["measure"] == measure)]
        return str(hit["status"].iloc[0]) if len(hit) else st.MISSING


def mask_hash(cells: pd.DataFrame) -> str:
    """sha256 over the sorted ``zone_level, zone_code, year, measure, status, value`` rows.

    Values are written exactly (``float.hex``): a cell whose value changed is another mask,
    even when every status is the same.
    """
    keys = cells[CELL_KEY + ["status"]].astype(str)
    keys["value"] = [float.hex(v) for v in cells["value"].to_numpy("float64")]
    keys = keys.sort_values(CELL_KEY + ["status", "value"])
    # Whole columns as Python lists: iterating an Arrow-backed frame row by row costs a
    # Python call per element (a cached mask is checked on every load: 0.3 s -> 0.05 s).
    columns = [keys[name].tolist() for name in keys.columns]
    text = "\n".join(map("\t".join, zip(*columns)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_alias_iris(cells: pd.DataFrame, rules: Rules) -> np.ndarray:
    """IRIS ``<commune>0000``: INSEE's code for a commune not split into IRIS.

    Its figures are the commune's own, protected as commune cells; it is not an
    infra-communal zone and enters no relation of its own.
    """
    return ((cells["zone_level"] == rules.finest_level)
            & cells["zone_code"].str.endswith("0000")).to_numpy(bool)


def protect(observations: pd.DataFrame, year: int, zones: Sequence[tuple[str, str]], geography: Geography,
            rules: Rules, aggregations: Sequence[Zone] = (), fixed: pd.DataFrame | None = None) -> Protection:
    """Primary, threshold and secondary suppression over the linked table of ``zones``.

    Parameters
    ----------
    observations
        The canonical long table (any years and zones: filtered here).
    year
        Year of reference.
    zones
        ``(zone_level, zone_code)`` of the batch, e.g. from :func:`scope_zones`;
        IRIS of the in-scope communes are added from the observations.
    geography
        The COG, for geographic additivity.
    rules
        The rules (:func:`load_rules`).
    aggregations
        User groups of communes; their rows are the sums of their members.
    fixed
        ``zone_level, zone_code, year, measure, status`` of cells another part of
        the mask decided: they keep that status here (never a partner, never
        published again), and the hidden ones are protected here too against the
        relations this table adds.

    Raises
    ------
    InputError
        A zone finer than IRIS in the observations.
    """
    cells = build_cells(observations, year, zones, aggregations, rules)
    status = st.primary_status(cells, rules)
    is_fixed = _apply_fixed(cells, status, fixed)
    covered = np.zeros(len(cells), bool)
    if is_fixed.any():
        covered = _cover_hidden_members(cells, status, is_fixed, geography, aggregations)
    alias = is_alias_iris(cells, rules)
    system = build_system(cells.loc[:, CELL_KEY + ["value"]].assign(
        zone_level=np.where(alias, "alias", cells["zone_level"])), geography, aggregations)
    values = cells["value"].to_numpy(float)
    secret_measure = cells["measure"].map(lambda m: MEASURES[m].secret).to_numpy(bool)
    # A fixed cell is protected by the part that decided it (docs/SECRECY.md); this part adds
    # partners only for its own cells.
    checked = np.isin(status, [st.PRIMARY, st.THRESHOLD]) & ~alias & ~is_fixed
    candidate = (status == st.PUBLISHED) & secret_measure & ~is_fixed
    result = suppress(values, system, hidden=status != st.PUBLISHED, checked=checked, candidate=candidate,
                      level=rules.protection_level, max_rounds=rules.max_rounds,
                      delta=_exactness(cells, values))
    result = _protect_unknown_pieces(cells, values, system, rules, result, checked, candidate)
    if result.unresolved:
        raise UnprotectedCells(f"le secret secondaire n'a pas pu protéger {len(result.unresolved)} cellule(s) : "
                               "rien n'est publié", cells.iloc[list(result.unresolved)][CELL_KEY])
    status[result.secondary] = st.SECONDARY
    if covered.any():
        _publish_derivable(status, covered, values, system, rules, _exactness(cells, values))
    cells["status"] = status
    # Pieces (never published) are counted apart: the passes count the cells reports hide.
    piece = (cells["zone_level"] == PIECE_LEVEL).to_numpy(bool)
    passes = {"primary": int(((status == st.PRIMARY) & ~piece).sum()),
              "threshold": int(((status == st.THRESHOLD) & ~piece).sum()),
              **result.passes, "secondary_total": int(result.secondary.sum()),
              "missing": int(((status == st.MISSING) & ~piece).sum()), "lp_solved": result.lp_solved,
              "fixed": int(is_fixed.sum())}
    if piece.any():
        passes["qpv_pieces_secret"] = int((piece & np.isin(status, [st.PRIMARY, st.THRESHOLD])).sum())
        passes["qpv_pieces_unknown"] = int((piece & (status == st.MISSING)).sum())
    return Protection(cells, passes, rules.version, mask_hash(cells))


def _protect_unknown_pieces(cells: pd.DataFrame, values: np.ndarray, system, rules: Rules,
                            result: Suppression, checked: np.ndarray, candidate: np.ndarray) -> Suppression:
    """Protect the pieces the data does not give but the published cells pin (:mod:`.derived`).

    Each round judges the unknown pieces on the values a reader derives and
    hides partners for those the rules make secret; hiding more only widens
    other intervals, so the rounds end.
    """
    judge = values.copy()
    checked = checked.copy()
    delta = _exactness(cells, values)
    passes = dict(result.passes)
    secondary = result.secondary.copy()
    for round_ in range(1, rules.max_rounds + 1):
        found = judged_pieces(cells, judge, result.hidden, system, rules, delta)
        if not found:
            break
        at = np.array(sorted(found), int)
        judge[at] = [found[c] for c in at.tolist()]
        checked[at] = True
        result = suppress(judge, system, hidden=result.hidden, checked=checked,
                          candidate=candidate & ~result.hidden, level=rules.protection_level,
                          max_rounds=rules.max_rounds, delta=delta)
        passes[f"secondary_qpv_pieces_{round_}"] = int((result.secondary & ~secondary).sum())
        secondary |= result.secondary
        if result.unresolved:
            break
    return Suppression(result.hidden, secondary & result.hidden, passes, result.unresolved, result.lp_solved)


def _apply_fixed(cells: pd.DataFrame, status: np.ndarray, fixed: pd.DataFrame | None) -> np.ndarray:
    """Give the cells ``fixed`` holds their decided status (in place); returns which cells those are."""
    if fixed is None or not len(fixed):
        return np.zeros(len(cells), bool)
    given = fixed.loc[:, CELL_KEY + ["status"]].drop_duplicates(CELL_KEY).astype(
        {"zone_level": str, "zone_code": str, "year": int, "measure": str})
    merged = cells.loc[:, CELL_KEY].astype({"year": int}).merge(given, on=CELL_KEY, how="left")
    is_fixed = merged["status"].notna().to_numpy(bool)
    status[is_fixed] = merged["status"].to_numpy(object)[is_fixed]
    return is_fixed


def _cover_hidden_members(cells: pd.DataFrame, status: np.ndarray, is_fixed: np.ndarray,
                          geography: Geography, aggregations: Sequence[Zone]) -> np.ndarray:
    """Hide (secondary) an EPCI's or aggregation's cell when a fixed member commune's is hidden.

    Then what such a zone publishes is a sum of published member cells, known
    from the members' own reports: it adds no fact to the parts that decided
    the members, and their protection holds as it was checked there.
    """
    members = {("aggregation", a.code): a.members for a in aggregations}
    own = ~is_fixed & cells["zone_level"].isin(["epci", "aggregation"]).to_numpy(bool)
    hidden = is_fixed & (cells["zone_level"] == "commune").to_numpy(bool) & ~np.isin(
        status, [st.PUBLISHED, st.MISSING])
    hidden_at = set(zip(cells["zone_code"].to_numpy()[hidden], cells["measure"].to_numpy()[hidden]))
    covered = np.zeros(len(cells), bool)
    for i in np.flatnonzero(own & (status == st.PUBLISHED)):
        level, code, measure = cells.at[i, "zone_level"], cells.at[i, "zone_code"], cells.at[i, "measure"]
        of = members.get((level, code)) or geography.member_communes_of("epci", code)
        if any((c, measure) in hidden_at for c in of):
            status[i] = st.SECONDARY
            covered[i] = True
    return covered


def _publish_derivable(status: np.ndarray, covered: np.ndarray, values: np.ndarray, system, rules: Rules,
                       delta: np.ndarray) -> None:
    """Publish again the covered cells the attacker computes exactly: their value is known anyway.

    A cell left hidden although derivable would protect nothing and would read
    as a disclosure to any audit. The table holds the members' whole
    départements, so "exactly" is judged with every fact that links them.
    """
    attacker = Attacker(values, system, rules.protection_level, delta)
    hidden = status != st.PUBLISHED
    while True:
        exact = [e.cell for e in attacker.exposed(hidden, covered & hidden) if e.exact]
        if not exact:
            return
        hidden[exact] = False
        status[exact] = st.PUBLISHED


def _exactness(cells: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Width under which an interval counts as exact: 1 for counts, 1 % (at least 1) for euros."""
    euro = cells["measure"].map(lambda m: MEASURES[m].unit == "euro").to_numpy(bool)
    return np.where(euro, np.maximum(1.0, 0.01 * np.nan_to_num(np.abs(values))), 1.0)


def _input_key(dataset_key: str, observations: pd.DataFrame, year: int, zones, rules: Rules,
               aggregations: Sequence[Zone], fixed_hashes: Sequence[str] = ()) -> str:
    """Hash of everything the mask depends on.

    The scoped observation rows, not the cell grid: the grid and the
    aggregations' sums follow from them, and building it would cost as much
    as a good part of the protection itself.
    """
    rows = scope_rows(observations, year, zones, rules)
    if aggregations:
        members = {c for a in aggregations for c in a.members}
        communes = observations[(observations["zone_level"] == "commune") & (observations["year"] == year)
                                & observations["zone_code"].isin(members)]
        rows = pd.concat([rows, communes.loc[:, CELL_KEY + ["value"]]], ignore_index=True)
    rows = rows.astype({"zone_level": str, "zone_code": str, "measure": str})
    rows = rows.sort_values(CELL_KEY, kind="stable").reset_index(drop=True)
    h = hashlib.sha256()
    h.update(json.dumps([MASK_FORMAT, dataset_key, int(year), sorted(map(list, zones)), rules.version,
                         [[a.code, list(a.members)] for a in aggregations], list(fixed_hashes)]).encode())
    h.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    return h.hexdigest()[:32]


def load_or_protect(dataset_folder_or_key: str, observations: pd.DataFrame, year: int,
                    zones: Sequence[tuple[str, str]], geography: Geography, rules: Rules,
                    cache_dir: Path, aggregations: Sequence[Zone] = (),
                    fixed: Sequence[Protection] = ()) -> Protection:
    """The protection of this table, read from ``cache_dir/masks/`` or computed and stored.

    The key hashes the observations of the scope and year, the zones, the
    aggregations and the rules version, so a single report and a batch over
    the same table share one mask. A stored mask whose hash does not match is
    recomputed. ``fixed`` are the protections of the parts decided before this
    one (their cells keep their status here); their hashes enter the key.
    """
    key = _input_key(str(dataset_folder_or_key), observations, year, zones, rules, aggregations,
                     [p.mask_hash for p in fixed])
    folder = Path(cache_dir) / "masks"
    table, meta = folder / f"{key}.parquet", folder / f"{key}.json"
    cached = _load(table, meta, rules)
    if cached is not None:
        return cached
    failed = folder / f"{key}.unprotected"
    if failed.is_file():  # the same inputs fail the same way: not recomputed by every report
        raise UnprotectedCells(failed.read_text(encoding="utf-8"))
    given = pd.concat([p.cells for p in fixed], ignore_index=True) if fixed else None
    try:
        protection = protect(observations, year, zones, geography, rules, aggregations, given)
    except UnprotectedCells as exc:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = failed.with_name(f".{failed.name}.{os.getpid()}.tmp")
        tmp.write_text(str(exc), encoding="utf-8")
        os.replace(tmp, failed)
        raise
    folder.mkdir(parents=True, exist_ok=True)
    recover(folder)  # temporary files of workers killed while writing
    store(table, meta, protection)
    return protection


def cached_hash(dataset_folder_or_key: str, observations: pd.DataFrame, year: int,
                zones: Sequence[tuple[str, str]], rules: Rules, cache_dir: Path,
                fixed_hashes: Sequence[str] = ()) -> str | None:
    """The mask hash the cache records for this table; ``None`` when it holds no sound entry.

    Reads the entry's small metadata file only (checked against its SHA-256), not its cells:
    a batch asks it of every part and year before its workers start, and the workers
    decode and check in full what they use (:func:`load_or_protect`).
    """
    key = _input_key(str(dataset_folder_or_key), observations, year, zones, rules, (), fixed_hashes)
    folder = Path(cache_dir) / "masks"
    table, meta = folder / f"{key}.parquet", folder / f"{key}.json"
    try:
        raw = cc.read_checked(meta)
        if raw is None or not table.is_file():
            return None
        info = json.loads(raw.decode("utf-8"))
    except (cc.DamagedCache, ValueError):
        return None  # the full load warns about it and rebuilds it
    recorded = info.get("mask_hash") if isinstance(info, dict) else None
    ok = isinstance(recorded, str) and info.get("rules_version") == rules.version
    return recorded if ok else None


def _load(table: Path, meta: Path, rules: Rules) -> Protection | None:
    """The cached protection when both files match their SHA-256 and each other; else ``None``.

    A damaged or modified entry is discarded with a warning (it is then rebuilt):
    a mask decides what is published, it is never used unchecked.
    """
    try:
        entry = cc.read_checked_pair(table, meta)
        return None if entry is None else _decode(*entry, rules)
    except cc.DamagedCache as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - any file that does not decode is a damaged cache entry
        reason = f"illisible ({type(exc).__name__})"
    cc.warn("masque du secret statistique", table, reason)
    cc.discard(table, meta)
    return None


def _decode(raw_cells: bytes, raw_info: bytes, rules: Rules) -> Protection:
    cells = pd.read_parquet(io.BytesIO(raw_cells))
    info = json.loads(raw_info.decode("utf-8"))
    if list(cells.columns) != CELL_KEY + ["value", "status"] or not isinstance(info, dict):
        raise cc.DamagedCache("colonnes inattendues")
    cells["zone_code"] = cells["zone_code"].astype(str)
    # The metadata names the cells it describes by the SHA-256 of their file: a metadata file
    # paired with other cells (both intact) is refused, and the recorded mask hash, computed from
    # these very cells when they were stored, needs no recomputing on every load.
    if info.get("cells_sha256") != hashlib.sha256(raw_cells).hexdigest() \
            or not isinstance(info.get("mask_hash"), str) or info.get("rules_version") != rules.version:
        raise cc.DamagedCache("empreinte du masque différente de celle enregistrée")
    if not isinstance(info.get("passes"), dict):
        raise cc.DamagedCache("métadonnées illisibles")
    return Protection(cells, info["passes"], info["rules_version"], info["mask_hash"])


def store(table: Path, meta: Path, protection: Protection) -> None:
    """Write a protection and its metadata, each with its SHA-256 sidecar."""
    buffer = io.BytesIO()
    protection.cells.to_parquet(buffer, index=False)
    cells = buffer.getvalue()
    cc.write_checked(table, cells)
    cc.write_checked(meta, json.dumps(
        {"mask_hash": protection.mask_hash, "rules_version": protection.rules_version,
         "passes": protection.passes, "cells_sha256": hashlib.sha256(cells).hexdigest()},
        indent=2, sort_keys=True).encode("utf-8"))
