-- Tasking: subjects and their designations, requests both ways, decisions, operations
-- with their time-versioned roles and outcomes, charging exceptions, notifications.
--
-- Rows that are the record (designations, request events, decisions, role spans,
-- outcomes) are only ever inserted; the one update to a role span is closing it
-- (`valid_until`), once. Structured values with no queries on their parts (a
-- decision's rationale and recommendation) are JSON in TEXT.

CREATE TABLE subjects (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    organisation TEXT NOT NULL REFERENCES organisations (code),
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL
);

CREATE INDEX subjects_by_organisation ON subjects (organisation);

CREATE TABLE subject_designations (
    id            TEXT PRIMARY KEY,
    subject_id    TEXT NOT NULL REFERENCES subjects (id),
    level         TEXT NOT NULL,
    basis         TEXT NOT NULL,
    designated_by TEXT NOT NULL REFERENCES users (id),
    designated_at BIGINT NOT NULL
);

CREATE INDEX subject_designations_by_subject ON subject_designations (subject_id, designated_at);

CREATE TABLE requests (
    id             TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    capability     TEXT REFERENCES capabilities (code),
    requester      TEXT NOT NULL REFERENCES organisations (code),
    receiver       TEXT NOT NULL REFERENCES organisations (code),
    route          TEXT NOT NULL,
    gateway        TEXT REFERENCES organisations (code),
    threat_areas   TEXT NOT NULL,
    areas          TEXT NOT NULL,
    international  BIGINT NOT NULL,
    sophistication TEXT NOT NULL,
    urgency        TEXT NOT NULL,
    case_text      TEXT NOT NULL,
    state          TEXT NOT NULL,
    raised_by      TEXT NOT NULL REFERENCES users (id),
    raised_at      BIGINT NOT NULL,
    submitted_at   BIGINT,
    respond_by     BIGINT,
    overdue_at     BIGINT,
    updated_at     BIGINT NOT NULL
);

CREATE INDEX requests_by_requester ON requests (requester, state);
CREATE INDEX requests_by_receiver ON requests (receiver, state);
CREATE INDEX requests_by_deadline ON requests (state, respond_by);

CREATE TABLE request_subjects (
    request_id TEXT NOT NULL REFERENCES requests (id),
    subject_id TEXT NOT NULL REFERENCES subjects (id),
    PRIMARY KEY (request_id, subject_id)
);

CREATE INDEX request_subjects_by_subject ON request_subjects (subject_id);

CREATE TABLE request_events (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests (id),
    event      TEXT NOT NULL,
    state      TEXT NOT NULL,
    by_user    TEXT REFERENCES users (id),
    at         BIGINT NOT NULL,
    note       TEXT
);

CREATE INDEX request_events_by_request ON request_events (request_id, at);

CREATE TABLE operations (
    id             TEXT PRIMARY KEY,
    code_name      TEXT NOT NULL UNIQUE,
    threat_areas   TEXT NOT NULL,
    strands        TEXT NOT NULL,
    origin_request TEXT REFERENCES requests (id),
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     BIGINT NOT NULL
);

CREATE TABLE operation_subjects (
    operation_id TEXT NOT NULL REFERENCES operations (id),
    subject_id   TEXT NOT NULL REFERENCES subjects (id),
    PRIMARY KEY (operation_id, subject_id)
);

CREATE INDEX operation_subjects_by_subject ON operation_subjects (subject_id);

CREATE TABLE operation_capabilities (
    operation_id TEXT NOT NULL REFERENCES operations (id),
    capability   TEXT NOT NULL REFERENCES capabilities (code),
    added_by     TEXT NOT NULL REFERENCES users (id),
    added_at     BIGINT NOT NULL,
    PRIMARY KEY (operation_id, capability)
);

CREATE TABLE operation_roles (
    id           TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL REFERENCES operations (id),
    organisation TEXT NOT NULL REFERENCES organisations (code),
    role         TEXT NOT NULL,
    valid_from   BIGINT NOT NULL,
    valid_until  BIGINT,
    reason       TEXT NOT NULL,
    recorded_by  TEXT NOT NULL REFERENCES users (id),
    recorded_at  BIGINT NOT NULL
);

CREATE INDEX operation_roles_by_operation ON operation_roles (operation_id, valid_from);
CREATE INDEX operation_roles_by_organisation ON operation_roles (organisation);

CREATE TABLE operation_outcomes (
    id                  TEXT PRIMARY KEY,
    operation_id        TEXT NOT NULL REFERENCES operations (id),
    disruption          TEXT,
    arrests             BIGINT NOT NULL,
    charges             BIGINT NOT NULL,
    drugs_grams         BIGINT NOT NULL,
    firearms            BIGINT NOT NULL,
    cash_pence          BIGINT NOT NULL,
    assets_denied_pence BIGINT NOT NULL,
    description         TEXT NOT NULL,
    occurred_at         BIGINT NOT NULL,
    recorded_by         TEXT NOT NULL REFERENCES users (id),
    recorded_at         BIGINT NOT NULL
);

CREATE INDEX operation_outcomes_by_operation ON operation_outcomes (operation_id, occurred_at);

CREATE TABLE decisions (
    id               TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL REFERENCES requests (id),
    outcome          TEXT NOT NULL,
    roles            TEXT,
    referral         TEXT REFERENCES organisations (code),
    rationale        TEXT NOT NULL,
    recommendation   TEXT NOT NULL,
    agency_role      TEXT NOT NULL,
    departure_reason TEXT,
    charging         TEXT NOT NULL,
    operation_id     TEXT REFERENCES operations (id),
    decided_by       TEXT NOT NULL REFERENCES users (id),
    decided_at       BIGINT NOT NULL,
    supersedes       TEXT UNIQUE REFERENCES decisions (id)
);

CREATE INDEX decisions_by_request ON decisions (request_id, decided_at);

CREATE TABLE charging_exceptions (
    request_id    TEXT PRIMARY KEY REFERENCES requests (id),
    terms         TEXT NOT NULL,
    proposed_by   TEXT NOT NULL REFERENCES users (id),
    proposed_side TEXT NOT NULL REFERENCES organisations (code),
    proposed_at   BIGINT NOT NULL,
    agreed_by     TEXT REFERENCES users (id),
    agreed_at     BIGINT
);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,
    record     TEXT NOT NULL,
    message    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);

CREATE INDEX notifications_by_user ON notifications (user_id, created_at);

-- Decisions and designations are the record: never edited, never deleted.
-- engine: sqlite
CREATE TRIGGER decisions_append_only_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER decisions_append_only_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER subject_designations_append_only_update BEFORE UPDATE ON subject_designations
BEGIN SELECT RAISE(ABORT, 'designations are append-only'); END;
CREATE TRIGGER subject_designations_append_only_delete BEFORE DELETE ON subject_designations
BEGIN SELECT RAISE(ABORT, 'designations are append-only'); END;
-- engine: postgres
CREATE FUNCTION concordat_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
FOR EACH ROW EXECUTE FUNCTION concordat_refuse_change();
CREATE TRIGGER subject_designations_append_only BEFORE UPDATE OR DELETE ON subject_designations
FOR EACH ROW EXECUTE FUNCTION concordat_refuse_change();
-- engine: all
