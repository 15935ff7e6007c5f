-- Version 4: records without foreign keys.
--
-- DuckDB checks a foreign key row by row, through an index of its own on each referencing
-- column: the five on records made storing a 200,000-row submission take about a second more
-- (the insert three times as long, the commit four times). The loaders check the same
-- references set-wise instead, on the distinct values of the rows they insert, before anything
-- is stored (coalition.store.add_submission, coalition.store.check_record_references). DuckDB
-- cannot drop a constraint, so the table is built again: the same columns in the same order,
-- the same defaults (record_id_seq), primary key and CHECK constraints, and every row with its
-- id.

CREATE TABLE records_new (
    id                BIGINT PRIMARY KEY DEFAULT nextval('record_id_seq'),
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
