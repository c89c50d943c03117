"""Class breaks of a choropleth (mapclassify quantiles) and their French labels."""

from __future__ import annotations

from typing import Sequence

import matplotlib
import numpy as np
from matplotlib import colormaps

from .. import formatting as fmt

from .layers import _import_mapclassify
from .style import MapClass, PALETTE


def class_breaks(values: Sequence[float], k: int = 5) -> list[float]:
    """Upper bounds of up to ``k`` classes (quantiles, from mapclassify).

    Quantiles keep every class populated whatever the spread of rates; the
    classification is mapclassify's, imported here only (it loads scikit-learn).
    """
    mapclassify = _import_mapclassify()
    values = np.asarray(values, dtype=float)
    k = min(k, len(np.unique(values)))
    if k < 2:
        return [float(values.max())]
    return sorted({float(b) for b in mapclassify.Quantiles(values, k=k).bins})


def _classes(values: np.ndarray, unit: str, breaks: Sequence[float] | None, k: int) -> tuple[MapClass, ...]:
    if len(values) == 0:
        return ()
    # Bounds at the legend's precision, so that a value printed 5,4 falls in the class
    # whose label ends at 5,4 (quantiles give 5.3999999999999995).
    decimals = fmt.DECIMALS.get(unit, 1)
    breaks = list(breaks) if breaks is not None else class_breaks(values, k)
    breaks = sorted({float(b) for b in np.round(breaks, decimals)})
    lowers = [float(np.round(values.min(), decimals))] + breaks[:-1]
    cmap = colormaps[PALETTE]
    colours = [matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0.25, 0.95, len(breaks))]
    if len(breaks) == 1:
        colours = [matplotlib.colors.to_hex(cmap(0.6))]
    return tuple(MapClass(lo, hi, colour, _class_label(lo, hi, unit, first=i == 0))
                 for i, (lo, hi, colour) in enumerate(zip(lowers, breaks, colours)))


def _class_label(lower: float, upper: float, unit: str, first: bool) -> str:
    """``de 12,3 à 15,6 %`` (French numbers; the unit once, at the end)."""
    decimals = fmt.DECIMALS.get(unit, 1)
    suffix = {"percent": f"{fmt.THIN}%", "euro": f"{fmt.THIN}€"}.get(unit, "")
    low, high = fmt.number(lower, decimals), fmt.number(upper, decimals)
    if low == high:
        return f"{high}{suffix}"
    return f"{'de' if first else 'plus de'} {low} à {high}{suffix}"


def _class_of(value: float, classes: tuple[MapClass, ...], decimals: int) -> MapClass:
    value = float(np.round(value, decimals))
    for cls in classes:
        if value <= cls.upper:
            return cls
    return classes[-1]
