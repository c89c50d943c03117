"""One report, end to end: parameters -> protected tables -> notebook -> PDF/HTML -> outputs.

The flow runs one way. Data are read and protected here, once; the notebook
only presents ``published.csv``. Everything is built in a scratch folder and
moved into ``outputs/<zone_code>/<year>/`` only when every file exists, so a
failed run never replaces a good report.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import atomic
from . import formatting as fmt
from . import published as pub
from . import secrecy
from .context import DatasetInfo, QpvRef, ReportContext, ReportZone, SecrecyInfo, ZoneRef
from .dataref import DataRef
from .errors import InputError, Problem
from .execute import execute
from .figures.text import source_line
from .geography import Geography, Zone, article_of, load_geography, locative
from .observations import Dataset
from .params import ReportParams, load_params, read_params_file
from .paths import cache_dir, outputs_dir
from .tables import SPECS

OUTPUT_FILES = ("report.pdf", "report.html", "report.ipynb", "published.csv", "tables.xlsx", "manifest.json")


@dataclass(frozen=True)
class Prepared:
    """What a report shows, protected, before any notebook runs."""

    params: ReportParams
    dataset: Dataset
    protection: "secrecy.Protection"
    published: pd.DataFrame
    context: ReportContext


def scope_departements(params: ReportParams, geography: Geography) -> list[str]:
    """Départements whose communes the parts of the mask this report reads hold (an EPCI may straddle)."""
    return secrecy.departements_needed(geography, params.zones)


def validate_params(path: Path, geography: Geography, cache: Path | None = None) -> ReportParams:
    """A parameter file checked against the geography and its dataset's years (no data read yet).

    ``cache`` holds the demonstration data (default :func:`~abs_report.paths.cache_dir`).
    """
    parsed, _, _ = read_params_file(path)
    return load_params(path, geography, DataRef.parse(parsed.data, Path(path).parent).years(cache))


def validate_all(paths, geography: Geography) -> list[ReportParams]:
    """Every parameter file checked before any is built: all their problems at once, or nothing."""
    checked, problems = [], []
    for path in paths:
        try:
            checked.append(validate_params(Path(path), geography))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return checked


def read_report_params(path: Path, geography: Geography,
                       cache: Path | None = None) -> tuple[ReportParams, Dataset]:
    """Validate a parameter file against the geography and its dataset's years, then read its data.

    ``cache`` holds the demonstration data (default :func:`~abs_report.paths.cache_dir`).

    Raises
    ------
    InputError
        Bad parameters, or a dataset without any value for the territory in the report's year.
    """
    params = validate_params(path, geography, cache)
    dataset = params.data_ref.load(scope_departements(params, geography), cache)
    check_coverage(params, dataset, Path(path))
    return params, dataset


def _known_zones(dataset: Dataset, year: int) -> set[tuple[str, str]]:
    """Zones with at least one known value of the data in ``year`` (the COG population excluded)."""
    obs = dataset.observations
    known = obs[(obs["year"] == year) & obs["value"].notna() & (obs["measure"] != "population_municipale")]
    return set(zip(known["zone_level"], known["zone_code"].astype(str)))


def check_coverage(params: ReportParams, dataset: Dataset, path: Path) -> None:
    """Refuse a dataset that says nothing of the territory in the report's year; note absent comparisons.

    A territory without data made an empty report with exit status 0. A
    comparison zone without data is only noted (stderr): an import of one
    département leaves the région and France unknown, and the report says so
    in its tables.
    """
    known = _known_zones(dataset, params.year)
    territory = params.territory
    members = [("commune", c) for c in territory.members] if territory.level == "aggregation" else []
    if (territory.level, territory.code) not in known and not any(m in known for m in members):
        raise InputError(Problem(
            str(path), f"le jeu de données ne contient aucune valeur pour le territoire "
            f"{territory.name} ({territory.level} {territory.code}) en {params.year} : rapport impossible",
            field="data", value=params.data))
    for zone in params.comparison_zones:
        zone_members = [("commune", c) for c in zone.members] if zone.level == "aggregation" else []
        if (zone.level, zone.code) not in known and not any(m in known for m in zone_members):
            print(f"abs-report: note : {path} : aucune valeur pour la zone de comparaison {zone.name} "
                  f"({zone.level} {zone.code}) en {params.year} dans le jeu de données « {params.data} » : "
                  "ses colonnes seront vides", file=sys.stderr)


def departement_of(params: ReportParams, geography: Geography) -> str:
    """The département whose batch mask protects this report."""
    zone = params.territory
    if zone.level == "commune":
        return geography.communes.at[zone.code, "departement"]
    if zone.level == "departement":
        return zone.code
    if zone.level == "region":
        deps = geography.departements
        return deps.index[deps["region"] == zone.code][0]
    members = geography.communes.loc[list(zone.members), "departement"]
    return members.value_counts().index[0]


def protect_for(params: ReportParams, dataset: Dataset, geography: Geography, year: int,
                cache: Path | None = None, memo: dict | None = None):
    """The parts of the dataset's one mask for ``year`` that this report's zones read.

    Every report of the dataset and year, in any batch, reads a shared zone's
    cells from the same part (:mod:`abs_report.secrecy.linked`). Parts are read
    from (or stored into) ``cache/masks`` (default :func:`~abs_report.paths.cache_dir`).
    """
    return secrecy.protect_zones(dataset.meta.name, dataset.observations, year, params.zones, geography,
                                 secrecy.load_rules(), cache or cache_dir(), memo)


def uncached_years(params: ReportParams, dataset: Dataset, geography: Geography, years: tuple[int, ...],
                   cache: Path | None = None) -> tuple[int, ...]:
    """The years whose mask parts for this report are not all in the cache yet (nothing decoded)."""
    rules, folder = secrecy.load_rules(), cache or cache_dir()
    return tuple(y for y in years if not secrecy.is_cached(dataset.meta.name, dataset.observations, y, params.zones,
                                                            geography, rules, folder))


_FORKED: tuple = ()  # (params, dataset, geography, cache) inherited by forked mask workers


def _mask_worker_start(parent: int) -> None:
    """A forked mask worker (about 430 MB) must not outlive the process that wants its mask."""
    from .orphans import die_with_parent

    die_with_parent(parent)


def _protect_forked(year: int):
    params, dataset, geography, cache = _FORKED
    return _earlier_year_or_none(protect_for, params, dataset, geography, year, cache)


def _earlier_year_or_none(protect, params: ReportParams, dataset: Dataset, geography: Geography, year: int,
                          *args):
    """The year's mask; ``None`` for a past year whose secondary suppression leaves a cell unprotected."""
    try:
        return protect(params, dataset, geography, year, *args)
    except secrecy.UnprotectedCells:
        if year == params.year:
            raise
        return None


