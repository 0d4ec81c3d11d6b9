-- The foundation: the partner registry, people, sign-in and the audit log.
--
-- One schema history for both engines. The SQL is portable (TEXT and BIGINT only;
-- instants are BIGINT microseconds since the Unix epoch; closed sets are TEXT
-- checked in Rust); the few statements that differ sit in `-- engine:` blocks that
-- crates/store/src/migrations.rs keeps or drops for the engine at hand.

CREATE TABLE organisations (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    short_name    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    jurisdictions TEXT NOT NULL,
    region        TEXT,
    parent        TEXT REFERENCES organisations (code),
    engagement    TEXT NOT NULL
);

CREATE TABLE capabilities (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    owner       TEXT NOT NULL REFERENCES organisations (code),
    description TEXT NOT NULL
);

CREATE TABLE tasking_groups (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    acronym    TEXT NOT NULL,
    level      TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    chair      TEXT NOT NULL,
    cadence    TEXT NOT NULL,
    reports_to TEXT,
    remit      TEXT NOT NULL,
    source     TEXT NOT NULL
);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    organisation         TEXT NOT NULL REFERENCES organisations (code),
    clearance            TEXT NOT NULL,
    dg_authority         TEXT NOT NULL,
    status               TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    must_change_password BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE INDEX users_by_organisation ON users (organisation);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    source       TEXT NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT
);

CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    source      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE INDEX audit_log_by_record ON audit_log (record_kind, record_id);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id);

-- The audit log is append-only: the database itself refuses to change or delete an
-- entry. (Someone with the database owner's rights can still drop these triggers;
-- the hash chain is what catches that.)
-- engine: sqlite
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- engine: postgres
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- engine: all
