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

The flags come from the pre-aggregated tables (:mod:`coalition.rollup`) while these describe the
data as it is now, and from the records otherwise: the same flags either way, the first much
faster on a large database. The tables keep sums, not submissions, so the submission each flag
names is then read from the records of the flagged platforms and periods alone. Where
``rollup_cells`` is a table (500,000 records and more), the costliest rule, ``jump``, is worked
out when the tables are refreshed, platform by platform, and kept in ``rollup_jumps`` with the
submission each jump names; the page only reads it.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from coalition.review import due_days
from coalition.validation import JUMP_FACTOR, JUMP_MINIMUM
from metrics import rollups

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

# Every query below ends the same way: the kinds of flags side by side, named.
_ALL_FLAGS = """platform_flags AS (
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

# One query: the figures are read once, and each kind of flag is a CTE over them.
# ``figures``: the figures checked, one row per key (summed should a key occur twice);
# ``previous``: each period's predecessor of the same kind (month or quarter).
FLAGS = (
    """
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
"""
    + _ALL_FLAGS
)


# The same flags from the pre-aggregated tables (coalition/rollup.py), read while they
# describe the data as it is now. The rules are those of FLAGS, on the same figures: rows of a
# rollup table whose status is accepted and not replaced by a pending submission, or
# submitted. The rollups keep sums, not submissions: the submission each flag names comes from
# a narrow read of the records of the flagged platforms and periods only (``wanted``).
#
# ``totals``: the figures by platform and period, from rollup_platform; sums of sums are the
# same sums, so every rule about a platform's totals reads these few thousand rows.
# ``figures``: one row per key (platform × period × species group × country), from
# rollup_cells, for the rules key by key (jump, detection_without_effort). A rollup row also
# keeps a status, a pending flag and which counts are blank, so a key can be split across rows
# (two taxa of one species group, one with the search effort and one without); that is only
# possible where a platform and period has more than one such kind of row — more than one
# rollup_platform row (``groups``) — and there the rows are summed key by key.
# ``{platforms}``: empty, or (for the stored jumps of some platforms) a condition on them.
_ROLLUP_FIGURES = """
totals AS MATERIALIZED (
    SELECT platform_id, any_value(partner) AS partner, period, any_value(quarter) AS quarter,
           count(*) AS groups,
           sum(listings_removed) AS listings_removed,
           sum(listings_blocked) AS listings_blocked,
           sum(search_effort) AS search_effort
    FROM rollup_platform
    WHERE ((status = 'accepted' AND replaced_by_pending IS NULL) OR status = 'submitted')
          {platforms}
    GROUP BY platform_id, period
),
cells AS NOT MATERIALIZED (
    SELECT r.platform_id, r.partner, r.period, r.period_kind, r.start_date, r.end_date,
           r.species_group, r.country,
           r.listings_removed, r.listings_blocked, r.accounts_actioned, r.reports_received,
           r.listings_detected, r.search_effort
    FROM rollup_cells AS r
    WHERE ((r.status = 'accepted' AND r.replaced_by_pending IS NULL) OR r.status = 'submitted')
          {platforms}
),
split AS (
    SELECT platform_id, period FROM totals WHERE groups > 1
),
figures AS NOT MATERIALIZED (
    -- read again by each use: a scan costs less than keeping two million rows
    SELECT c.*
    FROM cells AS c
    ANTI JOIN split AS s ON s.platform_id = c.platform_id AND s.period = c.period
    UNION ALL
    SELECT c.platform_id, any_value(c.partner), c.period, any_value(c.period_kind),
           any_value(c.start_date), any_value(c.end_date), c.species_group, c.country,
           sum(c.listings_removed), sum(c.listings_blocked), sum(c.accounts_actioned),
           sum(c.reports_received), sum(c.listings_detected), sum(c.search_effort)
    FROM cells AS c
    SEMI JOIN split AS s ON s.platform_id = c.platform_id AND s.period = c.period
    GROUP BY c.platform_id, c.period, c.species_group, c.country
),
"""

# jump: the costly rule (every key is joined to its predecessor). On a large database its
# flags are worked out as the rollups are refreshed, platform by platform, and kept in
# ``rollup_jumps`` (see coalition/rollup.py); otherwise here, on reading.
_JUMPS_FROM_FIGURES = """
-- jump: the keys that may have jumped from one period to the next (the costly part: every
-- key is joined to its predecessor), then the rule on their exact counts, count by count.
-- ``approx`` holds all that join needs, small, read twice (cheaper than keeping it): each key
-- as a number (a hash of its parts) and its counts as floating-point numbers. Two keys could
-- share a hash (a chance of about one in 10^19): that would only add a key to check. A count
-- jumps up (the larger one now) or down (the larger one before); the larger is compared against
-- a factor a thousandth smaller: rounding a count to a floating-point number moves it by far
-- less than that, so every jump is kept, and a pair kept that is not one fails the exact rule.
approx AS NOT MATERIALIZED (
    SELECT hash(platform_id, species_group, country, period_kind) AS key_hash,
           start_date, end_date,
           CAST(listings_removed AS DOUBLE) AS removed,
           CAST(listings_blocked AS DOUBLE) AS blocked,
           CAST(accounts_actioned AS DOUBLE) AS accounts,
           CAST(reports_received AS DOUBLE) AS reports,
           CAST(listings_detected AS DOUBLE) AS detected,
           CAST(search_effort AS DOUBLE) AS effort
    FROM figures
),
jump_candidates AS MATERIALIZED (
    SELECT DISTINCT n.key_hash
    FROM approx AS n
    JOIN approx AS o ON o.key_hash = n.key_hash AND o.end_date + 1 = n.start_date
    WHERE (n.removed >= $jump_minimum AND n.removed > ($jump_factor * 0.999) * o.removed)
       OR (o.removed >= $jump_minimum AND o.removed > ($jump_factor * 0.999) * n.removed)
       OR (n.blocked >= $jump_minimum AND n.blocked > ($jump_factor * 0.999) * o.blocked)
       OR (o.blocked >= $jump_minimum AND o.blocked > ($jump_factor * 0.999) * n.blocked)
       OR (n.accounts >= $jump_minimum AND n.accounts > ($jump_factor * 0.999) * o.accounts)
       OR (o.accounts >= $jump_minimum AND o.accounts > ($jump_factor * 0.999) * n.accounts)
       OR (n.reports >= $jump_minimum AND n.reports > ($jump_factor * 0.999) * o.reports)
       OR (o.reports >= $jump_minimum AND o.reports > ($jump_factor * 0.999) * n.reports)
       OR (n.detected >= $jump_minimum AND n.detected > ($jump_factor * 0.999) * o.detected)
       OR (o.detected >= $jump_minimum AND o.detected > ($jump_factor * 0.999) * n.detected)
       OR (n.effort >= $jump_minimum AND n.effort > ($jump_factor * 0.999) * o.effort)
       OR (o.effort >= $jump_minimum AND o.effort > ($jump_factor * 0.999) * n.effort)
),
jump_key_counts AS MATERIALIZED (
    -- the exact counts of those keys, every period, summed as in ``figures``; then each
    -- period's against the previous one's
    SELECT platform_id, any_value(partner) AS partner, period, species_group, country,
           sum(listings_removed) AS listings_removed, sum(listings_blocked) AS listings_blocked,
           sum(accounts_actioned) AS accounts_actioned,
           sum(reports_received) AS reports_received,
           sum(listings_detected) AS listings_detected, sum(search_effort) AS search_effort
    FROM cells
    WHERE hash(platform_id, species_group, country, period_kind)
          IN (SELECT key_hash FROM jump_candidates)
    GROUP BY platform_id, period, species_group, country
),
jump_counts AS (
    SELECT n.partner, n.platform_id, n.period, o.period AS previous, n.species_group,
           n.country,
           [n.listings_removed, n.listings_blocked, n.accounts_actioned, n.reports_received,
            n.listings_detected, n.search_effort] AS now,
           [o.listings_removed, o.listings_blocked, o.accounts_actioned, o.reports_received,
            o.listings_detected, o.search_effort] AS before
    FROM jump_key_counts AS n
    JOIN periods AS p ON p.period = n.period
    JOIN periods AS q ON q.kind = p.kind AND q.end_date + 1 = p.start_date
    JOIN jump_key_counts AS o
      ON o.platform_id = n.platform_id AND o.period = q.period
     AND o.species_group = n.species_group AND o.country IS NOT DISTINCT FROM n.country
),
jump_measures AS (
    SELECT k.partner, k.platform_id, k.period, k.previous, k.species_group, k.country,
           m.measure, k.now[m.i] AS now, k.before[m.i] AS before
    FROM jump_counts AS k
    CROSS JOIN (VALUES (1, 'listings_removed'), (2, 'listings_blocked'),
        (3, 'accounts_actioned'), (4, 'reports_received'), (5, 'listings_detected'),
        (6, 'search_effort')) AS m(i, measure)
),
jump_found AS (
    SELECT partner, platform_id, period, species_group, country,
           format('{} is {:,}, against {:,} in {} ({}, {})', measure, now, before,
                  previous, species_group, coalesce(country, 'global')) AS detail
    FROM jump_measures
    WHERE greatest(now, before) >= $jump_minimum
      AND (now > $jump_factor * before OR now * $jump_factor < before)
),
"""

_FLAGS_FROM_FIGURES = """
due AS (
    SELECT period AS quarter, end_date + CAST($due_days AS INTEGER) AS due_date
    FROM periods
    WHERE kind = 'quarter'
),

