-- One `pecdesk run` per dataDir (issue 10 §3): the running instance holds this lease; a second
-- one refuses to start. A lease whose process is gone (kill -9) or whose heartbeat stopped is
-- taken over.
CREATE TABLE daemon_lease (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  pid           INTEGER NOT NULL,
  host          TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  heartbeat_at  TEXT NOT NULL
);
