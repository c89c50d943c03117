"""The Code officiel géographique: communes, EPCI, départements, régions, France, and QPV.

Read once from the compact file derived by ``scripts/build_geography.py``.
The quartiers prioritaires de la politique de la ville (QPV 2024, ANCT) are a
zone level of their own (issue 15): a QPV lies in one or two communes, and
each commune with QPV has a ``hors_qpv`` part; ``qpv_departement`` is the sum
of a département's QPV.
Zone codes are strings everywhere (``01001``, ``2A004``); a zone is identified
by its level *and* its code, because codes repeat across levels (``84`` is both
Vaucluse and Auvergne-Rhône-Alpes).
"""

from __future__ import annotations

import difflib
import gzip
import json
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType

import pandas as pd

from .errors import EXIT_BAD_INPUT, AbsReportError

LEVELS = ("iris", "qpv", "commune", "aggregation", "epci", "departement", "region", "france")
"""From the finest to the widest; ``aggregation`` is a user-defined group of communes.

``qpv`` cuts across IRIS (it is not a union of IRIS) and may span two communes."""

QPV_LEVELS = ("qpv", "hors_qpv", "qpv_departement")
"""Zone levels of the politique de la ville: a QPV, a commune outside its QPV, a département's QPV."""

PIECE_LEVEL = "qpv_piece"
"""Never-published pieces ``<iris9>:<qpv>`` / ``<iris9>:HQPV`` (QPV ∩ IRIS, IRIS outside QPV)."""

OUTSIDE_QPV = "HQPV"

LEVEL_LABELS = MappingProxyType(
    {
        "iris": "IRIS",
        "qpv": "QPV",
        "hors_qpv": "commune hors QPV",
        "qpv_departement": "ensemble des QPV",
        "commune": "commune",
        "aggregation": "regroupement de communes",
        "epci": "EPCI",
        "departement": "département",
        "region": "région",
        "france": "France",
    }
)
FRANCE_CODE = "FR"


class UnknownZone(AbsReportError, LookupError):
    """A zone code that the geography does not know, with close matches (bad input, exit 2)."""

    exit_status = EXIT_BAD_INPUT
    label = "erreur"

    def __init__(self, level: str, code: str, suggestions: list[str]):
        self.level, self.code, self.suggestions = level, code, suggestions
        hint = f" Vouliez-vous dire : {', '.join(suggestions)} ?" if suggestions else ""
        source = ("de la liste des QPV 2024 (ANCT)" if level in QPV_LEVELS
                  else "du Code officiel géographique")
        super().__init__(f"code {LEVEL_LABELS.get(level, level)} inconnu {source} : {code!r}.{hint}")


@dataclass(frozen=True)
class Zone:
    """A territory: its level, code, French name and, for groups, member communes."""

    level: str
    code: str
    name: str
    members: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.level, self.code)


def _fold(text: str) -> str:
    """Lower case without accents, for forgiving name matching."""
    norm = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in norm if not unicodedata.combining(c)).lower().replace("-", " ")
    return " ".join(bare.split())


def _fold_qpv(text: str) -> str:
    """A QPV name reduced to its letters and digits (Cafdata spells names loosely)."""
    return "".join(c for c in _fold(text) if c.isalnum())


def _of_name(article: int, name: str) -> str:
    """French "of <département>": ``de l'Isère``, ``du Rhône``, ``de la Drôme``, ``des Yvelines``."""
    return {2: "du ", 3: "de la ", 4: "des ", 5: "de l'"}.get(article, "de ") + name


