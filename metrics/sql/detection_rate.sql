-- Detection rate: listings found in the standardised monitoring sweep per search run, over the
-- rows that report both; detections reported without search effort are counted beside it.
WITH
--@scope
SELECT
    grp AS "group",
    bucket AS period,
    sum(listings_detected) FILTER (WHERE search_effort IS NOT NULL) AS listings_detected,
    sum(search_effort) FILTER (WHERE listings_detected IS NOT NULL) AS search_effort,
    sum(listings_detected) FILTER (WHERE search_effort IS NOT NULL)
        / nullif(sum(search_effort) FILTER (WHERE listings_detected IS NOT NULL), 0)
        AS detection_rate,
    1000 * sum(listings_detected) FILTER (WHERE search_effort IS NOT NULL)
        / nullif(sum(search_effort) FILTER (WHERE listings_detected IS NOT NULL), 0)
        AS detected_per_1000_searches,
    sum(listings_detected) FILTER (WHERE search_effort IS NULL) AS detected_without_effort,
    count(DISTINCT partner) FILTER (WHERE protected) AS protected_partners
FROM scoped
WHERE listings_detected IS NOT NULL
  AND ($from_date IS NULL OR start_date >= $from_date)
GROUP BY grp, bucket
ORDER BY "group", period
