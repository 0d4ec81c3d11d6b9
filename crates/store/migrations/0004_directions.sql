-- Directed tasking (¶9, ¶11): directions with their history, and the record of the
-- border protocol between the Home Secretary and the Director General.
--
-- A direction's row holds where it stands now; `direction_events` is the record of
-- every step and is only ever inserted. Protocol records are only ever inserted too:
-- the latest one says whether the protocol is in force.

CREATE TABLE directions (
    id                TEXT PRIMARY KEY,
    recipient         TEXT NOT NULL REFERENCES organisations (code),
    recipient_kind    TEXT NOT NULL,
    request_id        TEXT REFERENCES requests (id),
    instructions      TEXT NOT NULL,
    needed_by         BIGINT,
    state             TEXT NOT NULL,
    transport_consent TEXT NOT NULL,
    drafted_by        TEXT NOT NULL REFERENCES users (id),
    drafted_at        BIGINT NOT NULL,
    issued_by         TEXT REFERENCES users (id),
    issued_at         BIGINT,
    acknowledged_by   TEXT REFERENCES users (id),
    acknowledged_at   BIGINT,
    compliance_note   TEXT,
    updated_at        BIGINT NOT NULL
);

CREATE INDEX directions_by_recipient ON directions (recipient, drafted_at);

CREATE TABLE direction_events (
    id           TEXT PRIMARY KEY,
    direction_id TEXT NOT NULL REFERENCES directions (id),
    event        TEXT NOT NULL,
    state        TEXT NOT NULL,
    by_user      TEXT NOT NULL REFERENCES users (id),
    at           BIGINT NOT NULL,
    note         TEXT
);

CREATE INDEX direction_events_by_direction ON direction_events (direction_id, at);

CREATE TABLE border_protocol_records (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    note        TEXT,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at BIGINT NOT NULL
);

CREATE INDEX border_protocol_records_by_time ON border_protocol_records (recorded_at);

-- A direction's history and the protocol records are the record: never edited, never
-- deleted. (PostgreSQL's `concordat_refuse_change` comes from 0003.)
-- engine: sqlite
CREATE TRIGGER direction_events_append_only_update BEFORE UPDATE ON direction_events
BEGIN SELECT RAISE(ABORT, 'direction events are append-only'); END;
CREATE TRIGGER direction_events_append_only_delete BEFORE DELETE ON direction_events
BEGIN SELECT RAISE(ABORT, 'direction events are append-only'); END;
CREATE TRIGGER border_protocol_records_append_only_update BEFORE UPDATE ON border_protocol_records
BEGIN SELECT RAISE(ABORT, 'border protocol records are append-only'); END;
CREATE TRIGGER border_protocol_records_append_only_delete BEFORE DELETE ON border_protocol_records
BEGIN SELECT RAISE(ABORT, 'border protocol records are append-only'); END;
-- engine: postgres
CREATE TRIGGER direction_events_append_only BEFORE UPDATE OR DELETE ON direction_events
FOR EACH ROW EXECUTE FUNCTION concordat_refuse_change();
CREATE TRIGGER border_protocol_records_append_only BEFORE UPDATE OR DELETE ON border_protocol_records
FOR EACH ROW EXECUTE FUNCTION concordat_refuse_change();
-- engine: all
