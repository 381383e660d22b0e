-- Turning photos upright after they are accepted (issue 16: a report with
-- three 3 MB photos is accepted in under a second).
--
-- A phone's JPEG held upright (EXIF orientation 2 to 8) is stored as it is
-- accepted: its metadata stripped but for a new Exif segment that holds the
-- orientation alone (package photo), addressed by the SHA-256 of those
-- bytes, and a row of photo_turns asks for its pixels to be turned. A server
-- takes a due row (FOR UPDATE SKIP LOCKED: one server a photo), turns the
-- pixels (no EXIF left), stores the upright bytes as a photo of their own
-- and points the accepted photo at them in upright_sha256, drops the
-- accepted bytes and deletes the row, all in one transaction: a server
-- stopped mid-turn leaves the row and the accepted bytes as they were, and
-- the next server turns them.
--
-- A case keeps the accepted address (case_photos); what is served under it
-- is the upright photo once there is one. A photo whose pixels do not
-- decode is tried again later (due_at, attempts, last_error) and, after a
-- few tries, kept as accepted with due_at 'infinity': its orientation tag
-- alone, as a browser shows it upright.
ALTER TABLE photo_blobs ADD COLUMN upright_sha256 text REFERENCES photo_blobs (sha256);
ALTER TABLE photo_blobs ALTER COLUMN bytes DROP NOT NULL;
ALTER TABLE photo_blobs DROP CONSTRAINT photo_blobs_check;
ALTER TABLE photo_blobs ADD CONSTRAINT photo_blobs_bytes CHECK (
    CASE WHEN bytes IS NULL THEN upright_sha256 IS NOT NULL ELSE octet_length(bytes) = size END);
ALTER TABLE photo_blobs ADD CONSTRAINT photo_blobs_upright_other CHECK (upright_sha256 <> sha256);

CREATE TABLE photo_turns (
    sha256      text PRIMARY KEY REFERENCES photo_blobs (sha256),
    orientation smallint NOT NULL CHECK (orientation BETWEEN 2 AND 8),
    queued_at   timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error  text
);
-- The next due turn.
CREATE INDEX photo_turns_due ON photo_turns (due_at);
