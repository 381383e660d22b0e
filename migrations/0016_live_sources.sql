-- Live sources (issue 21): the integrating systems that send events to
-- /api/ingest/ (the video platform, the IoT platform), the events they have
-- sent (so that a retried batch is applied at most once), the signatures
-- seen within the replay window, events for devices the county does not
-- know (quarantine), the alarms the events raise, and when each camera was
-- last heard from.
--
-- Writes. An ingest batch is one transaction (postgis/sources.go): it
-- records each event id, takes the storm locks of the alarms it touches
-- (advisory, sorted, before anything else), writes alarms and quarantine
-- rows, then the cameras whose status changed (their triggers take the
-- change feed's and the audit trail's locks), and appends its audit record
-- last, so that it takes the locks in the order of migration 0011's header.
--
-- Secrets. A source's key is printed once by `onemap source add` and never
-- stored: verifier is HMAC-SHA256(key, "onemap ingest v1"), the key that
-- signs requests (onemap.SigningKey). It cannot give back the key, but it
-- signs as the source: it is kept from every role but the database owner
-- (no view or route shows it) and a source suspected of a leak is revoked.

CREATE TABLE ingest_sources (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]{1,63}$'),
    verifier    bytea NOT NULL CHECK (length(verifier) = 32),
    kinds       text[] NOT NULL CHECK (cardinality(kinds) > 0),
    region      text NOT NULL CHECK (region ~ '^[0-9]{12}([0-9]{3})?$'), -- a grid's code: the source's cameras lie there
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    revoked_at  timestamptz,
    last_used_at timestamptz
);

-- ingest_signatures: the signatures accepted within the replay window, per
-- source; a signature seen again is refused, on whichever server it
-- arrives. Rows older than the window are removed as requests come.
CREATE TABLE ingest_signatures (
    source_id  bigint NOT NULL REFERENCES ingest_sources (id),
    signature  bytea NOT NULL,
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (source_id, signature)
);
CREATE INDEX ingest_signatures_seen ON ingest_signatures (source_id, seen_at);

-- ingest_quarantine: events for devices no camera has (or whose device is
-- not known yet), kept for an admin to see, never dropped. Only the
-- normalised fields are kept: no body as sent, no snapshot, no watch-list.
CREATE TABLE ingest_quarantine (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   bigint NOT NULL REFERENCES ingest_sources (id),
    event_id    text NOT NULL,
    kind        text NOT NULL,
    device_code text NOT NULL,
    event_at    timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    reason      text NOT NULL
);
CREATE INDEX ingest_quarantine_recent ON ingest_quarantine (id DESC);

-- alarms (预警): one row per storm, i.e. the events of one kind at one
-- camera within the storm window of each other while the alarm is open.
CREATE TABLE alarms (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('face', 'crowd', 'intrusion', 'smoke_fire', 'tag_alarm',
                                                 'video_loss', 'tamper', 'device_fault', 'other_alarm')),
    severity       smallint NOT NULL CHECK (severity BETWEEN 1 AND 4), -- GB/T 28181 AlarmPriority: 1 most severe
    camera_id      bigint NOT NULL REFERENCES cameras (id),
    grid_id        bigint,  -- the camera's grid when raised
    geom           geometry(Point, 4326) NOT NULL,
    source_id      bigint NOT NULL REFERENCES ingest_sources (id),
    status         text NOT NULL CHECK (status IN ('new', 'acknowledged', 'dismissed', 'cased')),
    count          integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    event_at       timestamptz NOT NULL, -- the first event's own time
    first_at       timestamptz NOT NULL, -- received, on the server's clock
    last_at        timestamptz NOT NULL,
    description    text NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    watchlist      text NOT NULL DEFAULT '' CHECK (char_length(watchlist) <= 100), -- face: the list's category only
    snapshot_ref   text NOT NULL DEFAULT '' CHECK (char_length(snapshot_ref) <= 512), -- a reference on the platform, never an image
    acked_by       text,
    acked_at       timestamptz,
    dismissed_by   text,
    dismissed_at   timestamptz,
    dismiss_reason text,
    case_id        bigint REFERENCES cases (id),
    version        integer NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL,
    CHECK ((status = 'cased') = (case_id IS NOT NULL)),
    CHECK (status <> 'dismissed' OR dismiss_reason IS NOT NULL)
);
-- The open alarm of a camera and kind (storm grouping), and the list.
CREATE INDEX alarms_storm ON alarms (camera_id, kind, last_at DESC) WHERE status IN ('new', 'acknowledged');
CREATE INDEX alarms_recent ON alarms (id DESC);
CREATE INDEX alarms_open ON alarms (status, id DESC);

-- ingest_events: each event id a source has sent, and what became of it,
-- so that a retried batch is applied at most once.
CREATE TABLE ingest_events (
    source_id     bigint NOT NULL REFERENCES ingest_sources (id),
    event_id      text NOT NULL CHECK (event_id <> '' AND char_length(event_id) <= 128),
    received_at   timestamptz NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('alarm', 'status', 'heartbeat', 'quarantined')),
    alarm_id      bigint REFERENCES alarms (id),
    quarantine_id bigint REFERENCES ingest_quarantine (id),
    camera_id     bigint,
    PRIMARY KEY (source_id, event_id)
);

-- camera_liveness: when each camera was last heard from (a heartbeat or a
-- status), apart from the map row, whose every write is history.
CREATE TABLE camera_liveness (
    camera_id  bigint PRIMARY KEY REFERENCES cameras (id) ON DELETE CASCADE,
    last_at    timestamptz NOT NULL,
    source_id  bigint NOT NULL REFERENCES ingest_sources (id)
);
