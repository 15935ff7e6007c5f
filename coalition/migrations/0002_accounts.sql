-- Version 2: accounts for signing in, and the audit log of every administrative change.

CREATE SEQUENCE IF NOT EXISTS user_id_seq START 1;
CREATE TABLE IF NOT EXISTS users (
    id              INTEGER PRIMARY KEY DEFAULT nextval('user_id_seq'),
    name            TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('secretariat', 'partner', 'observer')),
    -- a partner account sees its own company's rows; other roles have no partner
    partner         TEXT REFERENCES partners (slug),
    password_hash   TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TIMESTAMP,
    last_sign_in    TIMESTAMP,
    CHECK ((role = 'partner') = (partner IS NOT NULL))
);

-- Who changed what, when, with the values before and after (JSON), for the secretariat to read.
CREATE SEQUENCE IF NOT EXISTS audit_id_seq START 1;
CREATE TABLE IF NOT EXISTS audit_log (
    id         BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
    changed_at TIMESTAMP NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_key TEXT,
    before     JSON,
    after      JSON
);
