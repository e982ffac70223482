-- PEC: receipts and anomalies kept as evidence, and what correlates receipts to the outbox.

-- Every PEC receipt and anomaly envelope, correlated or not (an operator lists them).
CREATE TABLE pec_notices (
  id              INTEGER PRIMARY KEY,
  message_id      INTEGER NOT NULL REFERENCES messages(id),
  kind            TEXT NOT NULL,                  -- receipt | anomaly
  tipo            TEXT,                           -- daticert tipo (accettazione, avvenuta-consegna, …)
  certified       INTEGER NOT NULL,               -- provider signature verified
  problems        TEXT NOT NULL DEFAULT '[]',     -- JSON: why not certified
  msgid           TEXT,                           -- the original Message-ID it refers to (with <>)
  identificativo  TEXT,
  daticert        TEXT,                           -- JSON of the parsed daticert
  outbox_id       INTEGER REFERENCES outbox(id),  -- the outgoing message it refers to, if found
  applied         INTEGER NOT NULL DEFAULT 0,     -- changed that entry's delivery state
  received_at     TEXT,
  at              TEXT NOT NULL
);
CREATE INDEX pec_notices_outbox ON pec_notices(outbox_id);

-- The identificativo the sender's provider gave our outgoing PEC (from its accettazione).
ALTER TABLE outbox ADD COLUMN pec_identificativo TEXT;
CREATE INDEX outbox_pec_identificativo ON outbox(pec_identificativo);

-- Why a ticket's sender has the verification level it has (SPEC §3), for the operator.
ALTER TABLE tickets ADD COLUMN sender_verification_note TEXT;