-- silent
reported AS (
    SELECT platform_id, any_value(partner) AS partner, quarter
    FROM totals
    GROUP BY platform_id, quarter
),
spans AS (
    SELECT platform_id, any_value(partner) AS partner,
           min(quarter) AS first_quarter, max(quarter) AS last_quarter
    FROM reported
    GROUP BY platform_id
),
horizon AS (
    SELECT max(r.quarter) AS quarter
    FROM reported AS r
    JOIN due AS d ON d.quarter = r.quarter
    WHERE d.due_date < $today
),
silent_found AS MATERIALIZED (
    SELECT s.partner, s.platform_id, d.quarter AS period,
           format('No figures for {}, though there are figures before and after it',
                  d.quarter) AS detail
    FROM spans AS s
    JOIN due AS d ON d.quarter > s.first_quarter AND d.quarter < s.last_quarter
    ANTI JOIN reported AS r ON r.platform_id = s.platform_id AND r.quarter = d.quarter
    UNION ALL
    SELECT s.partner, s.platform_id,
           (SELECT min(quarter) FROM due WHERE quarter > s.last_quarter),
           format('No figures since {}, while the coalition has figures up to {}',
                  s.last_quarter, h.quarter)
    FROM spans AS s
    CROSS JOIN horizon AS h
    WHERE s.last_quarter < h.quarter
),

