"""Pure geometry: distances, bounding boxes, ranking. No database."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from siyu.stores import geo

lats = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False)
lngs = st.floats(min_value=-180, max_value=180, allow_nan=False, exclude_max=True)
points = st.tuples(lats, lngs)

# People's Square and the Oriental Pearl Tower, Shanghai
PEOPLES_SQUARE = (31.230416, 121.473701)
PEARL_TOWER = (31.239689, 121.499763)


def test_known_distances():
    # one degree of latitude on the mean sphere
    assert geo.distance_m(0, 0, 1, 0) == pytest.approx(111_195, abs=1)
    # a quarter of the equator
    assert geo.distance_m(0, 0, 0, 90) == pytest.approx(math.pi * geo.EARTH_RADIUS_M / 2)
    # across the Huangpu: about 2.68 km (map apps say 2.7 km)
    assert geo.distance_m(*PEOPLES_SQUARE, *PEARL_TOWER) == pytest.approx(2_680, abs=10)
    # Shanghai to Beijing (Tiananmen): about 1,067 km
    assert geo.distance_m(*PEOPLES_SQUARE, 39.908722, 116.397499) == pytest.approx(
        1_067_000, rel=0.005
    )


def test_antipodes_and_decimals():
    assert geo.distance_m(0, 0, 0, 180) == pytest.approx(geo.HALF_CIRCUMFERENCE_M)
    assert geo.distance_m(Decimal("31.230416"), Decimal("121.473701"), *PEARL_TOWER) == (
        pytest.approx(geo.distance_m(*PEOPLES_SQUARE, *PEARL_TOWER))
    )


@given(points)
def test_distance_to_itself_is_zero(p):
    assert geo.distance_m(*p, *p) == pytest.approx(0, abs=1e-6)


@given(points, points)
def test_distance_is_symmetric_and_bounded(a, b):
    d = geo.distance_m(*a, *b)
    assert d == pytest.approx(geo.distance_m(*b, *a), abs=1e-6)
    assert 0 <= d <= geo.HALF_CIRCUMFERENCE_M + 1e-6


@given(points, points, points)
def test_triangle_inequality(a, b, c):
    assert geo.distance_m(*a, *c) <= geo.distance_m(*a, *b) + geo.distance_m(*b, *c) + 1e-3


@given(points, st.floats(0, 360), st.floats(0, 2_000_000))
def test_destination_is_at_the_distance_walked(p, bearing, distance):
    q = geo.destination(*p, bearing, distance)
    assert geo.distance_m(*p, q.lat, q.lng) == pytest.approx(distance, abs=0.01)


@given(points, st.floats(0, 360), st.floats(0, 1), st.floats(1, 3_000_000))
def test_every_point_within_the_radius_lies_in_the_box(center, bearing, fraction, radius):
    q = geo.destination(*center, bearing, radius * fraction)
    box = geo.bounding_box(*center, radius)
    assert box.contains(q.lat, q.lng), (center, q, box)


@given(points, st.floats(100, 500_000))
def test_box_is_not_much_bigger_than_needed(center, radius):
    assume(abs(center[0]) < 80)
    box = geo.bounding_box(*center, radius)
    degrees_of_radius = math.degrees(radius / geo.EARTH_RADIUS_M)
    assert box.max_lat - box.min_lat == pytest.approx(2 * degrees_of_radius, rel=1e-6, abs=1e-8)


def test_box_splits_at_the_antimeridian_and_opens_at_the_poles():
    fiji = geo.bounding_box(-17.7, 179.9, 50_000)
    assert len(fiji.lng_ranges) == 2
    assert fiji.contains(-17.7, -179.8)
    assert fiji.contains(-17.7, 179.5)
    assert not fiji.contains(-17.7, 0)
    near_pole = geo.bounding_box(89.5, 10, 100_000)
    assert near_pole.lng_ranges == ((-180.0, 180.0),)
    assert near_pole.max_lat == 90.0
    with pytest.raises(ValueError, match="negative"):
        geo.bounding_box(0, 0, -1)


def test_rank_by_distance_sorts_limits_and_cuts_at_the_radius():
    stores = {
        "pearl": PEARL_TOWER,
        "square": PEOPLES_SQUARE,
        "xujiahui": (31.195533, 121.437332),
        "beijing": (39.908722, 116.397499),
    }
    origin = (31.2304, 121.4737)
    ranked = geo.rank_by_distance(*origin, stores, lambda name: stores[name])
    assert [name for _d, name in ranked] == ["square", "pearl", "xujiahui", "beijing"]
    assert [d for d, _name in ranked] == sorted(d for d, _name in ranked)
    assert [n for _d, n in geo.rank_by_distance(*origin, stores, stores.get, limit=2)] == [
        "square",
        "pearl",
    ]
    near = geo.rank_by_distance(*origin, stores, stores.get, max_distance_m=10_000)
    assert [n for _d, n in near] == ["square", "pearl", "xujiahui"]


def test_ties_keep_the_input_order():
    same = [("a", (31.0, 121.0)), ("b", (31.0, 121.0)), ("c", (31.0, 121.0))]
    ranked = geo.rank_by_distance(31.1, 121.0, same, lambda item: item[1], limit=2)
    assert [item[0] for _d, item in ranked] == ["a", "b"]


@pytest.mark.parametrize(
    ("lat", "lng", "fields"),
    [
        (31.2, 121.4, set()),
        ("31.230416", "121.473701", set()),
        (90, -180, set()),
        (90.0001, 121, {"latitude"}),
        (31, 180.5, {"longitude"}),
        ("north", None, {"latitude", "longitude"}),
        (float("nan"), float("inf"), {"latitude", "longitude"}),
        (True, 121, {"latitude"}),
    ],
)
def test_coordinate_errors_name_the_field(lat, lng, fields):
    assert set(geo.coordinate_errors(lat, lng)) == fields


def test_quantize_and_format():
    assert geo.quantize(Decimal("31.2304161234")) == Decimal("31.230416")
    assert geo.format_distance(849.6) == "850 m"
    assert geo.format_distance(3_240) == "3.2 km"
    assert geo.format_distance(1_067_000) == "1067 km"
    assert geo.normalize_lng(190) == -170
