-- Two-factor sign-in with time-based one-time passwords (RFC 6238). (0007 is taken by
-- another change.)
--
-- A user's shared secret, base32, set when they start enrolling and kept unconfirmed
-- until they prove their authenticator has it; the time step of the last code
-- accepted, so that no code is accepted twice. The secret must be readable to check
-- codes, so unlike a password it is kept as it is.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_confirmed_at BIGINT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Whether an organisation's people must all sign in with a security code.
ALTER TABLE organisations ADD COLUMN require_totp BIGINT NOT NULL DEFAULT 0;
