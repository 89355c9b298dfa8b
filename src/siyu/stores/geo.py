"""Distances on the Earth for "nearest store". Pure: no database, no Django models.

Coordinates are degrees (latitude north positive, longitude east positive).
Distances are metres on a sphere of the Earth's mean radius; the haversine
formula is exact for a sphere and stays within about 0.5 % of the ellipsoid,
which is far below what matters when choosing the closest shop.

The database cannot compute great-circle distances cheaply (SQLite has no
trigonometry), so nearest-store search works in two steps: a bounding box
(:func:`bounding_box`) selects candidates with plain range conditions on the
indexed latitude and longitude columns, then :func:`rank_by_distance` computes
the exact distance of each candidate and sorts them.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M  # the farthest two points can be apart
COORDINATE_PLACES = 6  # 0.000001° is about 0.11 m: more precision is noise
BOX_PADDING_DEG = 1e-9  # about 0.1 mm: keeps points on the circle inside despite rounding

Number = float | int | Decimal


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float


def distance_m(lat1: Number, lng1: Number, lat2: Number, lng2: Number) -> float:
    """Great-circle (haversine) distance between two points, in metres."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi = phi2 - phi1
    dlmb = math.radians(float(lng2) - float(lng1))
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    # rounding can push h a hair outside [0, 1] for antipodal points
    h = min(1.0, max(0.0, h))
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def destination(lat: Number, lng: Number, bearing_deg: float, distance: float) -> Point:
    """The point ``distance`` metres from (lat, lng) along the initial ``bearing_deg``."""
    phi1, lmb1 = math.radians(float(lat)), math.radians(float(lng))
    theta = math.radians(bearing_deg)
    delta = distance / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(min(1.0, max(-1.0, sin_phi2)))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * sin_phi2,
    )
    return Point(math.degrees(phi2), normalize_lng(math.degrees(lmb2)))


def normalize_lng(lng: float) -> float:
    """Longitude folded into [-180, 180)."""
    return (lng + 180.0) % 360.0 - 180.0


def parse_coordinate(value: object) -> Decimal | None:
    """A finite Decimal from a number or numeric string, or None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def latitude_error(value: object) -> str | None:
    """Why ``value`` is not a latitude, or None."""
    lat = parse_coordinate(value)
    if lat is None:
        return _("Enter the latitude as a number of degrees, e.g. 31.230416.")
    if not Decimal(-90) <= lat <= Decimal(90):
        return _("Latitude must be between -90 and 90.")
    return None


def longitude_error(value: object) -> str | None:
    """Why ``value`` is not a longitude, or None."""
    lng = parse_coordinate(value)
    if lng is None:
        return _("Enter the longitude as a number of degrees, e.g. 121.473701.")
    if not Decimal(-180) <= lng <= Decimal(180):
        return _("Longitude must be between -180 and 180.")
    return None


def coordinate_errors(latitude: object, longitude: object) -> dict[str, str]:
    """Field → reason for coordinates that are missing, not numbers or out of range."""
    errors: dict[str, str] = {}
    if (reason := latitude_error(latitude)) is not None:
        errors["latitude"] = reason
    if (reason := longitude_error(longitude)) is not None:
        errors["longitude"] = reason
    return errors


def quantize(value: Decimal) -> Decimal:
    """Round to the 6 decimal places the database keeps."""
    return value.quantize(Decimal(1).scaleb(-COORDINATE_PLACES))


@dataclass(frozen=True)
class BoundingBox:
    """Every point within the radius lies inside; ``lng_ranges`` splits at the antimeridian."""

    min_lat: float
    max_lat: float
    lng_ranges: tuple[tuple[float, float], ...]

    def contains(self, lat: float, lng: float) -> bool:
        if not self.min_lat <= lat <= self.max_lat:
            return False
        return any(lo <= lng <= hi for lo, hi in self.lng_ranges)


def bounding_box(lat: Number, lng: Number, radius_m: float) -> BoundingBox:
    """The smallest latitude/longitude box around the circle of ``radius_m`` metres.

    Near a pole, or for radii beyond half the globe, every longitude qualifies.
    A box that crosses the antimeridian (±180°) is returned as two longitude
    ranges, so a database prefilter stays a pair of range conditions.
    """
    if radius_m < 0:
        raise ValueError("radius must not be negative")
    phi = math.radians(float(lat))
    delta = radius_m / EARTH_RADIUS_M  # angular radius
    pad = math.radians(BOX_PADDING_DEG)
    min_phi, max_phi = phi - delta - pad, phi + delta + pad
    if delta >= math.pi or max_phi >= math.pi / 2 or min_phi <= -math.pi / 2:
        # the circle reaches a pole: all longitudes, latitude clamped
        return BoundingBox(
            max(-90.0, math.degrees(min_phi)),
            min(90.0, math.degrees(max_phi)),
            ((-180.0, 180.0),),
        )
    # widest longitude extent of a circle of angular radius delta at latitude phi
    dlmb = math.degrees(math.asin(min(1.0, math.sin(delta) / math.cos(phi)))) + BOX_PADDING_DEG
    center = float(lng)
    lo, hi = center - dlmb, center + dlmb
    if lo < -180.0:
        ranges: tuple[tuple[float, float], ...] = ((lo + 360.0, 180.0), (-180.0, hi))
    elif hi > 180.0:
        ranges = ((lo, 180.0), (-180.0, hi - 360.0))
    else:
        ranges = ((lo, hi),)
    return BoundingBox(math.degrees(min_phi), math.degrees(max_phi), ranges)


def rank_by_distance[T](
    origin_lat: Number,
    origin_lng: Number,
    items: Iterable[T],
    position: Callable[[T], tuple[Number, Number]],
    *,
    limit: int | None = None,
    max_distance_m: float | None = None,
) -> list[tuple[float, T]]:
    """``(distance_m, item)`` pairs, nearest first (ties keep the input order).

    ``position(item)`` gives the item's (lat, lng). Items farther than
    ``max_distance_m`` are left out; ``limit`` keeps only the nearest ones.
    """
    lat0, lng0 = float(origin_lat), float(origin_lng)
    measured: list[tuple[float, int, T]] = []
    for index, item in enumerate(items):
        lat, lng = position(item)
        d = distance_m(lat0, lng0, lat, lng)
        if max_distance_m is None or d <= max_distance_m:
            measured.append((d, index, item))
    if limit is not None:
        chosen = heapq.nsmallest(limit, measured, key=lambda m: (m[0], m[1]))
    else:
        chosen = sorted(measured, key=lambda m: (m[0], m[1]))
    return [(d, item) for d, _index, item in chosen]


def format_distance(metres: float) -> str:
    """``850 m``, ``3.2 km``, ``120 km``: how far, the way a customer reads it."""
    if metres < 1000:
        return f"{round(metres):d} m"
    if metres < 100_000:
        return f"{metres / 1000:.1f} km"
    return f"{round(metres / 1000):d} km"
