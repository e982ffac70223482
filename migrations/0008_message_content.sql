-- Duplicates (issue 10 §5): the same Message-ID from the same sender counts as a duplicate only
-- when the content is the same too; a different content under a reused Message-ID is processed.
-- content_sha256: a fingerprint of subject, text, html and attachments (src/mail/parse.ts).
ALTER TABLE messages ADD COLUMN content_sha256 TEXT;
