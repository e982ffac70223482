-- PEC sender trust: why a sender is not verified, as stable codes (src/desk/verification.ts),
-- kept apart from the operator's sentences.

ALTER TABLE tickets ADD COLUMN sender_verification_problems TEXT NOT NULL DEFAULT '[]';

-- pec_notices.problems holds codes from now on; the sentences stored there before move to details.
ALTER TABLE pec_notices ADD COLUMN details TEXT NOT NULL DEFAULT '[]';
UPDATE pec_notices SET details = problems, problems = '[]' WHERE problems <> '[]';
