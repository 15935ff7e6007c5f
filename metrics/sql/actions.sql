-- Actions (listings removed + listings blocked) per group and period, with the running total
-- since the first record. Periods before the range count toward the running total but are not
-- listed; with grain 'total' the counts are the range's and the running total is all to date.
WITH
--@scope
, per_period AS (
    -- one row per group, period, platform and whether it is in the range: the distinct counts
    -- below then run over thousands of rows, not over every record
    SELECT
        grp,
        bucket AS period,
        ($grain <> 'total' OR $from_date IS NULL OR start_date >= $from_date) AS in_range,
        sum(listings_removed) AS listings_removed,
        sum(listings_blocked) AS listings_blocked,
        partner,
        protected,
        platform_id
    FROM scoped
    GROUP BY grp, bucket, in_range, partner, protected, platform_id
),
totals AS (
    SELECT
        grp,
        period,
        sum(listings_removed) FILTER (WHERE in_range) AS listings_removed,
        sum(listings_blocked) FILTER (WHERE in_range) AS listings_blocked,
        coalesce(sum(listings_removed) FILTER (WHERE in_range), 0)
            + coalesce(sum(listings_blocked) FILTER (WHERE in_range), 0) AS actions,
        coalesce(sum(listings_removed), 0) + coalesce(sum(listings_blocked), 0) AS all_actions,
        count(DISTINCT partner) FILTER (WHERE in_range) AS partners_reporting,
        count(DISTINCT platform_id) FILTER (WHERE in_range) AS platforms_reporting,
        count(DISTINCT partner) FILTER (WHERE protected) AS protected_partners
    FROM per_period
    GROUP BY grp, period
)
SELECT
    grp AS "group",
    period,
    listings_removed,
    listings_blocked,
    actions,
    sum(all_actions) OVER (PARTITION BY grp ORDER BY period) AS cumulative_actions,
    partners_reporting,
    platforms_reporting,
    protected_partners
FROM totals
QUALIFY $from_bucket IS NULL OR period >= $from_bucket
ORDER BY "group", period
