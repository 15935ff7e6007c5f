-- Version 5: records without a primary key.
--
-- DuckDB keeps a primary key in an index of its own, updated row by row: it made storing a
-- 200,000-row submission take 0.22 s instead of 0.08 s, and at 20 million records the index
-- is held in memory besides. Nothing needs it: every insert takes its id from
-- record_id_seq (a restored backup moves the sequence past the highest id), and the updates
-- that supersede rows join on their ids rather than look each one up. DuckDB cannot drop a
-- constraint, so the table is built again as version 4 did: the same columns in the same
-- order, the same default, the CHECK constraints, id still NOT NULL, every row with its id.

CREATE TABLE records_new (
    id                BIGINT NOT NULL DEFAULT nextval('record_id_seq'),
    submission_id     INTEGER NOT NULL,
    platform_id       INTEGER NOT NULL,
    period            TEXT NOT NULL,
    species_group     TEXT NOT NULL,
    country           TEXT,
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

INSERT INTO records_new
SELECT id, submission_id, platform_id, period, species_group, country, taxon,
       listings_removed, listings_blocked, accounts_actioned, reports_received,
       listings_detected, search_effort, notes, superseded_by, replaced_by_pending
FROM records;  -- in the table's own order (DuckDB keeps it), which is the order of the ids

-- the facts view reads records by name: it reads the new table once it has the name
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