class Geography:
    """Communes, EPCI, départements and régions of one COG vintage."""

    def __init__(self, payload: dict):
        self.meta = MappingProxyType(payload["meta"])
        self.communes = pd.DataFrame(payload["communes"], columns=payload["communes_columns"]).set_index("code")
        self.epcis = pd.DataFrame(payload["epci"], columns=payload["epci_columns"]).set_index("code")
        self.departements = pd.DataFrame(
            payload["departements"], columns=payload["departements_columns"]
        ).set_index("code")
        self.regions = pd.DataFrame(payload["regions"], columns=payload["regions_columns"]).set_index("code")
        self.former_codes = MappingProxyType(payload["former_codes"])
        self._epci_members = MappingProxyType(
            {code: tuple(members) for code, members in self.epcis["members"].items()}
        )
        columns = payload.get("qpv_columns", ["code", "name", "communes", "epci", "departement"])
        self.qpv_table = pd.DataFrame(payload.get("qpv", []), columns=columns).set_index("code")
        """QPV indexed by code: ``name``, ``communes`` (tuple of codes), ``epci``, ``departement``."""
        self.qpv_table["communes"] = [tuple(c) for c in self.qpv_table["communes"]]

    # --- look-ups -------------------------------------------------------
    def current_commune_code(self, code: str) -> str | None:
        """Today's code of a commune, following merges (``anciensCodes``); None if unknown."""
        if code in self.communes.index:
            return code
        return self.former_codes.get(code)

    def zone(self, level: str, code: str) -> Zone:
        """The zone of ``level`` with ``code``; raises :class:`UnknownZone` with suggestions."""
        code = str(code)
        if level == "france":
            if code.upper() not in (FRANCE_CODE, "FRANCE"):
                raise UnknownZone(level, code, [FRANCE_CODE])
            return Zone("france", FRANCE_CODE, "France")
        if level in ("hors_qpv", "qpv_departement"):
            return self._qpv_part(level, code)
        table = self._table(level)
        if code not in table.index:
            raise UnknownZone(level, code, self.suggest(level, code))
        return Zone(level, code, str(table.at[code, "name"]), self.member_communes_of(level, code))

    def _qpv_part(self, level: str, code: str) -> Zone:
        """A commune's part outside its QPV, or all the QPV of a département."""
        if level == "hors_qpv":
            if not self.qpv_of_commune(code):
                with_qpv = sorted({c for cs in self.qpv_table["communes"] for c in cs})
                raise UnknownZone(level, code, [f"{c} ({self.communes.at[c, 'name']})" for c in
                                                difflib.get_close_matches(code, with_qpv, n=3, cutoff=0.6)])
            return Zone(level, code, f"{self.communes.at[code, 'name']} hors QPV", (code,))
        if not self.qpv_of_departement(code):
            deps = sorted(set(self.qpv_table["departement"]))
            raise UnknownZone(level, code, difflib.get_close_matches(code, deps, n=3, cutoff=0.5))
        name = _of_name(int(self.departements.at[code, "article"]), self.departements.at[code, "name"])
        return Zone(level, code, f"ensemble des QPV {name}", self.member_communes_of(level, code))

    def _table(self, level: str) -> pd.DataFrame:
        tables = {"commune": self.communes, "epci": self.epcis, "departement": self.departements,
                  "region": self.regions, "qpv": self.qpv_table}
        if level not in tables:
            raise ValueError(f"level {level!r} is not a COG level; expected one of {sorted(tables)}")
        return tables[level]

    def suggest(self, level: str, text: str, n: int = 3) -> list[str]:
        """Close matches for a mistyped code or name, as ``code (name)``."""
        table = self._table(level)
        by_code = difflib.get_close_matches(text, list(table.index), n=n, cutoff=0.6)
        folded = {_fold(name): code for code, name in table["name"].items()}
        by_name = [folded[f] for f in difflib.get_close_matches(_fold(text), list(folded), n=n, cutoff=0.7)]
        seen = list(dict.fromkeys(by_name + by_code))[:n]
        return [f"{c} ({table.at[c, 'name']})" for c in seen]

    # --- membership -----------------------------------------------------
    def member_communes_of(self, level: str, code: str) -> tuple[str, ...]:
        """The current communes that make up a zone (empty for a commune itself)."""
        if level == "commune":
            return ()
        if level == "qpv":
            return self.qpv_table.at[code, "communes"]
        if level == "hors_qpv":
            return (code,)
        if level == "qpv_departement":
            return tuple(sorted({c for q in self.qpv_of_departement(code)
                                 for c in self.qpv_table.at[q, "communes"]}))
        if level == "epci":
            return self._epci_members[code]
        if level == "departement":
            return tuple(self.communes.index[self.communes["departement"] == code].tolist())
        if level == "region":
            return tuple(self.communes.index[self.communes["region"] == code].tolist())
        if level == "france":
            return tuple(self.communes.index.tolist())
        raise ValueError(f"no member communes for level {level!r}")

    def aggregation(self, code: str, name: str, communes: list[str]) -> Zone:
        """A user-defined group of communes (former codes mapped to today's)."""
        members = []
        for c in communes:
            current = self.current_commune_code(str(c))
            if current is None:
                raise UnknownZone("commune", str(c), self.suggest("commune", str(c)))
            members.append(current)
        return Zone("aggregation", code, name, tuple(sorted(set(members))))

    def parent_chain(self, zone: Zone) -> list[Zone]:
        """The default comparison zones: every level above the territory, up to France."""
        if zone.level in ("commune", "aggregation", "iris"):
            first = zone.code[:5] if zone.level == "iris" else (zone.code if zone.level == "commune" else zone.members[0])
            row = self.communes.loc[first]
            chain = []
            if zone.level != "aggregation" and row["epci"]:
                chain.append(self.zone("epci", row["epci"]))
            if zone.level == "iris":
                chain.insert(0, self.zone("commune", first))
            chain += [self.zone("departement", row["departement"]), self.zone("region", row["region"])]
        elif zone.level == "epci":
            deps = self.communes.loc[list(zone.members), "departement"]
            main_dep = deps.value_counts().index[0]
            chain = [self.zone("departement", main_dep),
                     self.zone("region", self.departements.at[main_dep, "region"])]
        elif zone.level == "departement":
            chain = [self.zone("region", self.departements.at[zone.code, "region"])]
        elif zone.level == "region":
            chain = []
        else:
            return []
        return chain + [self.zone("france", FRANCE_CODE)]

    # --- quartiers prioritaires (QPV 2024) ------------------------------
    def qpv_of_commune(self, commune: str) -> tuple[str, ...]:
        """Codes of the QPV lying (partly) in a commune, in code order."""
        return tuple(code for code, communes in self.qpv_table["communes"].items() if commune in communes)

    def qpv_of_departement(self, dep: str) -> tuple[str, ...]:
        """Codes of the QPV of a département, in code order."""
        return tuple(self.qpv_table.index[self.qpv_table["departement"] == dep])

    def qpv_by_name(self, text: str) -> tuple[str, ...]:
        """Codes of the QPV whose name matches ``text`` ignoring case, accents, hyphens and spacing.

        More than one code means the name is ambiguous; none means unknown.
        """
        key = _fold_qpv(text)
        return tuple(code for code, name in self.qpv_table["name"].items() if _fold_qpv(name) == key)

    def epcis_of_departement(self, dep: str) -> list[str]:
        """EPCI with at least one member commune in the département."""
        epcis = self.communes.loc[self.communes["departement"] == dep, "epci"]
        return sorted(c for c in epcis.unique() if c)

    def population(self, zone: Zone) -> int:
        """Population municipale of the zone (sum of its communes).

        Raises
        ------
        ValueError
            For a QPV level: the COG has no population for a part of a commune.
        """
        if zone.level in QPV_LEVELS:
            raise ValueError(f"no legal population for a zone of level {zone.level!r} in the COG")
        if zone.level == "commune":
            return int(self.communes.at[zone.code, "population"])
        return int(self.communes.loc[list(zone.members), "population"].sum())


