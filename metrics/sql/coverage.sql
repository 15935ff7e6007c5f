-- Reporting coverage and timeliness per group and period: who was expected to report, who did,
-- and who reported late (first upload for the period more than $due_days after its end).
WITH
--@scope
, buckets AS (
    SELECT DISTINCT
        CASE $grain WHEN 'month' THEN end_month WHEN 'year' THEN CAST(year AS TEXT)
                    ELSE quarter END AS period,
        min(start_date) OVER w AS start_date,
        max(end_date) OVER w AS end_date
    FROM periods
    WHERE kind = 'month'
      AND start_date >= coalesce($from_date, (SELECT min(start_date) FROM facts))
      AND end_date <= coalesce($to_date, (SELECT max(end_date) FROM facts))
    WINDOW w AS (PARTITION BY CASE $grain WHEN 'month' THEN end_month
                              WHEN 'year' THEN CAST(year AS TEXT) ELSE quarter END)
),
members_named AS (
    -- partners expected to report in a period: those that had joined by its end
    SELECT
        b.period,
        CASE $by WHEN 'partner' THEN pa.slug WHEN 'sector' THEN pa.sector
                 WHEN 'platform' THEN pl.name ELSE 'All' END AS named_group,
        pa.slug AS partner,
        pr.protected,
        pl.id AS platform_id
    FROM buckets AS b
    JOIN partners AS pa ON pa.joined <= b.end_date
    JOIN platforms AS pl ON pl.partner = pa.slug
    JOIN protection AS pr ON pr.partner = pa.slug
    WHERE ($partners IS NULL OR list_contains($partners, pa.slug))
      AND ($platforms IS NULL OR list_contains($platforms, pl.name))
      AND ($sectors IS NULL OR list_contains($sectors, pa.sector))
),
member_groups AS (
    -- the same merging into 'Other' as for the records (metrics.access), decided on members
    SELECT
        named_group,
        CASE WHEN count(DISTINCT partner) FILTER (WHERE protected)
                  BETWEEN 1 AND $min_partners - 1 THEN 'Others (merged)'
             ELSE named_group END AS grp
    FROM members_named
    GROUP BY named_group
),
members AS (
    SELECT m.*, g.grp FROM members_named AS m JOIN member_groups AS g USING (named_group)
),
expected AS (
    SELECT period, grp, count(DISTINCT partner) AS partners_expected,
           count(DISTINCT platform_id) AS platforms_expected,
           count(DISTINCT partner) FILTER (WHERE protected) AS protected_expected
    FROM members
    GROUP BY period, grp
),
uploads AS (
    -- when figures for a platform and period first arrived, in any submission, even one that
    -- a correction superseded later: a late correction does not make an on-time report late
    SELECT r.platform_id, r.period, min(sub.uploaded_at) AS first_uploaded
    FROM records AS r
    JOIN submissions AS sub ON sub.id = r.submission_id
    GROUP BY r.platform_id, r.period
),
first_upload AS (
    SELECT coalesce(g.grp, s.grp) AS grp, s.bucket AS period, s.partner, s.protected,
           s.platform_id, s.period AS reported_period,
           -- partners report quarterly: a month's figures are due with its quarter's
           min(u.first_uploaded) AS first_uploaded, any_value(q.end_date) AS period_end
    FROM scoped AS s
    JOIN uploads AS u ON u.platform_id = s.platform_id AND u.period = s.period
    JOIN periods AS q ON q.period = s.quarter
    LEFT JOIN member_groups AS g ON g.named_group = s.named_group
    WHERE $from_date IS NULL OR s.start_date >= $from_date
    GROUP BY ALL
),
reporting AS (
    SELECT
        period,
        grp,
        count(DISTINCT partner) AS partners_reporting,
        count(DISTINCT platform_id) AS platforms_reporting,
        count(DISTINCT partner) FILTER (
            -- late: uploaded after the whole of the due day (period end + due days)
            WHERE CAST(first_uploaded AS DATE) > period_end + to_days(CAST($due_days AS INTEGER))
        ) AS partners_late,
        count(DISTINCT partner) FILTER (WHERE protected) AS protected_reporting
    FROM first_upload
    GROUP BY period, grp
)
SELECT
    coalesce(r.grp, e.grp) AS "group",
    coalesce(r.period, e.period) AS period,
    e.partners_expected,
    coalesce(r.partners_reporting, 0) AS partners_reporting,
    e.platforms_expected,
    coalesce(r.platforms_reporting, 0) AS platforms_reporting,
    coalesce(r.partners_late, 0) AS partners_late,
    greatest(e.partners_expected - coalesce(r.partners_reporting, 0), 0) AS partners_missing,
    coalesce(r.partners_reporting, 0) / nullif(e.partners_expected, 0) AS reporting_share,
    greatest(coalesce(e.protected_expected, 0), coalesce(r.protected_reporting, 0))
        AS protected_partners
FROM reporting AS r
FULL JOIN expected AS e ON e.period = r.period AND e.grp = r.grp
WHERE coalesce(r.period, e.period) IN (SELECT period FROM buckets)
ORDER BY "group", period
