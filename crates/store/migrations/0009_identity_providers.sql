-- Single sign-on with OpenID Connect.
--
-- An organisation's identity provider. The client secret must be readable to send to
-- the token endpoint, so like a TOTP secret it is kept as it is; it is never printed,
-- logged or sent back by the API. `scopes` is space-separated; `role_map` is a JSON
-- object from claim value to a list of role names.
CREATE TABLE identity_providers (
    organisation       TEXT PRIMARY KEY REFERENCES organisations (code),
    issuer             TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    client_secret      TEXT NOT NULL,
    scopes             TEXT NOT NULL,
    role_claim         TEXT NOT NULL,
    role_map           TEXT NOT NULL,
    username_claim     TEXT NOT NULL,
    organisation_claim TEXT,
    provisioning       TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- Who a provider says a user is: the (issuer, subject) pair, linked to one account
-- at their first single sign-on. The organisation is the one whose provider linked it.
CREATE TABLE external_identities (
    issuer       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    organisation TEXT NOT NULL REFERENCES organisations (code),
    linked_at    BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX external_identities_user ON external_identities (user_id);

-- Sign-ins in flight, keyed by the SHA-256 of the secret in the browser's cookie:
-- `authorise` while the person is at the provider (with the nonce and PKCE verifier
-- to check its answer), `second-factor` while they type their Concordat security
-- code. Each is used once and lasts minutes.
CREATE TABLE sso_pending (
    key_hash      TEXT PRIMARY KEY,
    stage         TEXT NOT NULL,
    organisation  TEXT NOT NULL REFERENCES organisations (code),
    nonce         TEXT,
    pkce_verifier TEXT,
    user_id       TEXT REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sso_pending_expiry ON sso_pending (expires_at);
