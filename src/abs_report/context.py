"""What a report's notebook receives besides ``published.csv``: a frozen, typed context.

The pipeline builds one :class:`ReportContext` per report (names, dates,
provenance, the secrecy summary, the erratum of a re-issue), hands it to the
notebook as JSON (papermill passes strings only) and records its version in
the manifest. The notebook reads it back with :meth:`ReportContext.from_json`:
every field is checked there, since a notebook may be re-run by an auditor on
a file that travelled.

The JSON layout is stable: the executed notebook of a report keeps the same
bytes for the same inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any


class ContextError(ValueError):
    """A context JSON that does not have the expected shape."""


def _require(data: dict, key: str, kind: type | tuple[type, ...], where: str):
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ContextError(f"contexte du rapport : champ '{where}{key}' absent ou mal formé ({value!r})")
    return value


def _optional(data: dict, key: str, kind: type | tuple[type, ...], where: str, default=None):
    return default if data.get(key) is None else _require(data, key, kind, where)


@dataclass(frozen=True)
class ZoneRef:
    """A zone as a reader sees it: level, code and name (an IRIS of the quartiers chapter)."""

    level: str
    code: str
    name: str

    def to_dict(self) -> dict:
        return {"level": self.level, "code": self.code, "name": self.name}

    @classmethod
    def from_dict(cls, data: dict, where: str = "") -> "ZoneRef":
        return cls(*(_require(data, k, str, where) for k in ("level", "code", "name")))


@dataclass(frozen=True)
class QpvRef(ZoneRef):
    """A quartier prioritaire of a commune report: with the communes it spans (one or two)."""

    communes: tuple[str, ...] = ()
    """Names of the communes the QPV lies in; a QPV's figures are those of the whole quartier."""

    def to_dict(self) -> dict:
        return {**super().to_dict(), "communes": list(self.communes)}

    @classmethod
    def from_dict(cls, data: dict, where: str = "") -> "QpvRef":
        base = ZoneRef.from_dict(data, where)
        communes = _require(data, "communes", list, where)
        if not all(isinstance(c, str) for c in communes):
            raise ContextError(f"contexte du rapport : champ '{where}communes' mal formé")
        return cls(base.level, base.code, base.name, tuple(communes))


@dataclass(frozen=True)
class ReportZone(ZoneRef):
    """The territory or a comparison zone: with its locative and whether the producer covers it."""

    in_producer_area: bool = True
    """Inside the producing Caf's area (its figures are then the Caf's own, not the Cnaf's)."""
    locative: str = ""
    """« à Grenoble », « en Isère », « dans la métropole »…: how a sentence places a figure."""

    def to_dict(self) -> dict:
        return {**super().to_dict(), "in_producer_area": self.in_producer_area, "locative": self.locative}

    @classmethod
    def from_dict(cls, data: dict, where: str = "") -> "ReportZone":
        base = ZoneRef.from_dict(data, where)
        return cls(base.level, base.code, base.name, _require(data, "in_producer_area", bool, where),
                   _require(data, "locative", str, where))


@dataclass(frozen=True)
class DatasetInfo:
    """Where the figures come from, as the source lines and the closing section print it."""

    name: str
    synthetic: bool
    producer: str
    reference_producer: str
    rounded_to: int | None = None
    generator: dict[str, Any] = field(default_factory=dict)
    """The synthetic generator's version and seed (empty for real data); read-only by convention."""

    def to_dict(self) -> dict:
        return {"name": self.name, "synthetic": self.synthetic, "producer": self.producer,
                "reference_producer": self.reference_producer, "rounded_to": self.rounded_to,
                "generator": dict(self.generator)}

    @classmethod
    def from_dict(cls, data: dict) -> "DatasetInfo":
        w = "dataset."
        return cls(_require(data, "name", str, w), _require(data, "synthetic", bool, w),
                   _require(data, "producer", str, w), _require(data, "reference_producer", str, w),
                   _optional(data, "rounded_to", int, w), dict(_optional(data, "generator", dict, w, {})))


@dataclass(frozen=True)
class SecrecyInfo:
    """The secrecy rules and mask a report was protected with, and how many cells it hides."""

    rules_version: str
    mask_hash: str
    threshold: int
    min_infra_communal: int
    counts: dict[str, int] = field(default_factory=dict)
    """Rows of ``published.csv`` per status; read-only by convention."""

    def to_dict(self) -> dict:
        return {"rules_version": self.rules_version, "mask_hash": self.mask_hash, "threshold": self.threshold,
                "min_infra_communal": self.min_infra_communal, "counts": dict(self.counts)}

    @classmethod
    def from_dict(cls, data: dict) -> "SecrecyInfo":
        w = "secrecy."
        counts = _require(data, "counts", dict, w)
        if not all(isinstance(k, str) and isinstance(v, int) for k, v in counts.items()):
            raise ContextError("contexte du rapport : champ 'secrecy.counts' mal formé")
        return cls(_require(data, "rules_version", str, w), _require(data, "mask_hash", str, w),
                   _require(data, "threshold", int, w), _require(data, "min_infra_communal", int, w), counts)


