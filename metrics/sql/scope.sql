scoped AS (
    -- The records a filter selects, as of its end date, each with the group it is broken down by.
    SELECT
        f.*,
        CASE $by
            WHEN 'platform' THEN f.platform
            WHEN 'species_group' THEN f.species_group
            WHEN 'region' THEN f.region
            WHEN 'subregion' THEN f.subregion
            WHEN 'country' THEN coalesce(f.country, 'Global / unspecified')
            WHEN 'partner' THEN f.partner
            WHEN 'sector' THEN f.sector
            ELSE 'All'
        END AS grp,
        CASE $grain
            WHEN 'month' THEN f.end_month
            WHEN 'quarter' THEN f.quarter
            WHEN 'year' THEN CAST(f.year AS TEXT)
            ELSE 'total'
        END AS bucket
    FROM facts AS f
    WHERE (f.status = 'accepted' OR ($include_submitted AND f.status = 'submitted'))
      AND NOT ($include_submitted AND f.replaced_by_pending IS NOT NULL)
      AND ($partners IS NULL OR list_contains($partners, f.partner))
      AND ($platforms IS NULL OR list_contains($platforms, f.platform))
      AND ($species IS NULL OR list_contains($species, f.species_group))
      AND ($regions IS NULL OR list_contains($regions, f.region)
           OR list_contains($regions, f.subregion))
      AND ($countries IS NULL OR list_contains($countries, f.country))
      AND ($sectors IS NULL OR list_contains($sectors, f.sector))
      AND ($to_date IS NULL OR f.end_date <= $to_date)
)
