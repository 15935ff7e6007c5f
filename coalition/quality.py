"""Data-quality flags across all figures: what a secretariat analyst should look at before
trusting a trend.

The figures checked are the current ones, accepted and awaiting review, as the "include
submitted" view shows them (a submission awaiting review stands in for the accepted rows it
would replace). Every flag names the submission it comes from — or, for a platform that went
silent, the platform's latest submission — so that the Review page can open it.

Kinds, and the rules (thresholds are module constants):

* ``jump`` — a count of a platform × period × species group × country is more than 10 times,
  or less than a tenth of, the same count in the previous period (month to month, quarter to
  quarter), the larger of the two being at least 20: the validation's rule for uploads.
* ``silent`` — a platform without figures for a quarter although it has figures before and
  after it, or without figures since some quarter while the coalition has figures for a later
  quarter whose due date has passed (it stopped).
* ``detection_without_effort`` — detected listings reported without the search effort that
  found them (blank, or 0 with detections), so no detection rate can be computed.
* ``effort_change`` — a platform's total search effort in a period is more than 3 times, or
  less than a third of, the previous period's: its detection rates are no longer comparable.
* ``share_jump`` — a platform's share of the coalition's actions (listings removed + blocked)
  in a quarter moved by more than 20 percentage points from the previous quarter, or grew or
  shrank more than 3 times while being at least 5% in one of the two. Both quarters must have
  figures from the platform.
* ``late`` — a partner's figures for a quarter first arrived after the due date (the coverage
  indicator's rule: the quarter's end plus ``submission_due_days``).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from coalition.review import due_days
from coalition.validation import JUMP_FACTOR, JUMP_MINIMUM

EFFORT_FACTOR = 3
SHARE_POINTS = 0.20  # a move of more than 20 percentage points
SHARE_FACTOR = 3
SHARE_MINIMUM = 0.05  # a threefold move counts when the platform holds at least 5% in one quarter

KINDS = ("jump", "silent", "detection_without_effort", "effort_change", "share_jump", "late")
COLUMNS = ["kind", "partner", "platform", "period", "submission_id", "detail", "severity"]
SEVERITY = {
    "jump": "warning",
    "silent": "warning",
    "detection_without_effort": "warning",
    "effort_change": "warning",
    "share_jump": "info",
    "late": "info",
}

# One query: the figures are read once, and each kind of flag is a CTE over them.
# ``figures``: the figures checked, one row per key (summed should a key occur twice);
# ``previous``: each period's predecessor of the same kind (month or quarter).
FLAGS = """
WITH
figures AS MATERIALIZED (
    -- read from records, not the facts view: names are joined to the few flags at the end
    SELECT r.platform_id, pl.partner, r.period, pe.quarter, r.species_group, r.country,
           coalesce(r.country, '') AS country_key,
           max(r.submission_id) AS submission_id,
           sum(r.listings_removed) AS listings_removed,
           sum(r.listings_blocked) AS listings_blocked,
           sum(r.accounts_actioned) AS accounts_actioned,
           sum(r.reports_received) AS reports_received,
           sum(r.listings_detected) AS listings_detected,
           sum(r.search_effort) AS search_effort
    FROM records AS r
    JOIN submissions AS s ON s.id = r.submission_id
    JOIN platforms AS pl ON pl.id = r.platform_id
    JOIN periods AS pe ON pe.period = r.period
    WHERE r.superseded_by IS NULL
      AND ((s.status = 'accepted' AND r.replaced_by_pending IS NULL) OR s.status = 'submitted')
    GROUP BY r.platform_id, pl.partner, r.period, pe.quarter, r.species_group, r.country
),
previous AS (
    SELECT p.period, q.period AS previous
    FROM periods AS p
    JOIN periods AS q ON q.kind = p.kind AND q.end_date + 1 = p.start_date
),
due AS (
    SELECT period AS quarter, end_date + CAST($due_days AS INTEGER) AS due_date
    FROM periods
    WHERE kind = 'quarter'
),

