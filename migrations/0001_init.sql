-- pecdesk initial schema. Later issues add columns and tables in new migrations;
-- never edit an applied migration.

-- Every message that reached a mailbox (or `ingest`), recorded before it is acknowledged.
CREATE TABLE messages (
  id              INTEGER PRIMARY KEY,
  mailbox         TEXT NOT NULL,                 -- pec | support
  source          TEXT NOT NULL,                 -- maildir | imap | file
  source_uid      TEXT,                          -- Maildir unique name / IMAP UIDVALIDITY:UID; NULL for files
  file            TEXT,                          -- the path given to ingest or the Maildir file
  sha256          TEXT NOT NULL,                 -- raw bytes, content-addressed under dataDir/raw
  size            INTEGER NOT NULL,
  message_id      TEXT,                          -- Message-ID header (as written, with <>)
  sender          TEXT,                          -- lower-case From address
  subject         TEXT,
  received_at     TEXT,                          -- ISO instant (SPEC §4 received time)
  recorded_at     TEXT NOT NULL,                 -- when pecdesk stored it
  status          TEXT NOT NULL DEFAULT 'received',  -- received | processed | quarantined
  classification  TEXT,                          -- email | auto-reply | bounce | duplicate | ...
  duplicate_of    INTEGER REFERENCES messages(id),
  ticket_id       INTEGER REFERENCES tickets(id),
  result          TEXT                           -- JSON of the ingest result, for idempotent replays
);
CREATE UNIQUE INDEX messages_source_uid ON messages(mailbox, source, source_uid) WHERE source_uid IS NOT NULL;
CREATE INDEX messages_sha256 ON messages(sha256);
CREATE INDEX messages_message_id ON messages(message_id, sender);
CREATE INDEX messages_status ON messages(status);

-- Reference counters (HD-YYYY-NNNNNN, PF-YYYY-NNNN), one row per series and year.
CREATE TABLE counters (
  series  TEXT NOT NULL,
  year    INTEGER NOT NULL,
  value   INTEGER NOT NULL,
  PRIMARY KEY (series, year)
);

