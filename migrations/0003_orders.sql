-- Orders (SPEC §2.1): the documents each step exchanged, and the Help Desk PINs.

-- Every document of an order, with its hash: the Piano received, the Progetto sent (its
-- SHA-256 is what the returned contract's attachment must match), the contract, the
-- countersigned contract.
CREATE TABLE order_documents (
  id          INTEGER PRIMARY KEY,
  order_id    INTEGER NOT NULL REFERENCES orders(id),
  kind        TEXT NOT NULL,                  -- piano | progetto | contract | countersigned
  filename    TEXT NOT NULL,
  sha256      TEXT NOT NULL,                  -- the bytes live in the raw store under this hash
  size        INTEGER NOT NULL,
  message_id  INTEGER REFERENCES messages(id),
  outbox_id   INTEGER REFERENCES outbox(id),
  at          TEXT NOT NULL
);
CREATE INDEX order_documents_order ON order_documents(order_id, kind);

-- Help Desk PINs (seed 001): one for the technical referent, one generic, per administration.
-- Only slow salted hashes (scrypt) are stored.
CREATE TABLE pins (
  id                INTEGER PRIMARY KEY,
  administration_id TEXT NOT NULL REFERENCES administrations(id),
  kind              TEXT NOT NULL,            -- referent | generic
  hash              TEXT NOT NULL,            -- scrypt$N$r$p$salt$hash (base64)
  order_id          INTEGER REFERENCES orders(id),
  created_at        TEXT NOT NULL,
  revoked_at        TEXT
);
CREATE INDEX pins_admin ON pins(administration_id, kind);

ALTER TABLE orders ADD COLUMN piano_message_id INTEGER REFERENCES messages(id);
ALTER TABLE orders ADD COLUMN requester TEXT;
ALTER TABLE orders ADD COLUMN problems TEXT NOT NULL DEFAULT '[]';
