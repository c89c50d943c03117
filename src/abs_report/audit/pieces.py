"""What a reader knows of QPV cutting across IRIS, and the pieces it can attack (issue 15).

Public geography: which QPV ∩ IRIS pieces exist (the packaged
``Geometry.qpv_iris``: ``<iris9>:<qpv>``, and ``<iris9>:HQPV`` for the part of
an IRIS outside every QPV unless QPV cover it whole), never their values.
From them the attacker writes: IRIS = its pieces (a commune not split into
IRIS: the commune); QPV = its pieces; commune = hors QPV + its pieces inside a
QPV; ensemble des QPV of a département = its QPV. Each piece is then a cell
to bound like any hidden one. Shares no code with :mod:`abs_report.secrecy`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from ..catalogue import MEASURES

PIECE = "qpv_piece"
OUTSIDE = "HQPV"
SIZE_MEASURE = "foyers_allocataires"
INFRA_MIN = 100.0
"""A piece with fewer foyers allocataires may have none of its cells pinned."""


@cache
def geometry_pieces() -> frozenset[str]:
    """Piece codes from the packaged QPV ∩ IRIS overlaps."""
    from ..geometry import load_geometry

    try:
        table = load_geometry().qpv_iris
    except (KeyError, OSError, ValueError):
        return frozenset()
    codes = {f"{i}:{q}" for i, q in zip(table["iris"].astype(str), table["qpv"].astype(str))}
    share = table.groupby(table["iris"].astype(str))["share_of_iris"].sum()
    codes |= {f"{i}:{OUTSIDE}" for i, s in share.items() if s < 0.999}
    return frozenset(codes)


def _split(code: str) -> tuple[str, str]:
    iris, _, qpv = code.partition(":")
    return iris, qpv


def piece_facts(zones: set[tuple[str, str, str]], measures_by_zone: dict, geography,
                pieces: Iterable[str] | None = None):
    """(piece zones with their measures, facts as (total key, part keys, equal)) of every year.

    Only the pieces of communes whose QPV or hors QPV a report publishes enter:
    without them the pieces tell nothing the IRIS do not.
    """
    codes = sorted(geometry_pieces() if pieces is None else set(pieces))
    of_commune, of_qpv, of_iris = defaultdict(list), defaultdict(list), defaultdict(list)
    for code in codes:
        iris, qpv = _split(code)
        of_commune[iris[:5]].append(code)
        of_iris[iris].append(code)
        if qpv != OUTSIDE:
            of_qpv[qpv].append(code)
    piece_measures, facts = {}, []
    for year in sorted({y for _, _, y in zones}):
        qpvs = {c for lv, c, y in zones if y == year and lv == "qpv"}
        hors = {c for lv, c, y in zones if y == year and lv == "hors_qpv"}
        communes = hors | {_split(p)[0][:5] for q in qpvs for p in of_qpv.get(q, ())}
        if not communes:
            continue
        mine = sorted({p for c in communes for p in of_commune.get(c, ())})
        near = [z for z in zones if z[2] == year and (
            (z[0] in ("iris", "commune") and z[1][:5] in communes) or z[0] in ("qpv", "hors_qpv"))]
        measures = {m for z in near for m in measures_by_zone.get(z, ())
                    if MEASURES.get(m) is not None and MEASURES[m].secret}
        for p in mine:
            piece_measures[(PIECE, p, year)] = measures
        for iris in sorted({_split(p)[0] for p in mine}):
            parent = ("commune", iris[:5], year) if iris.endswith("0000") else ("iris", iris, year)
            facts.append((parent, [(PIECE, p, year) for p in of_iris[iris]]))
        for q in sorted(qpvs):
            facts.append((("qpv", q, year), [(PIECE, p, year) for p in of_qpv[q]]))
        for c in sorted(hors):
            inside = [(PIECE, p, year) for p in of_commune.get(c, ()) if _split(p)[1] != OUTSIDE]
            facts.append((("commune", c, year), [("hors_qpv", c, year)] + inside))
        for lv, dep, y in sorted(zones):
            if y == year and lv == "qpv_departement" and hasattr(geography, "qpv_of_departement"):
                facts.append(((lv, dep, year), [("qpv", q, year) for q in geography.qpv_of_departement(dep)]))
    return piece_measures, facts


def piece_fails(key, lower: float, upper: float, unit: str, bounds: dict, truth: dict) -> bool:
    """A piece's cell pinned to 1..4 (or bounded under 5), or pinned while its zone may be small.

    The piece's size is its true number of foyers allocataires when known, else
    the value the attacker pins it to; a size it cannot pin may be small.
    """
    true = truth.get(key)
    if upper <= 1e-6 or (true is not None and true <= 0):
        return False  # known to be zero: nothing is disclosed
    if unit == "count" and upper < 5.0 - 1e-6:
        return True
    exact = upper - lower < (max(1.0, 0.01 * upper) if unit == "euro" else 1.0 - 1e-6)
    if not exact:
        return False
    size_key = (*key[:3], SIZE_MEASURE)
    size = truth.get(size_key)
    if size is None:
        lo, hi = bounds.get(size_key, (0.0, float("inf")))
        size = lo if hi - lo < 1.0 - 1e-6 else 0.0
    return size < INFRA_MIN
