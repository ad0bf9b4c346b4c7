"""The dashboard's SVG charts: weights and CTR over time on a shared, labelled time axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from vibeshelf.analytics.events import Counts
from vibeshelf.experiment.report import (
    HEIGHT,
    PAD,
    WIDTH,
    TimeAxis,
    ctr_history_chart,
    cumulative,
    surface_charts,
    weight_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    pairs = (p.split(",") for p in polyline.attrib["points"].split())
    return [(float(x), float(y)) for x, y in pairs]


def lines(svg: str) -> dict[str, list[tuple[float, float]]]:
    """Each version's polyline points, by the version named in its <title>."""
    root = ET.fromstring(svg)
    return {p.findtext(f"{SVG}title") or "": points(p) for p in root.iter(f"{SVG}polyline")}


def time_labels(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "time"]


def test_cumulative_ctr_adds_up_each_bucket() -> None:
    buckets = [(T0, Counts(10, 1)), (T0 + timedelta(minutes=1), Counts(30, 9))]
    assert cumulative(buckets) == [
        {"ts": "2024-05-01T12:00:00+00:00", "impressions": 10, "clicks": 1, "ctr": 0.1},
        {"ts": "2024-05-01T12:01:00+00:00", "impressions": 40, "clicks": 10, "ctr": 0.25},
    ]


def test_time_axis_maps_its_ends_to_the_frame_and_labels_them_in_utc() -> None:
    axis = TimeAxis.spanning([T0 + timedelta(minutes=5), T0], T0 + timedelta(minutes=10))
    assert axis.x(T0) == PAD and axis.x(axis.end) == WIDTH - PAD
    assert axis.x(T0 + timedelta(minutes=5)) == pytest.approx(WIDTH / 2)
    svg = f'<svg xmlns="http://www.w3.org/2000/svg">{axis.labels()}</svg>'
    assert time_labels(svg) == ["12:00:00", "12:05:00", "12:10:00 UTC"]
    days = TimeAxis(T0, T0 + timedelta(days=3)).labels()
    assert "05-01 12:00" in days and "05-04 12:00 UTC" in days
    assert TimeAxis.spanning([], T0).end > T0  # no data: still a valid axis


def test_weight_chart_draws_steps_in_time_from_each_versions_first_change() -> None:
    history = [
        {"ts": T0.isoformat(), "reason": "activate", "weights": {"a": 100.0}},
        {"ts": (T0 + timedelta(minutes=2)).isoformat(), "reason": "activate",
         "weights": {"a": 99.0, "b": 1.0}},
        {"ts": (T0 + timedelta(minutes=6)).isoformat(), "reason": "bandit",
         "weights": {"a": 20.0, "b": 80.0}},
    ]
    axis = TimeAxis(T0, T0 + timedelta(minutes=8))
    svg = weight_chart(["a", "b", "never-active"], history, axis)
    drawn = lines(svg)
    assert set(drawn) == {"a", "b"}
    y = lambda w: HEIGHT - PAD - (HEIGHT - 2 * PAD) * w / 100
    x = lambda minutes: axis.x(T0 + timedelta(minutes=minutes))
    expected_b = [(x(2), y(1)), (x(6), y(1)), (x(6), y(80)), (x(8), y(80))]
    assert drawn["b"] == [(pytest.approx(px, abs=0.05), pytest.approx(py, abs=0.05))
                          for px, py in expected_b]
    assert drawn["a"][0][0] == pytest.approx(PAD) and len(drawn["a"]) == 6
    assert time_labels(svg)[-1] == "12:08:00 UTC"
    assert 'class="chart chart-weights"' in svg


def test_ctr_history_chart_has_a_point_per_bucket_scaled_to_the_highest_ctr() -> None:
    rows = [
        {"name": "a", "ctr_history": cumulative([(T0, Counts(10, 1)), (T0 + timedelta(hours=1),
                                                                     Counts(10, 3))])},
        {"name": "b", "ctr_history": cumulative([(T0 + timedelta(hours=1), Counts(4, 2))])},
        {"name": "c", "ctr_history": []},
    ]
    axis = TimeAxis(T0, T0 + timedelta(hours=2))
    svg = ctr_history_chart(rows, axis)
    drawn = lines(svg)
    assert set(drawn) == {"a", "b"}
    top_y, bottom_y = PAD, HEIGHT - PAD  # b's 50% is the highest CTR: the top of the frame
    assert drawn["b"] == [(pytest.approx(WIDTH / 2), pytest.approx(top_y))]
    (x0, y0), (x1, y1) = drawn["a"]
    assert x0 == pytest.approx(PAD) and x1 == pytest.approx(WIDTH / 2)
    assert y0 == pytest.approx(bottom_y - (bottom_y - top_y) * 0.1 / 0.5, abs=0.05)
    assert y1 == pytest.approx(bottom_y - (bottom_y - top_y) * 0.2 / 0.5, abs=0.05)
    assert len(list(ET.fromstring(svg).iter(f"{SVG}circle"))) == 3
    assert time_labels(svg) == ["12:00", "13:00", "14:00 UTC"]
    assert "50.0%" in svg and 'class="chart chart-ctr-history"' in svg


def test_surface_charts_share_one_axis_from_the_first_event_to_now() -> None:
    data = {
        "history": [{"ts": (T0 + timedelta(minutes=1)).isoformat(), "reason": "activate",
                     "weights": {"a": 100.0}}],
        "versions": [{"name": "a", "impressions": 3, "clicks": 1, "ctr": 1 / 3, "ctr_low": 0.1,
                      "ctr_high": 0.8, "ctr_history": cumulative([(T0, Counts(3, 1))])}],
    }
    charts = surface_charts(data, T0 + timedelta(minutes=4))
    assert set(charts) == {"weights", "ctr_history", "ctr"}
    assert time_labels(charts["weights"]) == time_labels(charts["ctr_history"]) == [
        "12:00:00", "12:02:00", "12:04:00 UTC"
    ]
    assert lines(charts["weights"])["a"][0][0] == pytest.approx(PAD + (WIDTH - 2 * PAD) / 4)
