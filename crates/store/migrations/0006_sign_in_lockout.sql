-- Account lockout with back-off: consecutive failed sign-ins, and until when the
-- account is locked. Kept in the store so that a lock holds across restarts and nodes.
ALTER TABLE users ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;
