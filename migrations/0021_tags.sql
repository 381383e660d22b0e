-- E-bike tags (issue 21 item 4): the anti-theft tags on e-bikes and
-- motorcycles, their owners (personal data, in a side table of their own),
-- the positions they report, the geofences whose crossing raises a tag
-- alarm, and alarms bound to a tag rather than a camera.
--
-- Positions at scale. tag_positions is partitioned by range of time, one
-- partition per UTC day (tag_positions_pYYYYMMDD, made by the server ahead
-- of the positions that need it: postgis/tags.go), so that retention drops
-- whole days (DROP TABLE of a partition: no dead rows, no vacuum) and a
-- track of one day reads one or two partitions. Each partition has the
-- primary key (tag_id, at): a tag's track is one index range scan, "where
-- was it at t" one backward probe, and a position sent twice (a retried
-- batch) is the same key, taken once. A BRIN index on at serves scans by
-- time alone (the retention check, the benchmark's counts) at a few pages
-- per partition. A row is 32 bytes of data (ids, time and two float8s) plus
-- the tuple header; see the README for the disk a million positions take.
-- There is no foreign key to tags: a partitioned table's foreign key costs a
-- lookup per row at 10,000 rows a second, and a tag is never deleted while
-- its positions are kept (tags are retired, not removed).

CREATE TABLE tags (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{1,39}$'),
    kind       text NOT NULL DEFAULT 'ebike' CHECK (kind IN ('ebike', 'motorcycle', 'other')),
    grid_id    bigint REFERENCES grids (id),   -- the grid the tag is registered in (its township's or a village's)
    home       geometry(Point, 4326) NOT NULL, -- where it is kept: its first place on the map before any position
    synthetic  boolean NOT NULL DEFAULT false, -- made up by the demo, not a real tag
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tags_grid ON tags (grid_id);

-- tag_owners: who a tag's vehicle belongs to. Personal data: read only
-- through the owner routes, masked by the policy (onemap.View.TagOwners),
-- every read audited.
CREATE TABLE tag_owners (
    tag_id bigint PRIMARY KEY REFERENCES tags (id) ON DELETE CASCADE,
    name   text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    phone  text NOT NULL DEFAULT '' CHECK (char_length(phone) <= 20),
    plate  text NOT NULL DEFAULT '' CHECK (char_length(plate) <= 20) -- the vehicle's plate
);

CREATE TABLE tag_positions (
    tag_id bigint NOT NULL,
    at     timestamptz NOT NULL,           -- the position's own time (the tag's clock)
    lon    double precision NOT NULL CHECK (lon BETWEEN -180 AND 180), -- WGS-84
    lat    double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    PRIMARY KEY (tag_id, at)
) PARTITION BY RANGE (at);
CREATE INDEX tag_positions_at ON tag_positions USING brin (at);

-- geofences: an area and a rule. A tag of the fence (those listed, or every
-- tag registered in the grid or a grid below it) that enters or leaves the
-- area raises a tag alarm, at any time or only within a window of the day
-- in China time (window_from to window_to, minutes after midnight; a window
-- may run over midnight: 22:00 to 06:00 is 1320 to 360).
CREATE TABLE geofences (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    trigger     text NOT NULL CHECK (trigger IN ('enter', 'leave')),
    window_from smallint CHECK (window_from BETWEEN 0 AND 1439),
    window_to   smallint CHECK (window_to BETWEEN 0 AND 1439),
    grid_id     bigint REFERENCES grids (id),
    tag_ids     bigint[],
    severity    smallint NOT NULL DEFAULT 2 CHECK (severity BETWEEN 1 AND 4),
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    CHECK ((window_from IS NULL) = (window_to IS NULL)),
    CHECK (grid_id IS NOT NULL OR tag_ids IS NOT NULL)
);

-- Alarms bound to a tag: a tag's own alarm (sent by the IoT platform) or a
-- geofence's. Such an alarm has no camera; its point is the tag's position.
ALTER TABLE alarms ALTER COLUMN camera_id DROP NOT NULL;
ALTER TABLE alarms ADD COLUMN tag_id bigint REFERENCES tags (id);
ALTER TABLE alarms ADD COLUMN geofence_id bigint REFERENCES geofences (id) ON DELETE SET NULL;
ALTER TABLE alarms ADD CONSTRAINT alarms_camera_or_tag CHECK ((camera_id IS NULL) <> (tag_id IS NULL));
CREATE INDEX alarms_tag_storm ON alarms (tag_id, kind, last_at DESC) WHERE tag_id IS NOT NULL AND status IN ('new', 'acknowledged');
