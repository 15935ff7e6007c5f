-- Reduction of the detection rate against each platform's baseline, over a matched panel,
-- for every quarter up to the as-of date. See metrics/reduction.py for the definition.
WITH
--@scope
, platform_quarters AS (
    -- The baseline belongs to the platform: it is found from all of the platform's detection
    -- figures up to the as-of date, whatever the species, region or country filters.
    SELECT
        f.platform_id,
        f.quarter,
        sum(f.search_effort) AS effort
    FROM facts AS f
    WHERE (f.status = 'accepted' OR ($include_submitted AND f.status = 'submitted'))
      AND NOT ($include_submitted AND f.replaced_by_pending IS NOT NULL)
      AND f.listings_detected IS NOT NULL
      AND ($to_date IS NULL OR f.end_date <= $to_date)
    GROUP BY f.platform_id, f.quarter
),
platform_effort AS (
    -- A platform that never reports search effort is taken to run a constant sweep: its rate is
    -- detections per month reported.
    SELECT platform_id, bool_or(effort IS NOT NULL) AS reports_effort
    FROM platform_quarters
    GROUP BY platform_id
),
rated_quarters AS (
    SELECT
        q.platform_id,
        q.quarter,
        row_number() OVER (PARTITION BY q.platform_id ORDER BY q.quarter) AS n
    FROM platform_quarters AS q
    JOIN platform_effort AS e ON e.platform_id = q.platform_id
    WHERE NOT e.reports_effort OR q.effort > 0
),
windows AS (
    SELECT platform_id, first_quarter, last_quarter
    FROM baselines
    WHERE $to_quarter IS NULL OR last_quarter < $to_quarter
    UNION ALL
    SELECT platform_id, min(quarter), max(quarter)
    FROM rated_quarters
    WHERE n <= 4 AND platform_id NOT IN (SELECT platform_id FROM baselines)
    GROUP BY platform_id
    HAVING count(*) = 4
),
unit_periods AS (
    -- one row per unit and period reported: the months below are then counted without DISTINCT
    -- (which the engine would work out in separate passes over every record)
    SELECT
        s.platform_id,
        s.grp,
        s.quarter,
        s.period,
        s.period_kind,
        any_value(s.partner) AS partner,
        bool_or(s.protected) AS protected,
        sum(s.listings_detected) AS detected_all,
        sum(s.listings_detected) FILTER (WHERE s.search_effort IS NOT NULL) AS detected_with_effort,
        sum(s.search_effort) AS effort
    FROM scoped AS s
    WHERE s.listings_detected IS NOT NULL
    GROUP BY s.platform_id, s.grp, s.quarter, s.period, s.period_kind
),
unit_quarters AS (
    SELECT
        platform_id,
        grp,
        quarter,
        any_value(partner) AS partner,
        bool_or(protected) AS protected,
        sum(detected_all) AS detected_all,
        sum(detected_with_effort) AS detected_with_effort,
        sum(effort) AS effort,
        least(3, count(*) FILTER (WHERE period_kind = 'month')
                 + 3 * count(*) FILTER (WHERE period_kind = 'quarter')) AS months
    FROM unit_periods
    GROUP BY platform_id, grp, quarter
),
unit_rates AS (
    SELECT
        u.platform_id,
        u.grp,
        u.quarter,
        u.partner,
        u.protected,
        -- a platform that reports effort is measured on the rows that report both counts
        CASE WHEN e.reports_effort THEN u.detected_with_effort ELSE u.detected_all END
            AS detected,
        CASE WHEN e.reports_effort THEN u.effort ELSE u.months END AS exposure
    FROM unit_quarters AS u
    JOIN platform_effort AS e ON e.platform_id = u.platform_id
),
unit_baselines AS (
    SELECT
        r.platform_id,
        r.grp,
        w.last_quarter,
        any_value(r.partner) AS partner,
        bool_or(r.protected) AS protected,
        sum(r.detected) AS base_detected,
        sum(r.exposure) AS base_exposure,
        (epoch(any_value(fq.start_date)) + epoch(any_value(lq.end_date) + INTERVAL 1 DAY)) / 2
            AS base_midpoint
    FROM unit_rates AS r
    JOIN windows AS w ON w.platform_id = r.platform_id
    JOIN periods AS fq ON fq.period = w.first_quarter
    JOIN periods AS lq ON lq.period = w.last_quarter
    WHERE r.quarter BETWEEN w.first_quarter AND w.last_quarter AND r.exposure > 0
      AND r.detected IS NOT NULL
    GROUP BY r.platform_id, r.grp, w.last_quarter
    -- nothing detected at baseline leaves nothing to reduce: such a unit cannot be in a panel
    HAVING sum(r.detected) > 0
),
series_quarters AS (
    SELECT DISTINCT quarter FROM unit_rates
),
eligible AS (
    -- units whose baseline was complete before the quarter
    SELECT q.quarter, b.*
    FROM series_quarters AS q
    JOIN unit_baselines AS b ON b.last_quarter < q.quarter
),
panel AS (
    SELECT e.quarter, e.grp, e.platform_id, r.detected / r.exposure AS rate
    FROM eligible AS e
    JOIN unit_rates AS r
      ON r.platform_id = e.platform_id AND r.grp = e.grp AND r.quarter = e.quarter
    WHERE r.exposure > 0 AND r.detected IS NOT NULL
)
SELECT
    e.grp AS "group",
    e.quarter AS period,
    count(p.platform_id) AS units_in_panel,
    count(*) AS units_with_baseline,
    -- a unit is a platform within the group, so its platforms are its units
    count(p.platform_id) AS platforms_in_panel,
    sum(e.base_detected) FILTER (WHERE p.platform_id IS NOT NULL) AS panel_baseline_detected,
    sum(e.base_detected) AS baseline_detected,
    sum(p.rate * e.base_exposure) AS detected_at_baseline_effort,
    sum(p.rate * e.base_exposure)
        / sum(e.base_detected) FILTER (WHERE p.platform_id IS NOT NULL) AS rate_index,
    1 - sum(p.rate * e.base_exposure)
        / sum(e.base_detected) FILTER (WHERE p.platform_id IS NOT NULL) AS reduction,
    coalesce(sum(e.base_detected) FILTER (WHERE p.platform_id IS NOT NULL), 0)
        / sum(e.base_detected) AS coverage_share,
    make_timestamp(CAST(1e6 * sum(e.base_detected * e.base_midpoint)
        FILTER (WHERE p.platform_id IS NOT NULL)
        / sum(e.base_detected) FILTER (WHERE p.platform_id IS NOT NULL) AS BIGINT))
        AS baseline_midpoint,
    count(DISTINCT e.partner) FILTER (WHERE e.protected) AS protected_partners
FROM eligible AS e
LEFT JOIN panel AS p
  ON p.quarter = e.quarter AND p.grp = e.grp AND p.platform_id = e.platform_id
GROUP BY e.grp, e.quarter
ORDER BY "group", period
