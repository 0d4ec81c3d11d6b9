-- Notifications in commit order, and outgoing webhooks with their outbox. (0009 is
-- taken by another change.)
--
-- `seq` numbers notifications in the order their transactions committed: it is given
-- at commit, while the audit chain's lock is held (PostgreSQL) or the write lock
-- (SQLite), so a reader that has seen N has seen everything before it. Live streams
-- resume from it (the SSE `id:`). Notifications written before this migration are
-- numbered in the order they were made.
ALTER TABLE notifications ADD COLUMN seq BIGINT;
UPDATE notifications SET seq = (
    SELECT COUNT(*) FROM notifications n
    WHERE n.created_at < notifications.created_at
       OR (n.created_at = notifications.created_at AND n.id <= notifications.id)
);
CREATE UNIQUE INDEX notifications_by_seq ON notifications (seq);
CREATE INDEX notifications_by_user_seq ON notifications (user_id, seq);

-- An organisation's webhooks. `secret` signs deliveries (HMAC-SHA256); it is shared
-- with the receiver, so it is kept as it is, like a TOTP secret. `kinds` is a
-- comma-separated list of notice kinds. A removed webhook is disabled, never deleted,
-- so that its deliveries stay on the record.
CREATE TABLE webhooks (
    id           TEXT PRIMARY KEY,
    organisation TEXT NOT NULL REFERENCES organisations (code),
    url          TEXT NOT NULL,
    kinds        TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    disabled_at  BIGINT
);

CREATE INDEX webhooks_by_organisation ON webhooks (organisation);

-- The outbox: one row per notice per matching webhook, written in the notice's own
-- transaction, so a notice committed is a delivery owed, across any restart.
-- `payload` is the exact body, fixed when queued, so every attempt signs the same
-- bytes. A node claims a row by setting `lease_until` with a conditional UPDATE; a
-- lease left by a node that died runs out and the row is claimed again.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
    kind            TEXT NOT NULL,
    record          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    delivered_at    BIGINT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);
