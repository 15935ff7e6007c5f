-- Actions (listings removed + listings blocked) per group and period, with the running total
-- since the first record. Periods before $from_bucket count toward the running total but are
-- not listed.
WITH
--@scope
, per_period AS (
    SELECT
        grp,
        bucket AS period,
        sum(listings_removed) AS listings_removed,
        sum(listings_blocked) AS listings_blocked,
        coalesce(sum(listings_removed), 0) + coalesce(sum(listings_blocked), 0) AS actions,
        count(DISTINCT partner) AS partners_reporting,
        count(DISTINCT platform_id) AS platforms_reporting
    FROM scoped
    WHERE $grain <> 'total' OR $from_date IS NULL OR start_date >= $from_date
    GROUP BY grp, bucket
)
SELECT
    grp AS "group",
    period,
    listings_removed,
    listings_blocked,
    actions,
    sum(actions) OVER (PARTITION BY grp ORDER BY period) AS cumulative_actions,
    partners_reporting,
    platforms_reporting
FROM per_period
QUALIFY $from_bucket IS NULL OR period >= $from_bucket
ORDER BY "group", period