def protect_years(params: ReportParams, dataset: Dataset, geography: Geography,
                  years: tuple[int, ...], cache: Path | None = None) -> dict:
    """Each year's batch mask; years run side by side on the cores when there are several.

    A mask not yet cached costs the longest step of a first report (secondary
    suppression over the whole département); the years are independent, so forked
    workers that inherit the data share the work without copying it.
    """
    workers = min(len(years), os.cpu_count() or 1)
    if workers < 2:
        return {y: _earlier_year_or_none(protect_for, params, dataset, geography, y, cache) for y in years}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _FORKED
    _FORKED = (params, dataset, geography, cache)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_mask_worker_start, initargs=(os.getpid(),)) as pool:
            return dict(zip(years, pool.map(_protect_forked, years)))
    finally:
        _FORKED = ()


def build_context(params: ReportParams, dataset: Dataset, geography: Geography,
                  protection, published: pd.DataFrame, communes: tuple[Zone, ...] = (),
                  years: tuple[int, ...] | None = None, qpv: tuple[Zone, ...] = (),
                  iris: tuple[Zone, ...] | None = None) -> ReportContext:
    """Everything the notebook prints besides the numbers (names, dates, provenance)."""
    meta = dataset.meta
    producer_dep = meta.producer_departement

    def in_area(zone) -> bool:
        if zone.level in ("region", "france"):
            return False
        if zone.level == "departement":
            return zone.code == producer_dep
        codes = [zone.code] if zone.level == "commune" else list(zone.members)
        return bool((geography.communes.loc[codes, "departement"] == producer_dep).all())

    rules = secrecy.load_rules()
    counts = published["status"].value_counts().to_dict()
    return ReportContext(
        title=params.title, year=params.year, reference_date=fmt.reference_date(params.year),
        recipient=params.recipient, purpose=params.purpose,
        zones=tuple(ReportZone(z.level, z.code, z.name, in_area(z),
                               locative(z.level, z.name, article_of(geography, z.level, z.code)))
                    for z in params.zones),
        years=evolution_years(params, dataset) if years is None else years,
        iris=tuple(ZoneRef(z.level, z.code, z.name) for z in (iris_of(params, dataset) if iris is None else iris)),
        communes=tuple(ZoneRef(z.level, z.code, z.name) for z in communes),
        geometry_folder=str(params.geography) if params.geography else "", maps=params.maps,
        qpv=tuple(QpvRef(z.level, z.code, z.name, tuple(str(geography.communes.at[c, "name"]) for c in z.members))
                  for z in qpv if z.level == "qpv"),
        hors_qpv=next((ZoneRef(z.level, z.code, z.name) for z in qpv if z.level == "hors_qpv"), None),
        population_source=(f"recensement de la population, millésime {geography.meta['population_year']} "
                           f"(Insee, via le Code officiel géographique)"),
        dataset=DatasetInfo(meta.name, bool(meta.synthetic), meta.producer, meta.reference_producer,
                            meta.rounded_to, dict(meta.generator or {})),
        secrecy=SecrecyInfo(protection.rules_version, protection.mask_hash, rules.threshold,
                            rules.infra_min_size, {k: int(counts.get(k, 0)) for k in pub.STATUSES}))


