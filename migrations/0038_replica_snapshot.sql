-- A snapshot of the in-memory replica (issue 20 item 4: a province server
-- answering within seconds of its start).
--
-- A server loads its replica from the layers' rows: some 2.3 million rows
-- of a province, read and decoded, take most of its start-up. A snapshot
-- holds the same records in a compact binary form (package replicasnap),
-- each layer in parts of a few MiB, with the change feed's sequence number
-- they are current to: a starting server reads the parts (one pass over
-- the bytes, no per-row work in the database), checks them, and replays
-- the feed from that number. The rows stay the truth: a snapshot that is
-- missing, damaged, of another format or layer definition, of another
-- schema, or too far behind the feed is ignored and the rows are read.
--
-- One snapshot at a time: a writer replaces every part in one transaction,
-- so a reader sees the parts of one snapshot. The parts are stored
-- uncompressed (STORAGE EXTERNAL): they are read whole, and compressing
-- them costs the writer more than the read saves.
CREATE TABLE replica_snapshot (
    layer       text NOT NULL,
    part        integer NOT NULL CHECK (part >= 0),
    seq         bigint NOT NULL CHECK (seq >= 0),
    format      integer NOT NULL,
    fingerprint text NOT NULL,
    schema      text NOT NULL,
    records     integer NOT NULL CHECK (records >= 0),
    crc         bigint NOT NULL,
    data        bytea NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layer, part)
);
ALTER TABLE replica_snapshot ALTER COLUMN data SET STORAGE EXTERNAL;
-- It holds every layer's records, the sensitive ones too: only the owner
-- (the servers' role) reads it.
REVOKE ALL ON replica_snapshot FROM PUBLIC;
