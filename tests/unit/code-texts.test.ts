// Every code a user can meet has its Italian text: a code added without one fails here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { AUTHORIZATION_REASON_TEXT, WHO_MAY_ASK } from '../../src/desk/authorization.js';
import { CHANGE_CATEGORIES } from '../../src/desk/category.js';
import { TICKET_EVENT_TEXT } from '../../src/desk/events.js';
import { VERIFICATION_PROBLEM_TEXT } from '../../src/desk/verification.js';
import { REJECTION_TEXT } from '../../src/mail/parse.js';
import { FINDING_CODES } from '../../src/pdf/findings.js';
import { repoRoot } from '../e2e/workspace.js';

const texts = parse(readFileSync(path.join(repoRoot, 'config', 'templates', 'problems-it.yaml'), 'utf8')) as Record<string, string>;
const italian = (s: unknown) => typeof s === 'string' && s.trim().length > 10 && !/^[a-z-]+$/.test(s);

describe('Italian texts of every code', () => {
  it.each([...FINDING_CODES])('finding %s (config/templates/problems-it.yaml)', (code) => expect(italian(texts[code]), code).toBe(true));
  it('sender verification problems, authorization reasons, quarantine rejections, categories and ticket events', () => {
    for (const t of [...Object.values(VERIFICATION_PROBLEM_TEXT), ...Object.values(AUTHORIZATION_REASON_TEXT), ...Object.values(REJECTION_TEXT)]) expect(italian(t), t).toBe(true);
    // Event labels are short ("risolta"), but never the code itself.
    for (const [code, label] of Object.entries(TICKET_EVENT_TEXT)) expect(label.length > 3 && label !== code && !label.includes('-'), code).toBe(true);
    for (const c of ['support', ...CHANGE_CATEGORIES] as const) expect(italian(WHO_MAY_ASK[c]), c).toBe(true);
  });
  it('no stray text for a code that does not exist', () => {
    const known = new Set<string>(FINDING_CODES);
    expect(Object.keys(texts).filter((k) => !known.has(k))).toEqual([]);
  });
});