def evolution_years(params: ReportParams, dataset: Dataset, span: int = 5) -> tuple[int, ...]:
    """Every year the data hold within ``span`` years up to the report's year (2020 to 2024 in the demo).

    Each has its own mask (:func:`protect_years` computes them side by side).
    """
    return tuple(sorted({y for y in dataset.years() if params.year - span < y <= params.year} | {params.year}))


def iris_of(params: ReportParams, dataset: Dataset) -> tuple[Zone, ...]:
    """The territory's IRIS in the data (commune reports only), named as readers know them.

    A commune without an IRIS split has one IRIS, ``<commune>0000`` (INSEE's type Z),
    equal to the commune: it is no quartier, and the quartiers chapter says so.
    """
    if params.territory.level != "commune":
        return ()
    from .geometry import iris_label

    obs = dataset.observations
    codes = obs.loc[(obs["zone_level"] == "iris") & obs["zone_code"].str.startswith(params.territory.code)
                    & (obs["year"] == params.year), "zone_code"].unique()
    return tuple(Zone("iris", c, iris_label(c)) for c in sorted(codes) if not c.endswith("0000"))


def qpv_section_zones(params: ReportParams, geography: Geography) -> tuple[Zone, ...]:
    """The zones of a commune's QPV section: each QPV, the commune hors QPV, the whole commune.

    Empty for a commune without QPV and for any other level (a QPV report compares
    its QPV with its commune through its comparison zones).
    """
    territory = params.territory
    if territory.level != "commune" or not geography.qpv_of_commune(territory.code):
        return ()
    quartiers = tuple(geography.zone("qpv", q) for q in geography.qpv_of_commune(territory.code))
    return (*quartiers, geography.zone("hors_qpv", territory.code), territory)