-- detection_without_effort: key by key, then per platform and period
no_effort_found AS MATERIALIZED (
    SELECT partner, platform_id, period,
           format('{} row(s) report {:,} detected listings without the search effort',
                  count(*), sum(listings_detected)) AS detail
    FROM figures
    WHERE listings_detected IS NOT NULL
      AND (search_effort IS NULL OR (search_effort = 0 AND listings_detected > 0))
    GROUP BY partner, platform_id, period
),

-- effort_change: a platform's total is the sum of its keys' (those that report effort)
effort AS (
    SELECT platform_id, partner, period, search_effort AS effort
    FROM totals
    WHERE search_effort IS NOT NULL
),
effort_found AS MATERIALIZED (
    SELECT n.partner, n.platform_id, n.period,
           format('Search effort {:,}, against {:,} in {}: detection rates are not comparable',
                  n.effort, o.effort, o.period) AS detail
    FROM effort AS n
    JOIN periods AS p ON p.period = n.period
    JOIN periods AS q ON q.kind = p.kind AND q.end_date + 1 = p.start_date
    JOIN effort AS o ON o.platform_id = n.platform_id AND o.period = q.period
    WHERE n.effort > 0 AND o.effort > 0
      AND (n.effort > $effort_factor * o.effort OR n.effort * $effort_factor < o.effort)
),

