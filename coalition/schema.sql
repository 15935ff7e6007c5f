-- Coalition Progress Tracker schema, version 1.
-- Reference tables (species groups, countries, regions, periods) are filled from data/ by
-- coalition.reference; partners, platforms, submissions and records by the loaders.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS partners (
    slug            TEXT PRIMARY KEY CHECK (regexp_full_match(slug, '[a-z0-9][a-z0-9-]*')),
    name            TEXT NOT NULL UNIQUE,
    sector          TEXT NOT NULL CHECK (sector IN ('e-commerce', 'social-media', 'search', 'other')),
    joined          DATE NOT NULL,
    consent_to_name BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE SEQUENCE IF NOT EXISTS platform_id_seq START 1;
CREATE TABLE IF NOT EXISTS platforms (
    id      INTEGER PRIMARY KEY DEFAULT nextval('platform_id_seq'),
    partner TEXT NOT NULL REFERENCES partners (slug),
    name    TEXT NOT NULL UNIQUE,
    kind    TEXT NOT NULL DEFAULT 'other'
            CHECK (kind IN ('marketplace', 'second-hand', 'social', 'messaging', 'search', 'other'))
);

CREATE TABLE IF NOT EXISTS species_groups (
    slug           TEXT PRIMARY KEY,
    name_en        TEXT NOT NULL,
    name_zh        TEXT NOT NULL,
    cites_appendix TEXT NOT NULL,
    sort_order     INTEGER NOT NULL
);

-- Every spelling that names a species group: its slug, names, synonyms and scientific names,
-- stored folded (lower case, single spaces) so that a lookup is one equality.
CREATE TABLE IF NOT EXISTS species_synonyms (
    synonym       TEXT PRIMARY KEY,
    species_group TEXT NOT NULL REFERENCES species_groups (slug),
    kind          TEXT NOT NULL CHECK (kind IN ('slug', 'name', 'synonym', 'taxon'))
);

CREATE TABLE IF NOT EXISTS countries (
    iso3                TEXT PRIMARY KEY,
    iso2                TEXT NOT NULL UNIQUE,
    m49                 TEXT,
    name_en             TEXT NOT NULL,
    name_zh             TEXT NOT NULL,
    region              TEXT NOT NULL,
    subregion           TEXT NOT NULL,
    intermediate_region TEXT
);

-- A period is a month ('2019-07') or a quarter ('2019-Q3'). end_month places a quarterly figure
-- at its last month when figures are shown month by month.
CREATE TABLE IF NOT EXISTS periods (
    period     TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('month', 'quarter')),
    start_date DATE NOT NULL,
    end_date   DATE NOT NULL,
    end_month  TEXT NOT NULL,
    quarter    TEXT NOT NULL,
    year       INTEGER NOT NULL,
    months     INTEGER NOT NULL
);

