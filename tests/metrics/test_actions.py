"""Actions (removed + blocked) and proactive share on the activity database (tests/conftest.py,
rows r1..r12). Every expected figure is worked out from those rows in the comment beside it.

Accepted rows by quarter, as (removed, blocked):
  2018-Q4  r1 (10, 30)
  2019-Q1  r2 (20, 60)  r3 (5, 5)  r4 (blank, 4)  r7 (1, 0) [2019-01]  r8 (2, 0) [2019-02]
  2019-Q2  r5 (10, 10)  r6 (0, 0)  r11 (8, 2)  r12 (3, 7)
r9 (SocialNet 2019-03, 100 + 100) is submitted, not yet accepted; r10 (SocialNet 2018-Q4,
1000 + 1000) was returned.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from coalition import store
from metrics import Filters, actions, proactive_share

GLOBAL = "Global / unspecified"


def by_period(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return dict(zip(frame["period"], frame[column], strict=True))


def by_group(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return dict(zip(frame["group"], frame[column], strict=True))


def total(con, **filters) -> float:
    frame = actions(con, Filters(**filters), grain=None)
    assert len(frame) <= 1
    return frame["actions"].sum()


# --- Actions per period and cumulative -----------------------------------------------------


def test_actions_per_quarter_with_running_total(activity):
    frame = actions(activity)
    assert list(frame["group"].unique()) == ["All"]
    assert list(frame["period"]) == ["2018-Q4", "2019-Q1", "2019-Q2"]
    # 2019-Q1 removed: 20 + 5 + 1 + 2 = 28 (r4 blank adds nothing); Q2: 10 + 0 + 8 + 3 = 21
    assert list(frame["listings_removed"]) == [10, 28, 21]
    # 2019-Q1 blocked: 60 + 5 + 4 + 0 + 0 = 69; Q2: 10 + 0 + 2 + 7 = 19
    assert list(frame["listings_blocked"]) == [30, 69, 19]
    assert list(frame["actions"]) == [40, 97, 40]  # 10+30, 28+69, 21+19
    assert list(frame["cumulative_actions"]) == [40, 137, 177]  # 40, 40+97, 137+40
    # Q4: shopco/ShopMarket; Q1: shopco, socialco / ShopMarket, ShopResale, SocialNet;
    # Q2: all three partners, all four platforms
    assert list(frame["partners_reporting"]) == [1, 2, 3]
    assert list(frame["platforms_reporting"]) == [1, 3, 4]


def test_actions_per_month_place_a_quarter_at_its_last_month(activity):
    frame = actions(activity, grain="month")
    assert by_period(frame, "actions") == {
        "2018-12": 40,  # r1 (2018-Q4)
        "2019-01": 1,  # r7
        "2019-02": 2,  # r8
        "2019-03": 94,  # r2 80 + r3 10 + r4 4 (2019-Q1 rows)
        "2019-06": 40,  # r5 20 + r6 0 + r11 10 + r12 10 (2019-Q2 rows)
    }
    assert list(frame["cumulative_actions"]) == [40, 41, 43, 137, 177]


def test_actions_per_year(activity):
    frame = actions(activity, grain="year")
    assert by_period(frame, "actions") == {"2018": 40, "2019": 137}  # 97 + 40
    assert by_period(frame, "cumulative_actions") == {"2018": 40, "2019": 177}


def test_actions_total_without_grain(activity):
    frame = actions(activity, grain=None)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["listings_removed"] == 59  # 10 + 28 + 21
    assert row["listings_blocked"] == 118  # 30 + 69 + 19
    assert row["actions"] == 177
    assert row["cumulative_actions"] == 177
    assert row["partners_reporting"] == 3
    assert row["platforms_reporting"] == 4


def test_periods_before_period_from_still_count_toward_cumulative(activity):
    frame = actions(activity, Filters(period_from="2019-Q1"))
    assert list(frame["period"]) == ["2019-Q1", "2019-Q2"]  # 2018-Q4 is not listed ...
    assert list(frame["actions"]) == [97, 40]
    assert list(frame["cumulative_actions"]) == [137, 177]  # ... but its 40 is in the total
    # by month from February: January's 1 and December's 40 count, neither is listed
    monthly = actions(activity, Filters(period_from="2019-02"), grain="month")
    assert by_period(monthly, "cumulative_actions") == {
        "2019-02": 43,
        "2019-03": 137,
        "2019-06": 177,
    }


def test_period_range_limits_listing_and_running_total(activity):
    frame = actions(activity, Filters(period_from="2019-Q1", period_to="2019-Q1"))
    assert by_period(frame, "actions") == {"2019-Q1": 97}
    assert by_period(frame, "cumulative_actions") == {"2019-Q1": 137}  # 40 + 97
    # total over the range: the 2019-Q1 rows only
    assert total(activity, period_from="2019-Q1", period_to="2019-Q1") == 97
    # as of February 2019: the quarterly 2019-Q1 rows end in March and are not in yet
    monthly = actions(activity, Filters(period_to="2019-02"), grain="month")
    assert by_period(monthly, "actions") == {"2018-12": 40, "2019-01": 1, "2019-02": 2}


def test_total_without_grain_keeps_cumulative_since_first_record(activity):
    frame = actions(activity, Filters(period_from="2019-Q1"), grain=None)
    assert frame["actions"].tolist() == [137]  # 97 + 40 in the range
    assert frame["cumulative_actions"].tolist() == [177]  # 40 before the range + 137
    partners = actions(activity, Filters(period_from="2019-Q2"), by="partner", grain=None)
    assert by_group(partners, "actions") == {"shopco": 20, "socialco": 10, "searchco": 10}
    assert by_group(partners, "cumulative_actions") == {
        "shopco": 154,
        "socialco": 13,
        "searchco": 10,
    }


def test_blank_count_is_not_zero(activity):
    frame = actions(activity, Filters(platforms=("ShopResale",)))
    q1, q2 = frame.iloc[0], frame.iloc[1]
    # r4: removed blank, blocked 4 -> removed stays blank, actions 4
    assert q1["period"] == "2019-Q1"
    assert pd.isna(q1["listings_removed"])
    assert q1["listings_blocked"] == 4
    assert q1["actions"] == 4
    # r6: both reported as 0 -> 0, not blank
    assert q2["period"] == "2019-Q2"
    assert q2["listings_removed"] == 0 and not pd.isna(q2["listings_removed"])
    assert q2["listings_blocked"] == 0
    assert q2["actions"] == 0
    assert q2["partners_reporting"] == 1  # a row of zeros is a report


# --- Breakdowns ----------------------------------------------------------------------------


def test_actions_by_platform(activity):
    frame = actions(activity, by="platform", grain=None)
    assert by_group(frame, "actions") == {
        "ShopMarket": 150,  # r1 40 + r2 80 + r3 10 + r5 20
        "ShopResale": 4,  # r4 4 + r6 0
        "SocialNet": 13,  # r7 1 + r8 2 + r11 10
        "SearchFind": 10,  # r12
    }
    # ShopResale removed: r4 blank + r6 0 = 0 (a reported 0 makes it 0, not blank)
    assert by_group(frame, "listings_removed")["ShopResale"] == 0


def test_actions_by_species_group(activity):
    frame = actions(activity, by="species_group", grain=None)
    assert by_group(frame, "actions") == {
        "elephants": 143,  # r1 40 + r2 80 + r5 20 + r7 1 + r8 2
        "pangolins": 10,  # r3
        "birds": 4,  # r4 4 + r6 0
        "big_cats": 10,  # r11 (r10 was returned)
        "rhinoceroses": 10,  # r12
    }


def test_actions_by_region_subregion_and_country(activity):
    regions = actions(activity, by="region", grain=None)
    assert by_group(regions, "actions") == {
        "Asia": 133,  # CHN r1 40 + r2 80; VNM r3 10 + r7 1 + r8 2
        "Americas": 14,  # USA r4 4 + r6 0; BRA r12 10
        "Africa": 10,  # KEN r11
        GLOBAL: 20,  # r5 has no country
    }
    subregions = actions(activity, by="subregion", grain=None)
    assert by_group(subregions, "actions") == {
        "Eastern Asia": 120,
        "South-eastern Asia": 13,
        "Northern America": 4,
        "Latin America and the Caribbean": 10,
        "Sub-Saharan Africa": 10,
        GLOBAL: 20,
    }
    countries = actions(activity, by="country", grain=None)
    assert by_group(countries, "actions") == {
        "CHN": 120,
        "VNM": 13,
        "USA": 4,
        "BRA": 10,
        "KEN": 10,
        GLOBAL: 20,
    }


def test_actions_by_partner_and_sector(activity):
    partners = actions(activity, by="partner", grain=None)
    # shopco 150 + 4; socialco 13; searchco 10
    assert by_group(partners, "actions") == {"shopco": 154, "socialco": 13, "searchco": 10}
    assert by_group(partners, "platforms_reporting") == {"shopco": 2, "socialco": 1, "searchco": 1}
    sectors = actions(activity, by="sector", grain=None)
    assert by_group(sectors, "actions") == {"e-commerce": 154, "social-media": 13, "search": 10}


def test_breakdown_per_quarter_has_its_own_running_total(activity):
    frame = actions(activity, by="partner")
    shopco = frame[frame["group"] == "shopco"]
    # shopco: 2018-Q4 40; 2019-Q1 80 + 10 + 4 = 94; 2019-Q2 20 + 0 = 20
    assert by_period(shopco, "actions") == {"2018-Q4": 40, "2019-Q1": 94, "2019-Q2": 20}
    assert by_period(shopco, "cumulative_actions") == {
        "2018-Q4": 40,
        "2019-Q1": 134,
        "2019-Q2": 154,
    }
    searchco = frame[frame["group"] == "searchco"]
    assert by_period(searchco, "cumulative_actions") == {"2019-Q2": 10}


# --- Filters -------------------------------------------------------------------------------


def test_filters(activity):
    assert total(activity, partners=("socialco",)) == 13
    assert total(activity, platforms=("ShopMarket", "SearchFind")) == 160  # 150 + 10
    assert total(activity, species_groups=("elephants", "birds")) == 147  # 143 + 4
    assert total(activity, sectors=("e-commerce",)) == 154
    assert total(activity, countries=("VNM", "KEN")) == 23  # 13 + 10
    # a region and a subregion name both work, and the global rows have a region of their own
    assert total(activity, regions=("Asia",)) == 133
    assert total(activity, regions=("South-eastern Asia",)) == 13
    assert total(activity, regions=("Africa", GLOBAL)) == 30  # 10 + 20
    # filters combine: shopco's elephants in Asia = r1 40 + r2 80
    assert (
        total(activity, partners=("shopco",), species_groups=("elephants",), regions=("Asia",))
        == 120
    )
    assert actions(activity, Filters(partners=("nobody",)), grain=None).empty


def test_submitted_rows_only_when_asked_and_returned_rows_never(activity):
    assert total(activity) == 177
    # r9 (submitted) adds 200; r10 (returned) never counts
    assert total(activity, include_submitted=True) == 377
    frame = actions(activity, Filters(include_submitted=True), grain="month")
    assert by_period(frame, "actions") == {
        "2018-12": 40,  # nothing from r10 (2018-Q4)
        "2019-01": 1,
        "2019-02": 2,
        "2019-03": 294,  # 94 + r9 200
        "2019-06": 40,
    }
    social = actions(activity, Filters(platforms=("SocialNet",), include_submitted=True))
    assert by_period(social, "actions") == {"2019-Q1": 203, "2019-Q2": 10}  # 1 + 2 + 200


def test_bad_breakdown_or_grain_is_refused(activity):
    with pytest.raises(ValueError, match="Cannot break down by 'taxon'"):
        actions(activity, by="taxon")
    with pytest.raises(ValueError, match="Unknown grain 'week'"):
        actions(activity, grain="week")
    with pytest.raises(ValueError, match="not a period"):
        actions(activity, Filters(period_from="July 2019"))


def test_pending_resubmission_does_not_hide_accepted_figures(build_db):
    db = build_db(
        [("shopco", "e-commerce", dt.date(2018, 1, 1), ["ShopMarket"])],
        [
            dict(
                partner="shopco",
                uploaded_at=dt.datetime(2019, 4, 10),
                rows=[("ShopMarket", "2019-Q1", "elephants", "CHN", 10, 30, None, None)],
            )
        ],
    )
    with db.write() as cur:
        store.add_submission(
            cur,
            partner="shopco",
            uploaded_by="partner@example.org",
            status="submitted",
            uploaded_at=dt.datetime(2019, 5, 1),
            records=pd.DataFrame(
                [
                    {
                        "platform": "ShopMarket",
                        "period": "2019-Q1",
                        "species_group": "elephants",
                        "country": "CHN",
                        "listings_removed": 15,
                        "listings_blocked": 35,
                    }
                ]
            ),
        )
    with db.read() as cur:
        accepted = actions(cur, grain=None)
        with_pending = actions(cur, Filters(include_submitted=True), grain=None)
    assert with_pending["actions"].tolist() == [50]  # the correction, 15 + 35
    assert accepted["actions"].tolist() == [40]  # the accepted figures, 10 + 30, until review


# --- Proactive share -----------------------------------------------------------------------


def test_proactive_share_uses_rows_with_both_counts(activity):
    frame = proactive_share(activity)
    assert list(frame["period"]) == ["2018-Q4", "2019-Q1", "2019-Q2"]
    # 2019-Q1 without r4 (removed blank): blocked 60 + 5 + 0 + 0 = 65, removed 20 + 5 + 1 + 2
    assert list(frame["listings_blocked"]) == [30, 65, 19]
    assert list(frame["listings_removed"]) == [10, 28, 21]
    assert list(frame["rows_used"]) == [1, 4, 4]  # r1; r2 r3 r7 r8; r5 r6 r11 r12
    assert frame["proactive_share"].tolist() == pytest.approx(
        [30 / 40, 65 / 93, 19 / 40], rel=1e-12
    )


def test_proactive_share_by_sector_and_all_zero(activity):
    frame = proactive_share(activity, by="platform", grain=None)
    shares = by_group(frame, "proactive_share")
    assert shares["ShopMarket"] == pytest.approx(105 / 150, rel=1e-12)  # (30+60+5+10)/150
    assert shares["SocialNet"] == pytest.approx(2 / 13, rel=1e-12)  # (0+0+2)/(1+0+2+0+8+2)
    # ShopResale: r4 lacks removed, so only r6 (0, 0) is used: 0 / 0 has no share
    assert by_group(frame, "rows_used")["ShopResale"] == 1
    assert math.isnan(shares["ShopResale"])
    sectors = proactive_share(activity, by="sector", grain=None)
    assert by_group(sectors, "proactive_share") == pytest.approx(
        {"e-commerce": 105 / 150, "social-media": 2 / 13, "search": 7 / 10}, rel=1e-12
    )


def test_proactive_share_with_submitted_and_range(activity):
    frame = proactive_share(
        activity,
        Filters(period_from="2019-Q1", period_to="2019-Q1", include_submitted=True),
        grain=None,
    )
    # 2019-Q1 with r9: blocked 65 + 100 = 165 of 165 + 128
    assert frame["proactive_share"].tolist() == pytest.approx([165 / 293], rel=1e-12)
    assert frame["rows_used"].tolist() == [5]
