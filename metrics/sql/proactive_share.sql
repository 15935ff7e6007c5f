-- Proactive share: listings blocked before going live as a share of all listings actioned,
-- over the rows that report both counts (a row with only one of them would bias the share).
WITH
--@scope
SELECT
    grp AS "group",
    bucket AS period,
    sum(listings_blocked) AS listings_blocked,
    sum(listings_removed) AS listings_removed,
    sum(listings_blocked) / nullif(sum(listings_blocked) + sum(listings_removed), 0)
        AS proactive_share,
    count(*) AS rows_used,
    count(DISTINCT partner) FILTER (WHERE protected) AS protected_partners
FROM scoped
WHERE listings_blocked IS NOT NULL AND listings_removed IS NOT NULL
  AND ($from_date IS NULL OR start_date >= $from_date)
GROUP BY grp, bucket
ORDER BY "group", period