@cache
def load_geography() -> Geography:
    """The packaged COG (read once per process)."""
    raw = resources.files("abs_report.data").joinpath("geography.json.gz").read_bytes()
    return Geography(json.loads(gzip.decompress(raw)))


def locative(level: str, name: str, article: int = 0) -> str:
    """French "in <zone>": ``à Grenoble``, ``au Pont-de-Claix``, ``en Isère``, ``dans le Rhône``.

    ``article`` is INSEE's TNCC code (0/1 no article, 2 le, 3 la, 4 les, 5 l').
    Commune names carry their article (``Le Pont-de-Claix``); département and
    région names do not (``Rhône``).
    """
    if level == "france":
        return "en France"
    if level == "commune":
        for prefix, contracted in (("Le ", "au "), ("Les ", "aux ")):
            if name.startswith(prefix):
                return contracted + name[len(prefix):]
        return "à " + name
    if level in ("departement", "region"):
        return {2: "dans le ", 4: "dans les "}.get(article, "en ") + name
    if level == "epci":
        return "dans l'intercommunalité " + name
    if level == "qpv":
        return "dans le quartier " + name
    if level == "hors_qpv":
        return locative("commune", name)
    if level == "qpv_departement":
        return "dans l'" + name
    return "dans le territoire " + name


def article_of(geography: "Geography", level: str, code: str) -> int:
    """TNCC article code of a commune, département or région (0 otherwise)."""
    table = {"commune": geography.communes, "departement": geography.departements,
             "region": geography.regions}.get(level)
    if table is None or "article" not in table.columns or code not in table.index:
        return 0
    return int(table.at[code, "article"])
