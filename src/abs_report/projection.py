"""Lambert-93 (EPSG:2154): the French official projection, north up, in metres.

The Lambert conformal conic projection with two standard parallels (Snyder,
*Map Projections: A Working Manual*, USGS 1987, pp. 104-107) on the GRS80
ellipsoid, with IGN's Lambert-93 constants. WGS84 and RGF93 coordinates differ
by less than a metre in metropolitan France, far below map precision, so
longitudes and latitudes from a GeoJSON file (WGS84) are projected as they
are. Written with numpy so that importing a user's contours needs no PROJ.
"""

from __future__ import annotations

import numpy as np

A = 6378137.0  # GRS80 semi-major axis, metres
F = 1 / 298.257222101  # GRS80 flattening
E = np.sqrt(2 * F - F * F)
LAT_1, LAT_2, LAT_0, LON_0 = np.radians([49.0, 44.0, 46.5, 3.0])
X_0, Y_0 = 700000.0, 6600000.0


def _m(phi):
    return np.cos(phi) / np.sqrt(1 - (E * np.sin(phi)) ** 2)


def _t(phi):
    s = E * np.sin(phi)
    return np.tan(np.pi / 4 - phi / 2) / ((1 - s) / (1 + s)) ** (E / 2)


N = (np.log(_m(LAT_1)) - np.log(_m(LAT_2))) / (np.log(_t(LAT_1)) - np.log(_t(LAT_2)))
_SCALE = A * _m(LAT_1) / (N * _t(LAT_1) ** N)
RHO_0 = _SCALE * _t(LAT_0) ** N


def to_lambert93(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitudes and latitudes (degrees) to Lambert-93 (metres).

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in decimal degrees, same shape.

    Returns
    -------
    x, y : numpy.ndarray
        Eastings and northings in metres (EPSG:2154).
    """
    rho = _SCALE * _t(np.radians(np.asarray(lat, dtype=float))) ** N
    theta = N * (np.radians(np.asarray(lon, dtype=float)) - LON_0)
    return X_0 + rho * np.sin(theta), Y_0 + RHO_0 - rho * np.cos(theta)
