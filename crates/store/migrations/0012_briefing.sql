-- Daily management packs (DESIGN part 12), kept as they were made. A pack is made for
-- one user (it holds only what they could see when it was made) for a date and a
-- scope; the morning job makes at most one per user, date and scope, however many
-- nodes run it. The body is the pack as JSON; the banner and classification are its
-- highest marking, kept apart so that a list can show them without reading the body.
CREATE TABLE briefing_packs (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    organisation   TEXT NOT NULL REFERENCES organisations (code),
    pack_date      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    generated_at   BIGINT NOT NULL,
    banner         TEXT NOT NULL,
    classification TEXT NOT NULL,
    items          BIGINT NOT NULL,
    body           TEXT NOT NULL,
    UNIQUE (user_id, pack_date, scope)
);
CREATE INDEX briefing_packs_by_user ON briefing_packs (user_id, pack_date);

-- The pack reads decisions and designations made in a day.
CREATE INDEX decisions_by_time ON decisions (decided_at);
CREATE INDEX subject_designations_by_time ON subject_designations (designated_at);
CREATE INDEX operation_roles_by_time ON operation_roles (valid_from);
CREATE INDEX operation_outcomes_by_time ON operation_outcomes (recorded_at);
