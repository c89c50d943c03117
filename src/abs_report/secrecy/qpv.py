"""Where QPV cut across IRIS: the pieces of the linked table (issue 15).

A QPV is not a union of IRIS. Published side by side, a commune, its IRIS,
its QPV and its part outside them (``hors_qpv``) let anyone add and subtract
figures down to pieces nobody published: a QPV ∩ IRIS piece
(``<iris9>:<qpv>``), an IRIS's part outside every QPV (``<iris9>:HQPV``).
These pieces enter the linked table as cells of level ``qpv_piece`` that are
never published, so that the suppression sees, and protects, what
differencing exposes.

Which pieces exist is public geography: the packaged ``Geometry.qpv_iris``
(QPV ∩ IRIS overlaps), completed by the ``qpv_piece`` rows of the
observations when a dataset carries some (demonstration data, hand-made
tables). Their values are known only when the observations give them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from ..geography import OUTSIDE_QPV, PIECE_LEVEL, QPV_LEVELS, Geography

QPV, HORS_QPV, QPV_DEPARTEMENT = QPV_LEVELS
INFRA_QPV_LEVELS = (QPV, HORS_QPV)
"""Infra-communal zones of the politique de la ville: hidden whole under the size threshold."""
ALL_LEVELS = (*QPV_LEVELS, PIECE_LEVEL)


def split_piece(code: str) -> tuple[str, str]:
    """``"381850601:QN03807M"`` -> ``("381850601", "QN03807M")`` (``HQPV``: outside every QPV)."""
    iris, _, qpv = code.partition(":")
    return iris, qpv


def piece_code(iris: str, qpv: str) -> str:
    """The code of the piece of ``iris`` inside ``qpv`` (or outside every QPV: ``HQPV``)."""
    return f"{iris}:{qpv}"


@dataclass(frozen=True)
class Pieces:
    """The pieces known to exist, indexed every way the relations need."""

    codes: frozenset[str]

    def __or__(self, other: "Pieces") -> "Pieces":
        return Pieces(self.codes | other.codes)

    def of_qpv(self, qpv: str) -> list[str]:
        """Pieces inside ``qpv``, in code order."""
        return sorted(c for c in self.codes if split_piece(c)[1] == qpv)

    def of_iris(self, iris: str) -> list[str]:
        """Pieces of ``iris`` (inside each QPV it meets, then outside them)."""
        return sorted(c for c in self.codes if split_piece(c)[0] == iris)

    def of_commune(self, commune: str) -> list[str]:
        """Pieces of the IRIS of ``commune``."""
        return sorted(c for c in self.codes if split_piece(c)[0][:5] == commune)

    def communes_of_qpv(self, qpv: str) -> list[str]:
        """Communes holding a piece of ``qpv``."""
        return sorted({split_piece(c)[0][:5] for c in self.of_qpv(qpv)})


def from_codes(codes: Iterable[str]) -> Pieces:
    """Pieces from observed ``qpv_piece`` codes, as given (an IRIS wholly inside a QPV has no
    outside piece)."""
    return Pieces(frozenset(str(c) for c in codes if ":" in str(c)))


WHOLLY_INSIDE = 0.999
"""Share of an IRIS inside QPV from which it has no piece outside them."""


@cache
def packaged_pieces() -> Pieces:
    """The pieces of the packaged geometry's QPV ∩ IRIS table (empty without one).

    Every IRIS meeting a QPV has a piece inside each and one outside them,
    unless the QPV cover it whole.
    """
    from ..geometry import load_geometry  # the geometry is read only when QPV are in the table

    try:
        table = load_geometry().qpv_iris
    except (KeyError, OSError, ValueError):
        return Pieces(frozenset())
    inside = {piece_code(str(i), str(q)) for i, q in zip(table["iris"], table["qpv"])}
    covered = table.groupby(table["iris"].astype(str))["share_of_iris"].sum()
    outside = {piece_code(i, OUTSIDE_QPV) for i, share in covered.items() if share < WHOLLY_INSIDE}
    return Pieces(frozenset(inside | outside))


def departement_of_qpv(geography: Geography, qpv: str, pieces: Pieces | None = None) -> str | None:
    """The département whose mask part decides a QPV.

    A QPV of the packaged list has one; otherwise that of its first commune
    (from its pieces). A QPV spanning two départements (none in Isère) is
    decided with the first one's communes.
    """
    table = getattr(geography, "qpv_table", None)
    if table is not None and qpv in table.index:
        return str(table.at[qpv, "departement"])
    communes = (pieces or packaged_pieces()).communes_of_qpv(qpv)
    for commune in communes:
        if commune in geography.communes.index:
            return str(geography.communes.at[commune, "departement"])
    return None