-- jump: the validation's rule, key by key and count by count
jump_pairs AS (
    SELECT n.partner, n.platform_id, n.period, pv.previous, n.species_group, n.country,
           n.submission_id,
           [n.listings_removed, n.listings_blocked, n.accounts_actioned, n.reports_received,
            n.listings_detected, n.search_effort] AS now,
           [o.listings_removed, o.listings_blocked, o.accounts_actioned, o.reports_received,
            o.listings_detected, o.search_effort] AS before
    FROM figures AS n
    JOIN previous AS pv ON pv.period = n.period
    JOIN figures AS o
      ON o.platform_id = n.platform_id AND o.period = pv.previous
     AND o.species_group = n.species_group AND o.country_key = n.country_key
),
jump_measures AS (
    SELECT p.* EXCLUDE (now, before), m.measure, p.now[m.i] AS now, p.before[m.i] AS before
    FROM jump_pairs AS p
    CROSS JOIN (VALUES (1, 'listings_removed'), (2, 'listings_blocked'),
        (3, 'accounts_actioned'), (4, 'reports_received'), (5, 'listings_detected'),
        (6, 'search_effort')) AS m(i, measure)
),
jump_flags AS (
    SELECT 'jump' AS kind, partner, platform_id, period, submission_id,
           format('{} is {:,}, against {:,} in {} ({}, {})', measure, now, before, previous,
                  species_group, coalesce(country, 'global')) AS detail
    FROM jump_measures
    WHERE greatest(now, before) >= $jump_minimum
      AND (now > $jump_factor * before OR now * $jump_factor < before)
),

-- silent: quarters without figures between a platform's first and last, or after its last
reported AS (
    SELECT platform_id, any_value(partner) AS partner, quarter,
           max(submission_id) AS submission_id
    FROM figures
    GROUP BY platform_id, quarter
),
spans AS (
    SELECT platform_id, any_value(partner) AS partner,
           min(quarter) AS first_quarter, max(quarter) AS last_quarter,
           max(submission_id) AS latest_submission
    FROM reported
    GROUP BY platform_id
),
horizon AS (
    -- the latest quarter with figures whose due date has passed: later figures may still come
    SELECT max(r.quarter) AS quarter
    FROM reported AS r
    JOIN due AS d ON d.quarter = r.quarter
    WHERE d.due_date < $today
),
silent_flags AS (
    SELECT 'silent' AS kind, s.partner, s.platform_id, d.quarter AS period,
           s.latest_submission AS submission_id,
           format('No figures for {}, though there are figures before and after it',
                  d.quarter) AS detail
    FROM spans AS s
    JOIN due AS d ON d.quarter > s.first_quarter AND d.quarter < s.last_quarter
    ANTI JOIN reported AS r ON r.platform_id = s.platform_id AND r.quarter = d.quarter
    UNION ALL
    SELECT 'silent', s.partner, s.platform_id,
           (SELECT min(quarter) FROM due WHERE quarter > s.last_quarter),
           s.latest_submission,
           format('No figures since {}, while the coalition has figures up to {}',
                  s.last_quarter, h.quarter)
    FROM spans AS s
    CROSS JOIN horizon AS h
    WHERE s.last_quarter < h.quarter
),

-- detection_without_effort: per platform and period
no_effort_flags AS (
    SELECT 'detection_without_effort' AS kind, partner, platform_id, period,
           max(submission_id) AS submission_id,
           format('{} row(s) report {:,} detected listings without the search effort',
                  count(*), sum(listings_detected)) AS detail
    FROM figures
    WHERE listings_detected IS NOT NULL
      AND (search_effort IS NULL OR (search_effort = 0 AND listings_detected > 0))
    GROUP BY partner, platform_id, period
),

-- effort_change: a platform's total search effort against the previous period's
effort AS (
    SELECT platform_id, any_value(partner) AS partner, period,
           sum(search_effort) AS effort, max(submission_id) AS submission_id
    FROM figures
    WHERE search_effort IS NOT NULL
    GROUP BY platform_id, period
),
effort_flags AS (
    SELECT 'effort_change' AS kind, n.partner, n.platform_id, n.period, n.submission_id,
           format('Search effort {:,}, against {:,} in {}: detection rates are not comparable',
                  n.effort, o.effort, pv.previous) AS detail
    FROM effort AS n
    JOIN previous AS pv ON pv.period = n.period
    JOIN effort AS o ON o.platform_id = n.platform_id AND o.period = pv.previous
    WHERE n.effort > 0 AND o.effort > 0
      AND (n.effort > $effort_factor * o.effort OR n.effort * $effort_factor < o.effort)
),