-- share_jump
platform_actions AS (
    SELECT platform_id, any_value(partner) AS partner, quarter,
           coalesce(sum(listings_removed), 0) + coalesce(sum(listings_blocked), 0) AS actions
    FROM totals
    GROUP BY platform_id, quarter
),
shares AS (
    SELECT *, actions / nullif(sum(actions) OVER (PARTITION BY quarter), 0) AS share
    FROM platform_actions
),
share_found AS MATERIALIZED (
    SELECT n.partner, n.platform_id, n.quarter AS period,
           format('Share of coalition actions {:.1f}%, against {:.1f}% in {}',
                  100 * n.share, 100 * o.share, o.quarter) AS detail
    FROM shares AS n
    JOIN periods AS p ON p.period = n.quarter
    JOIN periods AS q ON q.kind = p.kind AND q.end_date + 1 = p.start_date
    JOIN shares AS o ON o.platform_id = n.platform_id AND o.quarter = q.period
    WHERE abs(n.share - o.share) > $share_points
       OR (greatest(n.share, o.share) >= $share_minimum
           AND (n.share > $share_factor * o.share OR n.share * $share_factor < o.share))
),

-- late: rollup_uploads keeps each platform and period's first upload (in any submission)
late_uploads AS MATERIALIZED (
    SELECT DISTINCT t.partner, t.platform_id, t.period, t.quarter, u.first_uploaded, d.due_date
    FROM totals AS t
    JOIN rollup_uploads AS u ON u.platform_id = t.platform_id AND u.period = t.period
    JOIN due AS d ON d.quarter = t.quarter
    WHERE CAST(u.first_uploaded AS DATE) > d.due_date
),

-- the submissions the flags name, from the records of the flagged platforms and periods: for
-- a silent platform all of its periods, for a share of a quarter all periods in the quarter
wanted AS (
    SELECT platform_id, period FROM jump_wanted
    UNION SELECT platform_id, period FROM no_effort_found
    UNION SELECT platform_id, period FROM effort_found
    UNION SELECT t.platform_id, t.period FROM totals AS t
          SEMI JOIN share_found AS s ON s.platform_id = t.platform_id AND s.period = t.quarter
    UNION SELECT t.platform_id, t.period FROM totals AS t
          SEMI JOIN silent_found AS s ON s.platform_id = t.platform_id
),
wanted_records AS MATERIALIZED (
    SELECT r.platform_id, r.period, r.species_group, r.country, r.submission_id,
           r.replaced_by_pending, r.listings_detected, r.search_effort
    FROM records AS r
    SEMI JOIN wanted AS w ON w.platform_id = r.platform_id AND w.period = r.period
    WHERE r.superseded_by IS NULL
),
keys AS MATERIALIZED (
    SELECT r.platform_id, r.period, r.species_group, r.country,
           max(r.submission_id) AS submission_id,
           sum(r.listings_detected) AS listings_detected,
           sum(r.search_effort) AS search_effort
    FROM wanted_records AS r
    JOIN submissions AS s ON s.id = r.submission_id
    WHERE (s.status = 'accepted' AND r.replaced_by_pending IS NULL) OR s.status = 'submitted'
    GROUP BY r.platform_id, r.period, r.species_group, r.country
),
-- a late period's first submission: the only one uploaded at the time of its first upload;
-- only when several were uploaded at that very time do the records tell which, as in FLAGS
first_candidates AS MATERIALIZED (
    SELECT l.platform_id, l.period, s.id AS submission_id,
           count(*) OVER (PARTITION BY l.platform_id, l.period) AS candidates
    FROM (SELECT DISTINCT platform_id, period, first_uploaded FROM late_uploads) AS l
    JOIN submissions AS s ON s.uploaded_at = l.first_uploaded
),
first_submissions AS (
    SELECT platform_id, period, submission_id FROM first_candidates WHERE candidates = 1
    UNION ALL
    SELECT r.platform_id, r.period, arg_min(s.id, s.uploaded_at)
    FROM records AS r
    JOIN submissions AS s ON s.id = r.submission_id
    SEMI JOIN first_candidates AS c
      ON c.platform_id = r.platform_id AND c.period = r.period AND c.candidates > 1
    GROUP BY r.platform_id, r.period
),

