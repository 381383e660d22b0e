-- Reads of personal data per account, shared by every server (issue 19: servers
-- behind a load balancer). api/personal.go kept each account's bucket in the
-- memory of each server, so behind N servers an account could read N times its
-- limit. Here each account's bucket is one row: due is when its bucket is full
-- again; a read moves it on by one interval (an hour / the reads allowed an
-- hour) from now if it has passed, and is allowed while due is at most the
-- burst less one interval ahead. Rows are as good as gone once due has passed.
CREATE TABLE personal_read_buckets (
    key text PRIMARY KEY,     -- 'account NAME', or 'client ADDRESS' (a demo's anonymous readers)
    due timestamptz NOT NULL
);
