-- Issue 10: IMAP sources and sends interrupted by a crash.
-- Each IMAP mailbox's checkpoint: the folder's UIDVALIDITY and the highest UID below which
-- every message is recorded and acknowledged (moved or flagged).
CREATE TABLE imap_checkpoints (
  mailbox      TEXT NOT NULL,
  folder       TEXT NOT NULL,
  uidvalidity  TEXT NOT NULL,
  last_uid     INTEGER NOT NULL,
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (mailbox, folder)
);
-- Set (committed) before a send starts, cleared when it ends: still set at start-up means a
-- crash interrupted the send, and nobody knows whether the server took the message.
ALTER TABLE outbox ADD COLUMN sending_since TEXT;
-- When such an interruption was found: e-mail is re-sent with the same Message-ID; PEC waits
-- for an accettazione before re-sending.
ALTER TABLE outbox ADD COLUMN uncertain_at TEXT;