silent_flags AS (
    SELECT 'silent' AS kind, f.partner, f.platform_id, f.period,
           (SELECT max(k.submission_id) FROM keys AS k WHERE k.platform_id = f.platform_id)
               AS submission_id,
           f.detail
    FROM silent_found AS f
),
no_effort_flags AS (
    SELECT 'detection_without_effort' AS kind, f.partner, f.platform_id, f.period,
           (SELECT max(k.submission_id) FROM keys AS k
            WHERE k.platform_id = f.platform_id AND k.period = f.period
              AND k.listings_detected IS NOT NULL
              AND (k.search_effort IS NULL
                   OR (k.search_effort = 0 AND k.listings_detected > 0))) AS submission_id,
           f.detail
    FROM no_effort_found AS f
),
effort_flags AS (
    SELECT 'effort_change' AS kind, f.partner, f.platform_id, f.period,
           (SELECT max(k.submission_id) FROM keys AS k
            WHERE k.platform_id = f.platform_id AND k.period = f.period
              AND k.search_effort IS NOT NULL) AS submission_id,
           f.detail
    FROM effort_found AS f
),
share_flags AS (
    SELECT 'share_jump' AS kind, f.partner, f.platform_id, f.period,
           (SELECT max(k.submission_id) FROM keys AS k
            JOIN periods AS p ON p.period = k.period
            WHERE k.platform_id = f.platform_id AND p.quarter = f.period) AS submission_id,
           f.detail
    FROM share_found AS f
),
late_flags AS (
    SELECT 'late' AS kind, l.partner,
           string_agg(DISTINCT pl.name, ', ' ORDER BY pl.name) AS platform,
           l.quarter AS period,
           arg_min(f.submission_id, l.first_uploaded) AS submission_id,
           format('Figures for {} first arrived on {}, {} day(s) after the due date {}',
                  l.quarter, strftime(min(l.first_uploaded), '%Y-%m-%d'),
                  date_diff('day', any_value(l.due_date), CAST(min(l.first_uploaded) AS DATE)),
                  strftime(any_value(l.due_date), '%Y-%m-%d')) AS detail
    FROM late_uploads AS l
    LEFT JOIN first_submissions AS f ON f.platform_id = l.platform_id AND f.period = l.period
    JOIN platforms AS pl ON pl.id = l.platform_id
    GROUP BY l.partner, l.quarter
),
"""

# the jumps' platforms and periods, whose records name the submission of each jump...
_JUMP_WANTED = "jump_wanted AS (SELECT platform_id, period FROM jump_found),\n"
# ...in ``keys``
_JUMP_FLAGS_FROM_KEYS = """jump_flags AS (
    SELECT 'jump' AS kind, j.partner, j.platform_id, j.period, k.submission_id, j.detail
    FROM jump_found AS j
    LEFT JOIN keys AS k
      ON k.platform_id = j.platform_id AND k.period = j.period
     AND k.species_group = j.species_group AND k.country IS NOT DISTINCT FROM j.country
),
"""


def _figures(platforms: str) -> str:
    return _ROLLUP_FIGURES.replace("{platforms}", platforms)


FLAGS_FROM_ROLLUPS = (
    "WITH\n"
    + _figures("")
    + _JUMPS_FROM_FIGURES
    + _JUMP_WANTED
    + _FLAGS_FROM_FIGURES
    + _JUMP_FLAGS_FROM_KEYS
    + _ALL_FLAGS
)

# The jump flags of every platform, or (``$ids``, with PLATFORMS) of some, with the submission
# each names, as stored in ``rollup_jumps`` (coalition/rollup.py) when the rollups are
# refreshed: the flagged keys' current records tell the submission, as ``keys`` does above.
JUMP_COLUMNS = "partner, platform_id, period, species_group, country, detail, submission_id"
JUMP_PARAMETERS = {"jump_factor": JUMP_FACTOR, "jump_minimum": JUMP_MINIMUM}
PLATFORMS = "AND list_contains($ids, platform_id)"
_JUMP_SUBMISSIONS = """
jump_submissions AS (
    SELECT r.platform_id, r.period, r.species_group, r.country,
           max(r.submission_id) AS submission_id
    FROM records AS r
    JOIN submissions AS s ON s.id = r.submission_id
    SEMI JOIN jump_found AS j
      ON j.platform_id = r.platform_id AND j.period = r.period
     AND j.species_group = r.species_group AND j.country IS NOT DISTINCT FROM r.country
    WHERE r.superseded_by IS NULL
      AND ((s.status = 'accepted' AND r.replaced_by_pending IS NULL) OR s.status = 'submitted')
    GROUP BY r.platform_id, r.period, r.species_group, r.country
)
SELECT j.partner, j.platform_id, j.period, j.species_group, j.country, j.detail,
       k.submission_id
