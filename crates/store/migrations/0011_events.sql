-- Event deconfliction: planned operational activity and the clashes between two
-- organisations' activity.
--
-- `seq` is an activity's number in the in-memory spatial-temporal index, which is
-- rebuilt from the planned rows at start-up. `change_seq` grows with every write to an
-- activity, in commit order (writes are serialised), so that each application node
-- catches its index up with what other nodes planned, moved or cancelled before it
-- checks for clashes. Positions are kept as decimal text (the
-- shortest form that reads back to the same double), so both engines hold them exactly.
-- A clash joins two activities (`low` < `high`); it is live until one of them is
-- cancelled or moved out of reach (`cleared_at`), and a pair that meets again later
-- gets a new clash.

CREATE TABLE activities (
    id             TEXT PRIMARY KEY,
    seq            BIGINT NOT NULL UNIQUE,
    reference      TEXT NOT NULL UNIQUE,
    organisation   TEXT NOT NULL REFERENCES organisations (code),
    operation_id   TEXT REFERENCES operations (id),
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    latitude       TEXT NOT NULL,
    longitude      TEXT NOT NULL,
    accuracy_m     BIGINT NOT NULL,
    address        TEXT,
    postcode       TEXT,
    starts_at      BIGINT NOT NULL,
    ends_at        BIGINT NOT NULL,
    contact_name   TEXT NOT NULL,
    contact_detail TEXT NOT NULL,
    covert         BIGINT NOT NULL,
    late_notice    BIGINT NOT NULL,
    state          TEXT NOT NULL,
    entered_by     TEXT NOT NULL REFERENCES users (id),
    entered_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    change_seq     BIGINT NOT NULL
);

CREATE INDEX activities_by_organisation ON activities (organisation, starts_at);
CREATE INDEX activities_by_window ON activities (state, ends_at, seq);
CREATE INDEX activities_by_change ON activities (change_seq);

CREATE TABLE clashes (
    id                   TEXT PRIMARY KEY,
    low                  TEXT NOT NULL REFERENCES activities (id),
    high                 TEXT NOT NULL REFERENCES activities (id),
    distance_m           BIGINT NOT NULL,
    found_at             BIGINT NOT NULL,
    low_acknowledged_at  BIGINT,
    high_acknowledged_at BIGINT,
    escalated_at         BIGINT,
    owner                TEXT REFERENCES users (id),
    resolution           TEXT,
    resolution_note      TEXT,
    resolved_by          TEXT REFERENCES users (id),
    resolved_at          BIGINT,
    cleared_at           BIGINT
);

CREATE INDEX clashes_by_low ON clashes (low, cleared_at);
CREATE INDEX clashes_by_high ON clashes (high, cleared_at);
CREATE INDEX clashes_open ON clashes (cleared_at, resolved_at, found_at);
