-- Named service calendars (SPEC §2.2): an Administration's contract may name its calendar
-- (config `calendars`); NULL = the desk's default calendar (`calendar.default`).
ALTER TABLE administrations ADD COLUMN calendar TEXT;
