-- Desk rules (SPEC §2.3, §4): why a ticket is (not) authorized, as a stable code
-- (src/desk/authorization.ts), beside the `authorized` flag.
ALTER TABLE tickets ADD COLUMN authorization_reason TEXT;
