"""``data fetch``: download Cafdata exports through the Explore API v2.1, then import them.

The records endpoint (``/api/explore/v2.1/catalog/datasets/<id>/records``)
returns at most 100 records a call; we page with ``offset`` until
``total_count`` is reached. The HTTP getter is injected, so tests replay
recorded JSON responses without any network. Downloaded records are written
as Cafdata CSV files (``;``, UTF-8) and imported by
:func:`abs_report.sources.importer.import_files`, which keeps them in the
dataset folder (``sources/``) as provenance.
"""

from __future__ import annotations

import csv
import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError, Problem
from ..geography import Geography, load_geography
from ..observations import Dataset
from . import importer

BASE_URL = "https://data.caf.fr/api/explore/v2.1/catalog/datasets"
PAGE_SIZE = 100
MAX_RECORDS = 10_000
"""The records endpoint refuses ``offset + limit`` above 10,000."""
TIMEOUT = 60

Getter = Callable[[str, dict], dict]
"""``getter(url, params) -> parsed JSON``; raises :class:`InputError` on failure."""


def commune_filter(departement: str, year: int) -> str:
    return f'numdep="{departement}" and dtreffre="{year}-12"'


def departement_filter(departement: str, year: int) -> str:
    return f'numdep="{departement}" and dtreffre="{year}-12"'


def national_filter(departement: str, year: int) -> str:
    return f'dtreffre="{year}-12"'


DATASETS: dict[str, tuple[Callable[[str, int], str], bool]] = {
    "s_ben_com_f": (commune_filter, True),
    "rsa_s_type_com_f": (commune_filter, False),
    "ndur_s_qf_400_com_f": (commune_filter, False),
    "s_ben_dep": (departement_filter, False),
    "s_ben_nat": (national_filter, False),
}
"""Dataset id -> (``where`` clause builder, required). EPCI, région and
France come from the national and départemental datasets or are summed from
communes by the import; EPCI datasets are not fetched because their codes
follow the year's EPCI map, not the COG the tool uses."""


def urllib_getter(url: str, params: dict) -> dict:
    """GET ``url`` with ``params`` and parse the JSON answer (stdlib only)."""
    full = f"{url}?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(full, headers={"Accept": "application/json",
                                                    "User-Agent": "abs-report"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")[:300]
        raise InputError(Problem(full, f"l'API Cafdata répond HTTP {exc.code} : {body}"))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InputError(Problem(full, f"API Cafdata injoignable : {getattr(exc, 'reason', exc)}"))
    except json.JSONDecodeError as exc:
        raise InputError(Problem(full, f"réponse de l'API Cafdata illisible (JSON attendu) : {exc}"))


def fetch_records(dataset: str, where: str, getter: Getter) -> list[dict]:
    """Every record of ``dataset`` matching ``where``, page by page."""
    url = f"{BASE_URL}/{dataset}/records"
    records: list[dict] = []
    offset = 0
    while True:
        params = {"where": where, "limit": PAGE_SIZE, "offset": offset}
        page = getter(url, params)
        if not isinstance(page, dict) or "results" not in page:
            raise InputError(Problem(url, "réponse inattendue de l'API Cafdata (pas de 'results')",
                                     value=str(page)[:200]))
        results = page["results"]
        records += results
        total = int(page.get("total_count", len(records)))
        offset += len(results)
        if not results or offset >= total:
            return records
        if offset + PAGE_SIZE > MAX_RECORDS:
            raise InputError(Problem(url, f"plus de {MAX_RECORDS} enregistrements ({total}) : "
                                     "l'API records ne les pagine pas ; restreignez la requête",
                                     field="where", value=where))


def write_csv(records: list[dict], path: Path) -> None:
    """Records as a Cafdata CSV: ``;``, UTF-8, blank for null."""
    columns = list(dict.fromkeys(k for r in records for k in r))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow([cell(record.get(c)) for c in columns])


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and abs(value) < 1e15:
        # Euros to the cent: the import refuses more decimals (1.260 could be a thousands separator).
        return f"{value:.2f}"
    return str(value)


def fetch(departement: str, year: int, into, session: Getter | None = None,
          geography: Geography | None = None, datasets=None) -> Dataset:
    """Download the Cafdata exports of a département and year, and import them into ``into``.

    Parameters
    ----------
    departement : str
        Département code (``38``, ``2A``, ``974``).
    year : int
        Reference year (December of that year).
    into : path-like
        Dataset folder, written atomically by the import.
    session : callable, optional
        ``getter(url, params) -> dict``; default :func:`urllib_getter`. Tests pass a fake.
    datasets : iterable of str, optional
        Dataset ids to download (default: every one of :data:`DATASETS`).
    """
    geography = geography or load_geography()
    departement = str(departement).upper().zfill(2) if str(departement).isdigit() else str(departement).upper()
    if departement not in geography.departements.index:
        raise InputError(Problem("--departement", "département inconnu du Code officiel géographique",
                                 field="departement", value=departement))
    getter = session or urllib_getter
    with tempfile.TemporaryDirectory(prefix="abs-report-fetch-") as scratch:
        files = download(departement, int(year), Path(scratch), getter, datasets or list(DATASETS))
        return importer.import_files(files, into, geography, keep_sources=True)


def download(departement: str, year: int, folder: Path, getter: Getter, datasets) -> list[Path]:
    files = []
    for dataset in datasets:
        build_where, required = DATASETS[dataset]
        records = fetch_records(dataset, build_where(departement, year), getter)
        if not records:
            if required:
                raise InputError(Problem(f"{BASE_URL}/{dataset}/records",
                                         f"aucun enregistrement pour le département {departement} en "
                                         f"décembre {year} (données pas encore publiées ?)",
                                         field="where", value=build_where(departement, year)))
            continue
        path = folder / f"{dataset}_{departement}_{year}.csv"
        write_csv(records, path)
        files.append(path)
    return files