def map_communes(params: ReportParams, geography: Geography) -> tuple[Zone, ...]:
    """The communes a report maps: those of an EPCI, a département or an aggregation."""
    territory = params.territory
    if territory.level not in ("epci", "departement", "aggregation"):
        return ()
    names = geography.communes["name"]
    return tuple(Zone("commune", c, str(names.at[c])) for c in sorted(territory.members))


def prepare(params: ReportParams, dataset: Dataset, geography: Geography, protect=None,
            cache: Path | None = None) -> Prepared:
    """Protect the data (each year the report shows) and build ``published.csv`` and the context.

    ``protect`` replaces :func:`protect_for` (same signature): a batch passes a
    memoised one, so that its hundreds of reports read each year's mask once.
    ``cache`` is where masks are read and stored (default: the machine's cache).
    """
    years = evolution_years(params, dataset)
    # Each year has its own mask; the evolution chapter reads every year's protected cells.
    if protect is None:
        protections = protect_years(params, dataset, geography, years, cache)
    else:
        protections = {y: _earlier_year_or_none(protect, params, dataset, geography, y) for y in years}
    # A past year whose mask secondary suppression cannot complete is left out of the series
    # (the same year for every report of the dataset): nothing of it is published.
    protections = {y: p for y, p in protections.items() if p is not None}
    years = tuple(protections)
    protection = protections[params.year]
    communes = map_communes(params, geography)
    qpv = qpv_section_zones(params, geography)
    iris = iris_of(params, dataset)
    # Only the cells of the zones the report shows, from each year's table (a whole département).
    shown = [z.key for z in (*params.zones, *iris, *communes, *qpv)]
    cells = pd.concat([p.cells_of(shown) for p in protections.values()], ignore_index=True)
    published = pub.build(SPECS, params.zones, params.year, cells, years=years, iris=iris,
                          communes=communes, qpv=qpv)
    context = build_context(params, dataset, geography, protection, published, communes, years, qpv, iris)
    context = with_proposal(context, params, published, protection, geography)
    return Prepared(params, dataset, protection, published, context)


def with_proposal(context: ReportContext, params: ReportParams, published: pd.DataFrame, protection,
                  geography: Geography) -> ReportContext:
    """A commune shown as a short fiche carries the aggregation its fiche proposes (published figures only)."""
    from dataclasses import replace

    from .aggregation import propose
    from .figures.fit import is_fiche
    from .figures.lookup import PublishedIndex

    if params.territory.level != "commune" or not is_fiche(context, PublishedIndex(published, params.year)):
        return context
    return replace(context, proposal=propose(params.territory.code, protection.cells, geography))


def render_metadata(prepared: Prepared, edition: dt.date) -> dict:
    """The renderer's metadata: cover, running header, footer, demonstration band."""
    ctx, params = prepared.context, prepared.params
    territory = params.territory
    level = {"commune": "Commune", "epci": "Intercommunalité", "departement": "Département",
             "region": "Région", "aggregation": "Regroupement de communes",
             "qpv": "Quartier prioritaire de la politique de la ville"}[territory.level]
    return {
        "title": params.title,
        "subtitle": f"{territory.name} — données de la Caf au {ctx.reference_date}",
        "territory": territory.name,
        "territory_level": level,
        "comparison_zones": [z.name for z in params.comparison_zones],
        "reference_date": ctx.reference_date,
        "recipient": params.recipient,
        "purpose": params.purpose,
        "source": source_line(ctx),
        "demo": bool(prepared.dataset.meta.synthetic),
        "edition_date": fmt.french_date(edition),
        # The PDF's creation date is the edition date, so that it is part of the inputs.
        "timestamp": int(dt.datetime(edition.year, edition.month, edition.day,
                                     tzinfo=dt.timezone.utc).timestamp()),
    }