@dataclass(frozen=True)
class ErratumItem:
    """One corrected figure of a re-issue: before and after, with their statuses."""

    table_id: str
    zone_level: str
    zone_code: str
    zone_name: str
    year: int
    measure: str
    unit: str
    before: float | None
    before_status: str
    after: float | None
    after_status: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> "ErratumItem":
        w = "erratum.items."
        text = {k: _require(data, k, str, w) for k in ("table_id", "zone_level", "zone_code", "zone_name",
                                                        "measure", "unit", "before_status", "after_status")}
        numbers = {k: _optional(data, k, (int, float), w) for k in ("before", "after")}
        return cls(year=_require(data, "year", int, w), **text, **numbers)


@dataclass(frozen=True)
class Erratum:
    """What a re-issue corrects: its version and date, the version it replaces, each figure."""

    version: int
    date: str
    """ISO date of the correction."""
    replaces_version: int
    replaces_edition: str | None
    items: tuple[ErratumItem, ...]

    def to_dict(self) -> dict:
        return {"version": self.version, "date": self.date,
                "replaces": {"version": self.replaces_version, "edition": self.replaces_edition},
                "items": [item.to_dict() for item in self.items]}

    @classmethod
    def from_dict(cls, data: dict) -> "Erratum":
        w = "erratum."
        replaces = _optional(data, "replaces", dict, w, {})
        version = _require(data, "version", int, w)
        return cls(version, _require(data, "date", str, w),
                   _optional(replaces, "version", int, "erratum.replaces.", version - 1),
                   _optional(replaces, "edition", str, "erratum.replaces."),
                   tuple(ErratumItem.from_dict(i) for i in _require(data, "items", list, w)))


@dataclass(frozen=True)
class AggregationProposal:
    """The group of communes proposed for a territory too small to publish (:mod:`abs_report.aggregation`)."""

    commune: str
    communes: tuple[str, ...]
    names: tuple[str, ...]
    epci: str
    epci_name: str
    size: int
    """Foyers allocataires of the group, each commune's published count read as its band's lower bound."""
    reaches: bool
    """Whether the group reaches ``min_foyers`` (else it is the whole EPCI, still too small)."""
    contiguity: str
    """``contours`` (shared borders) or ``epci`` (membership only)."""
    code: str
    name: str
    min_foyers: int
    band: int

    def to_dict(self) -> dict:
        return {**self.__dict__, "communes": list(self.communes), "names": list(self.names)}

    @classmethod
    def from_dict(cls, data: dict) -> "AggregationProposal":
        w = "proposal."
        texts = {k: _require(data, k, str, w) for k in ("commune", "epci", "epci_name", "contiguity", "code",
                                                        "name")}
        lists = {k: tuple(_require(data, k, list, w)) for k in ("communes", "names")}
        if not all(isinstance(v, str) for v in (*lists["communes"], *lists["names"])):
            raise ContextError("contexte du rapport : champ 'proposal.communes' mal formé")
        numbers = {k: _require(data, k, int, w) for k in ("size", "min_foyers", "band")}
        return cls(reaches=_require(data, "reaches", bool, w), **texts, **lists, **numbers)