-- Every uploaded file, byte for byte, by its SHA-256 (submissions.file_sha256 points here).
CREATE TABLE IF NOT EXISTS files (
    sha256  TEXT PRIMARY KEY CHECK (regexp_full_match(sha256, '[0-9a-f]{64}')),
    size    BIGINT NOT NULL CHECK (size >= 0),
    content BLOB NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS submission_id_seq START 1;
CREATE TABLE IF NOT EXISTS submissions (
    id             INTEGER PRIMARY KEY DEFAULT nextval('submission_id_seq'),
    partner        TEXT NOT NULL REFERENCES partners (slug),
    uploaded_by    TEXT NOT NULL,
    uploaded_at    TIMESTAMP NOT NULL,
    file_name      TEXT,
    file_sha256    TEXT,
    source         TEXT NOT NULL CHECK (source IN ('upload', 'cli', 'demo')),
    status         TEXT NOT NULL DEFAULT 'submitted'
                   CHECK (status IN ('submitted', 'accepted', 'returned', 'superseded')),
    reviewed_by    TEXT,
    reviewed_at    TIMESTAMP,
    review_comment TEXT
);

CREATE SEQUENCE IF NOT EXISTS record_id_seq START 1;
-- One row = partner x platform x period x species group x country. A NULL count means
-- "not reported", which is not 0. superseded_by points at the submission that replaced the row;
-- superseded rows stay for history and can be restored. A submission supersedes older rows
-- when it is accepted; while it awaits review the accepted rows it would replace point at it
-- through replaced_by_pending, so that "include submitted" shows the pending figures instead.
CREATE TABLE IF NOT EXISTS records (
    id                BIGINT PRIMARY KEY DEFAULT nextval('record_id_seq'),
    submission_id     INTEGER NOT NULL REFERENCES submissions (id),
    platform_id       INTEGER NOT NULL REFERENCES platforms (id),
    period            TEXT NOT NULL REFERENCES periods (period),
    species_group     TEXT NOT NULL REFERENCES species_groups (slug),
    country           TEXT REFERENCES countries (iso3),
    taxon             TEXT,
    listings_removed  BIGINT CHECK (listings_removed >= 0),
    listings_blocked  BIGINT CHECK (listings_blocked >= 0),
    accounts_actioned BIGINT CHECK (accounts_actioned >= 0),
    reports_received  BIGINT CHECK (reports_received >= 0),
    listings_detected BIGINT CHECK (listings_detected >= 0),
    search_effort     BIGINT CHECK (search_effort >= 0),
    notes             TEXT,
    superseded_by     INTEGER,
    -- set while a submission awaiting review would replace this (accepted) row
    replaced_by_pending INTEGER,
    CHECK (coalesce(listings_removed, listings_blocked, accounts_actioned, reports_received,
                    listings_detected, search_effort) IS NOT NULL)
);

-- A fixed base period for a platform; platforms without a row use the default rule
-- (their first four reported quarters).
CREATE TABLE IF NOT EXISTS baselines (
    platform_id   INTEGER PRIMARY KEY REFERENCES platforms (id),
    first_quarter TEXT NOT NULL CHECK (regexp_full_match(first_quarter, '\d{4}-Q[1-4]')),
    last_quarter  TEXT NOT NULL CHECK (regexp_full_match(last_quarter, '\d{4}-Q[1-4]')),
    CHECK (first_quarter <= last_quarter)
);

CREATE SEQUENCE IF NOT EXISTS target_id_seq START 1;
CREATE TABLE IF NOT EXISTS targets (
    id         INTEGER PRIMARY KEY DEFAULT nextval('target_id_seq'),
    name       TEXT NOT NULL UNIQUE,
    reduction  DOUBLE NOT NULL CHECK (reduction > 0 AND reduction <= 1),
    deadline   DATE NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE
);

-- The one place where the indicators read counts: current (not superseded) rows with everything
-- a filter or a breakdown needs. Country NULL means global / unspecified.
CREATE OR REPLACE VIEW facts AS
SELECT
    r.id,
    r.submission_id,
    s.status,
    r.platform_id,
    pl.name AS platform,
    pl.partner,
    pa.sector,
    r.period,
    pe.kind AS period_kind,
    pe.start_date,
    pe.end_date,
    pe.end_month,
    pe.quarter,
    pe.year,
    pe.months,
    r.species_group,
    r.country,
    coalesce(c.region, 'Global / unspecified') AS region,
    coalesce(c.subregion, 'Global / unspecified') AS subregion,
    r.listings_removed,
    r.listings_blocked,
    r.accounts_actioned,
    r.reports_received,
    r.listings_detected,
    r.search_effort,
    r.replaced_by_pending
FROM records AS r
JOIN submissions AS s ON s.id = r.submission_id
JOIN platforms AS pl ON pl.id = r.platform_id
JOIN partners AS pa ON pa.slug = pl.partner
JOIN periods AS pe ON pe.period = r.period
LEFT JOIN countries AS c ON c.iso3 = r.country
WHERE r.superseded_by IS NULL;
