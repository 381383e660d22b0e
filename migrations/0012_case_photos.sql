-- Photos of cases (issue 16): a report's photos and a handler's, stored in
-- the database so that a backup (pg_dump) holds them with their cases.
--
-- photo_blobs keeps each photo once, addressed by the SHA-256 of its bytes
-- as stored: the bytes after package photo stripped their metadata (EXIF
-- with GPS, XMP, comments, text chunks), never the bytes as sent. The
-- bytes are stored EXTERNAL (out of line, not compressed): JPEG, PNG and
-- WebP are compressed already, and compressing them again only costs CPU.
--
-- case_photos says which step of which case shows which photo: a report's
-- photos belong to its first step (seq 1), a handler's to the step it took.
-- Steps are append-only; so are their photos.
CREATE TABLE photo_blobs (
    sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size         integer NOT NULL CHECK (size > 0 AND size <= 5242880),
    bytes        bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    CHECK (octet_length(bytes) = size)
);
ALTER TABLE photo_blobs ALTER COLUMN bytes SET STORAGE EXTERNAL;

CREATE TABLE case_photos (
    case_id  bigint NOT NULL,
    seq      integer NOT NULL,
    position smallint NOT NULL CHECK (position BETWEEN 1 AND 3),
    sha256   text NOT NULL REFERENCES photo_blobs (sha256),
    added_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, seq, position),
    FOREIGN KEY (case_id, seq) REFERENCES case_steps (case_id, seq)
);
-- A view of a case's photo looks it up by case and address.
CREATE INDEX case_photos_address ON case_photos (case_id, sha256);

CREATE TRIGGER case_photos_append_only BEFORE UPDATE OR DELETE ON case_photos
    FOR EACH ROW EXECUTE FUNCTION case_steps_append_only();

-- Spam (垃圾信息): an operator refuses a report as spam with its own action,
-- so that spam is counted apart from other refusals.
ALTER TABLE case_steps DROP CONSTRAINT case_steps_action_check;
ALTER TABLE case_steps ADD CONSTRAINT case_steps_action_check
    CHECK (action IN ('report', 'accept', 'refuse', 'assign', 'handle', 'feedback', 'check',
                      'reopen', 'escalate', 'hand_down', 'spam'));
