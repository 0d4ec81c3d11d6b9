-- Intelligence handling: the protective marking of every sensitive record, need-to-know
-- shares, and graded intelligence records.
--
-- Markings and shares are kept apart from the records' own tables, keyed by kind and
-- identifier, so that one authorisation layer reads them the same way for every kind.
-- A record without a marking row is OFFICIAL (everything recorded before markings
-- existed was handled as OFFICIAL). A marking row is replaced when the record is
-- re-marked; each change is in the audit log with the old and new banner.

CREATE TABLE markings (
    record_kind    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    classification TEXT NOT NULL,
    marking        TEXT NOT NULL,
    marked_by      TEXT NOT NULL REFERENCES users (id),
    marked_at      BIGINT NOT NULL,
    PRIMARY KEY (record_kind, record_id)
);

CREATE TABLE shares (
    id            TEXT PRIMARY KEY,
    record_kind   TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    organisation  TEXT NOT NULL REFERENCES organisations (code),
    reason        TEXT NOT NULL,
    shared_by     TEXT NOT NULL REFERENCES users (id),
    shared_by_org TEXT NOT NULL REFERENCES organisations (code),
    shared_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_by    TEXT REFERENCES users (id),
    revoked_at    BIGINT
);

CREATE INDEX shares_by_record ON shares (record_kind, record_id);
CREATE INDEX shares_by_organisation ON shares (organisation, record_kind, expires_at);

CREATE TABLE intelligence (
    id           TEXT PRIMARY KEY,
    organisation TEXT NOT NULL REFERENCES organisations (code),
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    grading      TEXT NOT NULL,
    subject_id   TEXT REFERENCES subjects (id),
    recorded_by  TEXT NOT NULL REFERENCES users (id),
    recorded_at  BIGINT NOT NULL
);

CREATE INDEX intelligence_by_organisation ON intelligence (organisation, recorded_at);