def default_edition(params: ReportParams) -> dt.date:
    """The edition date printed on a report when none is given.

    ``SOURCE_DATE_EPOCH`` when set (the reproducible-builds convention), else
    the data's reference date: never the clock, so that the same inputs give
    the same bytes on any day. A re-issue passes its correction date.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.date(params.year, 12, 31)


ZONE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", re.ASCII)
"""What a zone code must look like to name a folder: COG codes (``38185``, ``2A004``, ``FR``) and
aggregation codes (:data:`params.AGGREGATION_CODE`) all do; ``..``, ``/`` and ``""`` never."""


def output_folder(params: ReportParams, root: Path | None = None) -> Path:
    """``outputs/<zone_code>/<year>/`` (the contract), checked to lie inside the outputs root.

    The parameters were validated already; this checks again where the path is
    built, so that no code from any source can point a report elsewhere.
    """
    base = Path(root or outputs_dir())
    code, year = str(params.territory.code), params.year
    target = base / code / str(year)
    inside = base.resolve() in target.resolve().parents
    if not ZONE_FOLDER.fullmatch(code) or type(year) is not int or not inside:
        raise InputError(Problem(str(base), "code de zone impropre à nommer un dossier de rapport",
                                 field="territory.code", value=code))
    return target


def build_report(prepared: Prepared, scratch: Path, *, renderer: str = "builtin",
                 edition: dt.date | None = None, kernel=None) -> dict[str, Path]:
    """Write every output file of one report into ``scratch``: the one path of every command.

    ``render`` publishes ``scratch`` as the report folder, ``batch`` does too
    after writing its fingerprint, ``verify`` compares it with a report folder
    and ``reissue`` moves it beside the earlier version.

    Parameters
    ----------
    edition
        The date printed on the report (default: :func:`default_edition`).
    kernel : abs_report.kernels.WarmKernel, optional
        A kernel already started in ``scratch`` (a batch starts the next while the
        current report runs); without it papermill starts one. The caller shuts it down.
    """
    from . import manifest, render, workbook

    started_at = dt.datetime.now(dt.timezone.utc)
    params = prepared.params
    edition = edition or default_edition(params)
    (scratch / "published.csv").write_bytes(pub.to_csv(prepared.published))
    notebook = execute(scratch / "report.ipynb", {"context_json": prepared.context.to_json(),
                                                 "published_csv": "published.csv"}, kernel=kernel)
    manifest.normalise_notebook(notebook)
    work = scratch / ".render"
    work.mkdir()
    formats = tuple(params.formats)
    try:
        produced = render.render(notebook, work, render_metadata(prepared, edition), formats, renderer)
    except render.RenderError as exc:
        exc.keep()  # the scratch folder goes with the failed build: the copy is what the message names
        raise
    for fmt_name, path in produced.items():
        shutil.move(str(path), scratch / f"report.{fmt_name}")
    shutil.rmtree(work)
    ctx = prepared.context
    workbook.write(scratch / "tables.xlsx", SPECS, prepared.published, ctx.zone_names(), source_line(ctx),
                   stamp=edition)
    manifest.write(scratch, prepared, renderer, edition, started_at)
    return {name: scratch / name for name in OUTPUT_FILES if (scratch / name).exists()}


def publish(scratch: Path, target: Path) -> None:
    """Swap a complete report folder into place in one step (see :mod:`abs_report.atomic`)."""
    atomic.publish_folder(scratch, target)


def render_report(path: Path | str, *, renderer: str = "builtin", root: Path | None = None,
                  geography: Geography | None = None) -> Path:
    """Build the report of one parameter file; returns its output folder."""
    geography = geography or load_geography()
    params, dataset = read_report_params(Path(path), geography)
    prepared = prepare(params, dataset, geography)
    target = output_folder(params, root)
    atomic.recover(target.parent)  # scratch folders of renders killed earlier
    scratch = atomic.scratch_folder(target)
    try:
        build_report(prepared, scratch, renderer=renderer)
        publish(scratch, target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target
