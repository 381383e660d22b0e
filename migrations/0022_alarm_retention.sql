-- Alarm retention (issue 21): alarms, the ingest events and quarantined
-- events are removed past a configurable period, and alarms' snapshot
-- references sooner (postgis/alarmretention.go, run daily by the server).
-- These indexes find what is due without reading the tables whole.
CREATE INDEX alarms_last_at ON alarms (last_at);
CREATE INDEX alarms_snapshot_first_at ON alarms (first_at) WHERE snapshot_ref <> '';
CREATE INDEX ingest_events_received ON ingest_events (received_at);
CREATE INDEX ingest_events_alarm ON ingest_events (alarm_id) WHERE alarm_id IS NOT NULL;
CREATE INDEX ingest_quarantine_received ON ingest_quarantine (received_at);