-- Directory (SPEC §8.3).
CREATE TABLE administrations (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  fiscal_code      TEXT,
  ipa_code         TEXT,
  support_contract INTEGER NOT NULL DEFAULT 0,
  updated_at       TEXT NOT NULL
);
CREATE TABLE administration_domains (
  domain            TEXT PRIMARY KEY,
  administration_id TEXT NOT NULL REFERENCES administrations(id) ON DELETE CASCADE
);
CREATE TABLE administration_pecs (
  address           TEXT PRIMARY KEY,
  administration_id TEXT NOT NULL REFERENCES administrations(id) ON DELETE CASCADE
);
CREATE TABLE people (
  id                INTEGER PRIMARY KEY,
  administration_id TEXT NOT NULL REFERENCES administrations(id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  email             TEXT,
  pec               TEXT,
  role              TEXT NOT NULL                -- technical-referent | administrator | ...
);
CREATE INDEX people_email ON people(email);
CREATE INDEX people_pec ON people(pec);
CREATE TABLE delegations (
  id                INTEGER PRIMARY KEY,
  administration_id TEXT NOT NULL REFERENCES administrations(id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  email             TEXT,
  pec               TEXT,
  delegated_by      TEXT NOT NULL,
  valid_from        TEXT NOT NULL,               -- YYYY-MM-DD, inclusive
  valid_until       TEXT NOT NULL                -- YYYY-MM-DD, inclusive
);
CREATE INDEX delegations_email ON delegations(email);

-- Tickets and their history.
CREATE TABLE tickets (
  id                   INTEGER PRIMARY KEY,
  ref                  TEXT NOT NULL UNIQUE,     -- HD-YYYY-NNNNNN
  kind                 TEXT NOT NULL,            -- support | change-request | order
  category             TEXT NOT NULL,
  status               TEXT NOT NULL,            -- new | in-progress | escalated | resolved | closed
  priority             TEXT NOT NULL,
  administration_id    TEXT REFERENCES administrations(id),
  requester            TEXT NOT NULL,            -- lower-case address
  requester_name       TEXT,
  authorized           INTEGER NOT NULL,
  sender_verification  TEXT NOT NULL,
  channel              TEXT NOT NULL,            -- pec | email
  mailbox              TEXT NOT NULL,
  subject              TEXT,
  received_at          TEXT NOT NULL,
  take_charge_due_at   TEXT,
  on_call              INTEGER NOT NULL DEFAULT 0,
  created_at           TEXT NOT NULL,
  updated_at           TEXT NOT NULL
);
CREATE INDEX tickets_status ON tickets(status);
CREATE INDEX tickets_admin ON tickets(administration_id);

CREATE TABLE ticket_events (
  id          INTEGER PRIMARY KEY,
  ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
  at          TEXT NOT NULL,
  type        TEXT NOT NULL,
  actor       TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '{}',        -- JSON
  message_id  INTEGER REFERENCES messages(id)
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id);

-- Message-IDs (and later PEC identificativi) that belong to a ticket's thread.
CREATE TABLE thread_keys (
  key        TEXT PRIMARY KEY,                    -- Message-ID without <>, lower-case
  ticket_id  INTEGER NOT NULL REFERENCES tickets(id)
);

-- Durable outbox: written in the same transaction as the ticket.
CREATE TABLE outbox (
  id             INTEGER PRIMARY KEY,
  ticket_id      INTEGER REFERENCES tickets(id),
  order_id       INTEGER REFERENCES orders(id),
  template       TEXT NOT NULL,
  automatic      INTEGER NOT NULL DEFAULT 1,     -- counts toward the per-sender hourly limit
  channel        TEXT NOT NULL,                   -- pec | email
  mailbox        TEXT NOT NULL,                   -- which mailbox's transport sends it
  from_addr      TEXT NOT NULL,
  to_addr        TEXT NOT NULL,
  subject        TEXT NOT NULL,
  body_text      TEXT NOT NULL,
  headers        TEXT NOT NULL DEFAULT '{}',     -- JSON of extra headers
  attachments    TEXT NOT NULL DEFAULT '[]',     -- JSON [{ filename, contentType, sha256 }]
  message_id     TEXT NOT NULL UNIQUE,            -- with <>
  in_reply_to    TEXT,
  refs           TEXT,                            -- References header value
  status         TEXT NOT NULL DEFAULT 'queued',  -- queued | sent | failed
  attempts       INTEGER NOT NULL DEFAULT 0,
  last_error     TEXT,
  next_attempt_at TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  sent_at        TEXT,
  sent_to        TEXT                             -- where it went: smtp host or file path
);
CREATE INDEX outbox_status ON outbox(status, next_attempt_at);
CREATE INDEX outbox_to ON outbox(to_addr, created_at);

-- Per-recipient delivery state (PEC receipts fill it in).
CREATE TABLE outbox_recipients (
  outbox_id  INTEGER NOT NULL REFERENCES outbox(id),
  address    TEXT NOT NULL,
  state      TEXT NOT NULL,                       -- accepted | delivered | failed | ...
  at         TEXT NOT NULL,
  detail     TEXT,
  PRIMARY KEY (outbox_id, address)
);

-- Messages that could not be processed: kept with their reason for an operator.
CREATE TABLE quarantine (
  id          INTEGER PRIMARY KEY,
  message_id  INTEGER NOT NULL REFERENCES messages(id),
  file        TEXT,
  mailbox     TEXT NOT NULL,
  reason      TEXT NOT NULL,
  detail      TEXT,
  at          TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'open',       -- open | released
  released_at TEXT
);
CREATE INDEX quarantine_status ON quarantine(status);

-- Orders (Piano dei Fabbisogni workflow, SPEC §2.1).
CREATE TABLE orders (
  id                INTEGER PRIMARY KEY,
  ref               TEXT NOT NULL UNIQUE,         -- PF-YYYY-NNNN
  state             TEXT NOT NULL,
  administration_id TEXT REFERENCES administrations(id),
  ticket_id         INTEGER REFERENCES tickets(id),
  piano             TEXT,                          -- JSON extract result
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE TABLE order_events (
  id         INTEGER PRIMARY KEY,
  order_id   INTEGER NOT NULL REFERENCES orders(id),
  at         TEXT NOT NULL,
  type       TEXT NOT NULL,
  actor      TEXT NOT NULL,
  detail     TEXT NOT NULL DEFAULT '{}',
  message_id INTEGER REFERENCES messages(id)
);
CREATE INDEX order_events_order ON order_events(order_id);
