-- Bulk loads (issue 20): a load of many features in one statement writes
-- its history rows set-based and ONE change-feed row of its own, op
-- 'reload', instead of one row per feature (postgis/bulk.go).
--
-- A 'reload' row says: the layer named by `layer` changed wholesale in the
-- transaction that wrote this row; a follower of the feed that has applied
-- every row below this one reloads that layer from a snapshot that
-- includes it, and goes on from here (inmem/reload.go). Its feature_id and
-- version are 0; old_bound is the envelope of where the updated features
-- were, new_bound of where the loaded features are (NULL when none), so
-- that a tile cache evicts only what the load touched.
--
-- The bulk load takes the change feed's advisory lock before it writes its
-- rows, as every feature write does (0009), and appends its audit record
-- after them, so the lock order holds.

ALTER TABLE change_feed DROP CONSTRAINT change_feed_op_check;
ALTER TABLE change_feed ADD CONSTRAINT change_feed_op_check
    CHECK (op IN ('insert', 'update', 'delete', 'reload'));
