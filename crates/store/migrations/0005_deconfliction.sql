-- Subject deconfliction: registrations of interest and the hits between them.
--
-- A registration's record (the person, group, vehicle... as typed) is JSON that only
-- its own organisation ever reads back; `seq` is its number in the in-memory matching
-- index, which is rebuilt from this table at start-up. A hit joins two registrations
-- (`low` < `high`, once per pair) and keeps only the strength and the kinds of field
-- that agreed, never values.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE registrations (
    id                  TEXT PRIMARY KEY,
    seq                 BIGINT NOT NULL UNIQUE,
    reference           TEXT NOT NULL UNIQUE,
    organisation        TEXT NOT NULL REFERENCES organisations (code),
    kind                TEXT NOT NULL,
    record              TEXT NOT NULL,
    operation_id        TEXT REFERENCES operations (id),
    operation_reference TEXT,
    contact_name        TEXT NOT NULL,
    contact_detail      TEXT NOT NULL,
    disclosure          TEXT NOT NULL,
    registered_by       TEXT NOT NULL REFERENCES users (id),
    registered_at       BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    withdrawn_at        BIGINT
);

CREATE INDEX registrations_by_organisation ON registrations (organisation, registered_at);
CREATE INDEX registrations_live ON registrations (withdrawn_at, expires_at, seq);

CREATE TABLE hits (
    id                   TEXT PRIMARY KEY,
    low                  TEXT NOT NULL REFERENCES registrations (id),
    high                 TEXT NOT NULL REFERENCES registrations (id),
    probability_ppm      BIGINT NOT NULL,
    explanation          TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    low_acknowledged_at  BIGINT,
    high_acknowledged_at BIGINT,
    resolution           TEXT,
    resolved_by          TEXT REFERENCES users (id),
    resolved_at          BIGINT,
    UNIQUE (low, high)
);

CREATE INDEX hits_by_high ON hits (high);