-- share_jump: a platform's share of the quarter's coalition actions
platform_actions AS (
    SELECT platform_id, any_value(partner) AS partner, quarter,
           coalesce(sum(listings_removed), 0) + coalesce(sum(listings_blocked), 0) AS actions,
           max(submission_id) AS submission_id
    FROM figures
    GROUP BY platform_id, quarter
),
shares AS (
    SELECT *, actions / nullif(sum(actions) OVER (PARTITION BY quarter), 0) AS share
    FROM platform_actions
),
share_flags AS (
    SELECT 'share_jump' AS kind, n.partner, n.platform_id, n.quarter AS period, n.submission_id,
           format('Share of coalition actions {:.1f}%, against {:.1f}% in {}',
                  100 * n.share, 100 * o.share, pv.previous) AS detail
    FROM shares AS n
    JOIN previous AS pv ON pv.period = n.quarter
    JOIN shares AS o ON o.platform_id = n.platform_id AND o.quarter = pv.previous
    WHERE abs(n.share - o.share) > $share_points
       OR (greatest(n.share, o.share) >= $share_minimum
           AND (n.share > $share_factor * o.share OR n.share * $share_factor < o.share))
),

-- late: coverage.sql's rule, the first upload for a platform and period (in any submission,
-- even one superseded or returned since) after the whole due day of the period's quarter
first_upload AS (
    SELECT r.platform_id, r.period, min(s.uploaded_at) AS first_uploaded,
           arg_min(s.id, s.uploaded_at) AS submission_id
    FROM records AS r
    JOIN submissions AS s ON s.id = r.submission_id
    GROUP BY r.platform_id, r.period
),
late_uploads AS (
    SELECT DISTINCT f.partner, f.platform_id, f.quarter, u.first_uploaded, u.submission_id,
           d.due_date
    FROM figures AS f
    JOIN first_upload AS u ON u.platform_id = f.platform_id AND u.period = f.period
    JOIN due AS d ON d.quarter = f.quarter
    WHERE CAST(u.first_uploaded AS DATE) > d.due_date
),
late_flags AS (
    SELECT 'late' AS kind, l.partner,
           string_agg(DISTINCT pl.name, ', ' ORDER BY pl.name) AS platform,
           l.quarter AS period,
           arg_min(submission_id, first_uploaded) AS submission_id,
           format('Figures for {} first arrived on {}, {} day(s) after the due date {}',
                  quarter, strftime(min(first_uploaded), '%Y-%m-%d'),
                  date_diff('day', any_value(due_date), CAST(min(first_uploaded) AS DATE)),
                  strftime(any_value(due_date), '%Y-%m-%d')) AS detail
    FROM late_uploads AS l
    JOIN platforms AS pl ON pl.id = l.platform_id
    GROUP BY l.partner, l.quarter
),
platform_flags AS (
    SELECT * FROM jump_flags
    UNION ALL SELECT * FROM silent_flags
    UNION ALL SELECT * FROM no_effort_flags
    UNION ALL SELECT * FROM effort_flags
    UNION ALL SELECT * FROM share_flags
)

SELECT f.kind, f.partner, pl.name AS platform, f.period, f.submission_id, f.detail
FROM platform_flags AS f
JOIN platforms AS pl ON pl.id = f.platform_id
UNION ALL
SELECT kind, partner, platform, period, submission_id, detail FROM late_flags
"""


def flags(cur: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> pd.DataFrame:
    """Every data-quality flag (see the module's description for the rules), sorted by
    partner, platform, period and kind: columns ``kind``, ``partner`` (slug), ``platform``
    (for a late quarter, the late platforms), ``period``, ``submission_id``, ``detail`` (what
    was found, in words) and ``severity`` (``warning``: the figure may be wrong; ``info``:
    worth knowing when reading the figures). ``today`` decides which quarters are due."""
    today = today or dt.date.today()
    frame = cur.execute(
        FLAGS,
        {
            "today": today,
            "due_days": due_days(cur),
            "jump_factor": JUMP_FACTOR,
            "jump_minimum": JUMP_MINIMUM,
            "effort_factor": EFFORT_FACTOR,
            "share_points": SHARE_POINTS,
            "share_factor": SHARE_FACTOR,
            "share_minimum": SHARE_MINIMUM,
        },
    ).df()
    frame["severity"] = frame["kind"].map(SEVERITY)
    frame["submission_id"] = frame["submission_id"].astype("Int64")
    frame["kind_order"] = frame["kind"].map(KINDS.index)
    frame = frame.sort_values(["partner", "platform", "period", "kind_order", "detail"])
    return frame[COLUMNS].reset_index(drop=True)
