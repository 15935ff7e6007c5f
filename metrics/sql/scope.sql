protection AS (
    -- Which partners' figures are protected from this viewer: for anyone but the secretariat,
    -- every partner that has not consented to be named, except the viewer's own company.
    SELECT
        slug AS partner,
        ($viewer_role <> 'secretariat' AND NOT consent_to_name
         AND slug IS DISTINCT FROM $viewer_partner) AS protected
    FROM partners
),
selected AS (
    -- The records a filter selects, as of its end date, each with the group it is broken down by.
    SELECT
        f.*,
        p.protected,
        CASE $by
            WHEN 'platform' THEN f.platform
            WHEN 'platform_kind' THEN pk.kind
            WHEN 'species_region' THEN f.species_group || '|' || f.region
            WHEN 'species_group' THEN f.species_group
            WHEN 'region' THEN f.region
            WHEN 'subregion' THEN f.subregion
            WHEN 'country' THEN coalesce(f.country, 'Global / unspecified')
            WHEN 'partner' THEN f.partner
            WHEN 'sector' THEN f.sector
            ELSE 'All'
        END AS named_group,
        CASE $grain
            WHEN 'month' THEN f.end_month
            WHEN 'quarter' THEN f.quarter
            WHEN 'year' THEN CAST(f.year AS TEXT)
            ELSE 'total'
        END AS bucket
    FROM facts AS f
    JOIN protection AS p ON p.partner = f.partner
    JOIN platforms AS pk ON pk.id = f.platform_id
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
),
group_protection AS (
    -- A group built from 1 or 2 protected partners is merged into 'Other' (see metrics.access).
    -- Only the protected rows are read (none for the secretariat); a group without any gets no
    -- row here, and the left join below leaves its count empty.
    SELECT named_group, count(DISTINCT partner) AS protected_partners
    FROM selected
    WHERE protected
    GROUP BY named_group
),
scoped AS (
    SELECT
        s.*,
        CASE WHEN g.protected_partners BETWEEN 1 AND $min_partners - 1 THEN 'Others (merged)'
             ELSE s.named_group END AS grp
    FROM selected AS s
    LEFT JOIN group_protection AS g ON g.named_group = s.named_group
    WHERE s.named_group IS NOT NULL  -- as an inner join on it would
)
