-- Tracks from the key alone (issue 21: one tag over one day under 100 ms
-- at 100 million stored positions). Positions arrive in time order, all
-- tags at once, so a tag's day of positions (1,440 at one a minute) lies
-- on as many heap pages of its partition: a track read the key's few
-- pages and then 1,440 heap pages (1,454 buffers in the benchmark), cold
-- from disk as many random reads. The primary key now carries lon and lat
-- (INCLUDE, not part of the key: a position is still one per tag and
-- time), so a track and "where was it at t" are index-only scans: a day's
-- track reads some 10 leaf pages of one or two partitions, whatever the
-- table's size, once the partition's pages are all-visible (the retention
-- job vacuums each day's partition once the day has closed:
-- postgis/tracks.go; autovacuum does so as a partition grows). It costs
-- 16 bytes more per row in the key (README: E-bike tags, the disk per
-- million positions).
--
-- On a deployment with positions stored, this rebuilds the key of every
-- partition (minutes per 100 million rows), holding the table meanwhile.
ALTER TABLE tag_positions DROP CONSTRAINT tag_positions_pkey;
ALTER TABLE tag_positions ADD PRIMARY KEY (tag_id, at) INCLUDE (lon, lat);