@dataclass(frozen=True)
class ReportContext:
    """Everything a report prints besides its numbers.

    ``zones`` holds the territory first, then the comparison zones; ``years``
    the years the evolution chapter compares; ``iris`` the territory's
    quartiers (commune reports only).
    """

    title: str
    year: int
    reference_date: str
    recipient: str
    purpose: str
    zones: tuple[ReportZone, ...]
    years: tuple[int, ...]
    iris: tuple[ZoneRef, ...]
    population_source: str
    dataset: DatasetInfo
    secrecy: SecrecyInfo
    erratum: Erratum | None = None
    communes: tuple[ZoneRef, ...] = ()
    """The communes the report maps (EPCI, département and aggregation reports)."""
    geometry_folder: str = ""
    """A folder written by ``abs-report geo import`` whose contours the maps use (empty: the packaged ones)."""
    maps: bool = True
    """Whether the report draws its maps (a parameter file's ``maps: false`` drops them)."""
    proposal: AggregationProposal | None = None
    """For a commune whose key figures are mostly hidden: the aggregation its fiche proposes."""
    qpv: tuple[QpvRef, ...] = ()
    """The commune's quartiers prioritaires (commune reports; empty for a commune without QPV)."""
    hors_qpv: ZoneRef | None = None
    """The commune outside its QPV (``hors_qpv`` zone), beside them in the QPV section."""

    @property
    def territory(self) -> ReportZone:
        return self.zones[0]

    @property
    def version(self) -> int:
        """1 for a first edition; a re-issue's version is its erratum's."""
        return self.erratum.version if self.erratum else 1

    def with_erratum(self, erratum: Erratum | None) -> "ReportContext":
        return replace(self, erratum=erratum)

    def zone_names(self) -> dict[tuple[str, str], str]:
        """``(zone_level, zone_code)`` -> the name a reader sees."""
        extra = (self.hors_qpv,) if self.hors_qpv else ()
        return {(z.level, z.code): z.name for z in (*self.zones, *self.iris, *self.communes, *self.qpv, *extra)}

    def to_dict(self) -> dict:
        out = {"title": self.title, "year": self.year, "reference_date": self.reference_date,
               "recipient": self.recipient, "purpose": self.purpose,
               "zones": [z.to_dict() for z in self.zones], "years": list(self.years),
               "iris": [z.to_dict() for z in self.iris], "population_source": self.population_source,
               "dataset": self.dataset.to_dict(), "secrecy": self.secrecy.to_dict()}
        if self.erratum is not None:  # a first edition's JSON has no erratum key at all
            out["erratum"] = self.erratum.to_dict()
        if self.communes:  # nor a commune report's a list of communes
            out["communes"] = [z.to_dict() for z in self.communes]
        if self.geometry_folder:
            out["geometry_folder"] = self.geometry_folder
        if not self.maps:  # only when switched off: a report with maps keeps its JSON
            out["maps"] = False
        if self.proposal is not None:  # likewise: the JSON of a full report is unchanged
            out["proposal"] = self.proposal.to_dict()
        if self.qpv:  # a commune without QPV keeps the JSON it had
            out["qpv"] = [z.to_dict() for z in self.qpv]
        if self.hors_qpv is not None:
            out["hors_qpv"] = self.hors_qpv.to_dict()
        return out

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, UTF-8 text): the notebook's ``context_json`` parameter."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "ReportContext":
        if not isinstance(data, dict):
            raise ContextError("contexte du rapport : un objet JSON est attendu")
        zones = _require(data, "zones", list, "")
        if not zones:
            raise ContextError("contexte du rapport : champ 'zones' vide")
        years = _require(data, "years", list, "")
        if not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
            raise ContextError(f"contexte du rapport : champ 'years' mal formé ({years!r})")
        erratum = data.get("erratum")
        proposal = data.get("proposal")
        hors_qpv = data.get("hors_qpv")
        return cls(
            title=_require(data, "title", str, ""), year=_require(data, "year", int, ""),
            reference_date=_require(data, "reference_date", str, ""),
            recipient=_require(data, "recipient", str, ""), purpose=_require(data, "purpose", str, ""),
            zones=tuple(ReportZone.from_dict(z, "zones.") for z in zones), years=tuple(years),
            iris=tuple(ZoneRef.from_dict(z, "iris.") for z in _require(data, "iris", list, "")),
            population_source=_require(data, "population_source", str, ""),
            dataset=DatasetInfo.from_dict(_require(data, "dataset", dict, "")),
            secrecy=SecrecyInfo.from_dict(_require(data, "secrecy", dict, "")),
            erratum=Erratum.from_dict(erratum) if erratum is not None else None,
            communes=tuple(ZoneRef.from_dict(z, "communes.") for z in _optional(data, "communes", list, "", [])),
            geometry_folder=_optional(data, "geometry_folder", str, "", ""),
            maps=_optional(data, "maps", bool, "", True),
            proposal=AggregationProposal.from_dict(proposal) if proposal is not None else None,
            qpv=tuple(QpvRef.from_dict(z, "qpv.") for z in _optional(data, "qpv", list, "", [])),
            hors_qpv=ZoneRef.from_dict(_require(data, "hors_qpv", dict, ""), "hors_qpv.")
            if hors_qpv is not None else None)

    @classmethod
    def from_json(cls, text: str) -> "ReportContext":
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ContextError(f"contexte du rapport : JSON illisible ({exc})") from None
        return cls.from_dict(data)
