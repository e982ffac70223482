-- Operator workflow and take-charge SLA (issue 9): when each step happened, and what the SLA
-- watch has already done for a ticket (so it notifies once). Statuses (src/desk/workflow.ts):
-- new | in-charge | escalated | resolved | closed | reopened. Existing rows keep `new`.

ALTER TABLE tickets ADD COLUMN taken_at TEXT;          -- first take in charge (the SLA's clock stops here)
ALTER TABLE tickets ADD COLUMN escalated_at TEXT;      -- latest escalation to the 2nd level
ALTER TABLE tickets ADD COLUMN resolved_at TEXT;       -- latest resolution (the reopen period runs from it)
ALTER TABLE tickets ADD COLUMN closed_at TEXT;         -- latest closing
ALTER TABLE tickets ADD COLUMN reopened_at TEXT;       -- latest reopening
ALTER TABLE tickets ADD COLUMN breached_at TEXT;       -- when the SLA watch found it past its deadline, not taken
ALTER TABLE tickets ADD COLUMN sla_notified_at TEXT;   -- when the breach notice was queued (NULL: none sent)
ALTER TABLE tickets ADD COLUMN reminded_at TEXT;       -- when the take-charge reminder was queued

-- The schema's first comment said `in-progress`; nothing wrote it, but be sure.
UPDATE tickets SET status = 'in-charge' WHERE status = 'in-progress';

-- tickets list filters (--class, --due-before, --breached) and the SLA report's period.
CREATE INDEX tickets_priority ON tickets(priority);
CREATE INDEX tickets_due ON tickets(take_charge_due_at);
CREATE INDEX tickets_received ON tickets(received_at);
CREATE INDEX tickets_breached ON tickets(breached_at) WHERE breached_at IS NOT NULL;
-- The SLA watch's work list: not yet taken in charge, with a deadline, not yet marked.
CREATE INDEX tickets_sla_pending ON tickets(take_charge_due_at)
  WHERE taken_at IS NULL AND take_charge_due_at IS NOT NULL AND breached_at IS NULL;
