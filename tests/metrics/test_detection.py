"""Detection rate on the activity database (tests/conftest.py).

Accepted rows with a detection figure, as (detected, effort):
  2018-Q4  r1 ShopMarket elephants CHN (6, 100)
  2019-Q1  r2 ShopMarket elephants CHN (4, 100)   r3 ShopMarket pangolins VNM (2, 50)
           r4 ShopResale birds USA (3, blank)
  2019-Q2  r5 ShopMarket elephants global (1, 100)  r11 SocialNet big_cats KEN (5, 20)
"""

from __future__ import annotations

import math

import pytest

from metrics import Filters, detection_rate


def test_detection_rate_per_quarter(activity):
    frame = detection_rate(activity)
    assert list(frame["period"]) == ["2018-Q4", "2019-Q1", "2019-Q2"]
    # 2019-Q1: r4 has no effort, so only r2 and r3 enter: 4 + 2 over 100 + 50
    assert list(frame["listings_detected"]) == [6, 6, 6]
    assert list(frame["search_effort"]) == [100, 150, 120]  # Q2: 100 + 20
    assert frame["detection_rate"].tolist() == pytest.approx([0.06, 0.04, 0.05], rel=1e-12)
    assert frame["detected_per_1000_searches"].tolist() == pytest.approx(
        [60.0, 40.0, 50.0], rel=1e-12
    )
    # r4's 3 detections are counted beside the rate, not in it
    without = frame["detected_without_effort"].tolist()
    assert math.isnan(without[0]) and without[1] == 3 and math.isnan(without[2])


def test_detection_rate_total_and_breakdowns(activity):
    total = detection_rate(activity, grain=None)
    # (6 + 6 + 6) / (100 + 150 + 120) = 18 / 370
    assert total["detection_rate"].tolist() == pytest.approx([18 / 370], rel=1e-12)
    assert total["detected_without_effort"].tolist() == [3]

    platforms = detection_rate(activity, by="platform", grain=None).set_index("group")
    assert platforms.loc["ShopMarket", "detection_rate"] == pytest.approx(13 / 350)  # 6+4+2+1
    assert platforms.loc["SocialNet", "detection_rate"] == pytest.approx(5 / 20)
    # ShopResale reported detections without a sweep size only: no rate
    assert math.isnan(platforms.loc["ShopResale", "detection_rate"])
    assert platforms.loc["ShopResale", "detected_without_effort"] == 3
    assert "SearchFind" not in platforms.index  # no detection figure at all

    regions = detection_rate(activity, by="region", grain=None).set_index("group")
    assert regions["detection_rate"].to_dict() == pytest.approx(
        {
            "Asia": 12 / 250,  # r1 6/100, r2 4/100, r3 2/50
            "Africa": 5 / 20,  # r11
            "Global / unspecified": 1 / 100,  # r5
            "Americas": math.nan,  # r4 only, no effort
        },
        rel=1e-12,
        nan_ok=True,
    )

    species = detection_rate(activity, by="species_group", grain=None).set_index("group")
    assert species.loc["elephants", "detection_rate"] == pytest.approx(11 / 300)  # r1 r2 r5


def test_detection_rate_filters(activity):
    frame = detection_rate(activity, Filters(period_from="2019-Q2", sectors=("e-commerce",)))
    assert list(frame["period"]) == ["2019-Q2"]
    assert frame["detection_rate"].tolist() == pytest.approx([0.01], rel=1e-12)  # r5 1/100
    frame = detection_rate(activity, Filters(period_to="2018-Q4"), grain="year")
    assert frame["detection_rate"].tolist() == pytest.approx([0.06], rel=1e-12)  # r1 only
