-- Sign-in throttling without lock-outs (issue 15).
--
-- A hard lock per account let anyone keep an account locked (one wrong
-- password every 15 minutes) and told which names exist (only they locked).
-- Failures are now counted per name tried and per client, whether an account
-- has that name or not, and delay only that client; a browser that has
-- signed in to the account before is counted apart from its address (by its
-- known-device cookie), so an outsider sharing or faking nothing of it cannot
-- hold it up. The api package decides the delays (README, "Accounts").
ALTER TABLE accounts DROP COLUMN failed_logins, DROP COLUMN locked_until;

-- signin_failures: failed sign-ins in a row under one name from one client.
-- client is "addr:" and the client's address (an IPv6 client by its /64), or
-- "device:" and the hash of a known-device cookie. A row is forgotten a day
-- after its last failure, and removed at the next sign-in or by an
-- admin (onemap user unlock).
CREATE TABLE signin_failures (
    name          text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 64),
    client        text NOT NULL CHECK (octet_length(client) BETWEEN 1 AND 80),
    failures      integer NOT NULL CHECK (failures > 0),
    last_failed   timestamptz NOT NULL,
    blocked_until timestamptz NOT NULL,
    PRIMARY KEY (name, client)
);
CREATE INDEX signin_failures_last ON signin_failures (last_failed);

-- known_devices: the browsers that have signed in to an account, by the
-- SHA-256 of the random token in their onemap_device cookie. Such a browser
-- passes the throttle of its address for that account. Forgotten after 180
-- days unseen, on a new password, and when the account goes.
CREATE TABLE known_devices (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (account_id, token_hash)
);
CREATE INDEX known_devices_seen ON known_devices (seen_at);
