-- Geofence state (issue 21 item 4): whether each tag is inside each
-- geofence that watches it, as of the time of the position that put it
-- there. Written only when a tag crosses a fence's edge, in the same
-- transaction as that position and the alarm it raises, and only if the row
-- still says the other side (and is older): so a crossing raises its alarm
-- once however many servers see the position, and a restart takes the state
-- up from here instead of guessing it from the last position. A tag with no
-- row for a fence has not crossed it since the fence was made: its state is
-- where its positions put it.
CREATE TABLE tag_fence_states (
    geofence_id bigint NOT NULL REFERENCES geofences (id) ON DELETE CASCADE,
    tag_id      bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    inside      boolean NOT NULL,
    at          timestamptz NOT NULL, -- the position's time (the tag's clock)
    PRIMARY KEY (geofence_id, tag_id)
);
CREATE INDEX tag_fence_states_tag ON tag_fence_states (tag_id);