FROM jump_found AS j
LEFT JOIN jump_submissions AS k
  ON k.platform_id = j.platform_id AND k.period = j.period
 AND k.species_group = j.species_group AND k.country IS NOT DISTINCT FROM j.country
"""


def jumps_sql(platforms: str = "") -> str:
    """The query of the jump flags (the columns of JUMP_COLUMNS), from the rollups and the
    flagged keys' records, for every platform or, with ``platforms=PLATFORMS``, for the
    platform ids in the parameter ``ids``; the parameters of JUMP_PARAMETERS too."""
    return f"WITH\n{_figures(platforms)}{_JUMPS_FROM_FIGURES}{_JUMP_SUBMISSIONS}"


# The same flags, when the jump flags are stored (a large database: see coalition/rollup.py):
# no jump is worked out, nor its submission looked up.
_JUMPS_STORED = (
    "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'rollup_jumps' AND NOT temporary"
)
FLAGS_FROM_STORED_JUMPS = (
    "WITH\n"
    + _figures("")
    + f"jump_found AS (SELECT {JUMP_COLUMNS} FROM rollup_jumps),\n"
    + "jump_wanted AS (SELECT platform_id, period FROM jump_found WHERE false),\n"
    + _FLAGS_FROM_FIGURES
    + "jump_flags AS (\n"
    + "    SELECT 'jump' AS kind, partner, platform_id, period, submission_id, detail\n"
    + "    FROM jump_found\n),\n"
    + _ALL_FLAGS
)


def flags(cur: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> pd.DataFrame:
    """Every data-quality flag (see the module's description for the rules), sorted by
    partner, platform, period and kind: columns ``kind``, ``partner`` (slug), ``platform``
    (for a late quarter, the late platforms), ``period``, ``submission_id``, ``detail`` (what
    was found, in words) and ``severity`` (``warning``: the figure may be wrong; ``info``:
    worth knowing when reading the figures). ``today`` decides which quarters are due. Read
    from the pre-aggregated tables when they are up to date (:func:`metrics.rollups.fresh`),
    and the jumps from those stored with them when there are."""
    today = today or dt.date.today()
    if not rollups.fresh(cur):
        query = FLAGS
    elif cur.execute(_JUMPS_STORED).fetchone()[0]:
        query = FLAGS_FROM_STORED_JUMPS
    else:
        query = FLAGS_FROM_ROLLUPS
    params = {
        "today": today,
        "due_days": due_days(cur),
        **JUMP_PARAMETERS,
        "effort_factor": EFFORT_FACTOR,
        "share_points": SHARE_POINTS,
        "share_factor": SHARE_FACTOR,
        "share_minimum": SHARE_MINIMUM,
    }
    frame = cur.execute(query, {k: v for k, v in params.items() if f"${k}" in query}).df()
    frame["severity"] = frame["kind"].map(SEVERITY)
    frame["submission_id"] = frame["submission_id"].astype("Int64")
    frame["kind_order"] = frame["kind"].map(KINDS.index)
    frame = frame.sort_values(["partner", "platform", "period", "kind_order", "detail"])
    return frame[COLUMNS].reset_index(drop=True)
