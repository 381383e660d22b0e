-- Grid workers' walks and exactly-once writes from phones (issue 16).
--
-- visits: one stop of a grid worker's walk (走访): a household, a risk point
-- or a place (a station), or a position only, with a note. at is when the
-- visit was made (the phone's time: a visit made without network is sent
-- later), recorded_at when the server took it. grid_id is the deepest grid
-- holding the position, without a foreign key (as cases.grid_id: a grid
-- merged away leaves its visits' ids as they were). subject_id names a
-- record of the subject's layer; it is checked when the visit is written,
-- not kept by a foreign key (records are retired, visits stay). Every write
-- appends a visit.create audit record in the same transaction, last
-- (0011's lock order).
CREATE TABLE visits (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grid_id      bigint NOT NULL,
    account      text NOT NULL,
    at           timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    geom         geometry(Point, 4326) NOT NULL,
    subject_kind text CHECK (subject_kind IN ('household', 'risk_point', 'place')),
    subject_id   bigint CHECK (subject_id > 0),
    note         text NOT NULL CHECK (note <> '' AND char_length(note) <= 2000),
    client_key   text CHECK (char_length(client_key) BETWEEN 1 AND 100),
    CHECK ((subject_kind IS NULL) = (subject_id IS NULL))
);
-- One visit per key the phone gave it, per account.
CREATE UNIQUE INDEX visits_client_key ON visits (account, client_key) WHERE client_key IS NOT NULL;
-- A grid's visits, newest first; an account's; a subject's.
CREATE INDEX visits_grid ON visits (grid_id, id DESC);
CREATE INDEX visits_account ON visits (account, id DESC);
CREATE INDEX visits_subject ON visits (subject_kind, subject_id) WHERE subject_kind IS NOT NULL;

-- idempotency_keys: the keys clients named their writes with
-- (Idempotency-Key on POST /api/cases, /api/cases/{id}/actions and
-- /api/visits), one per account and key. The row is inserted in the
-- transaction of the write it names, so that two sends of one write — to
-- one server or two, before or after a restart — make one write: the second
-- transaction fails on the primary key and rolls back. request_hash is the
-- hash of the request (a key reused for another request is refused);
-- target what the write made (cases/12); status, content_type, etag and
-- body the first answer, kept just after the write commits and given again
-- to every repeat. Rows older than onemap.IdempotencyKeep are pruned, per
-- account, when the account writes under a new key.
CREATE TABLE idempotency_keys (
    account      text NOT NULL,
    key          text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 100),
    request_hash text NOT NULL,
    target       text NOT NULL,
    created_at   timestamptz NOT NULL,
    status       integer,
    content_type text NOT NULL DEFAULT '',
    etag         text NOT NULL DEFAULT '',
    body         bytea,
    PRIMARY KEY (account, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (account, created_at);
