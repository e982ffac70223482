// Priority (SPEC §4): a rule table in config (config/priority.yaml) — ordered rules on the
// request's wording and category, first match wins, with a default — then the subject tag an
// authorized referent may use to force a class, then the contract cap. Pure.
import type { PriorityClass } from './calendar.js';
import type { Category } from './category.js';
import { firstMatch, type Term } from './wording.js';

export const PRIORITY_CLASSES: readonly PriorityClass[] = ['P1+', 'P1', 'P2', 'P3', 'P4', 'P7'];
/** Classes a support contract is needed for; without one they are lowered to P3. */
const CONTRACT_CLASSES: ReadonlySet<PriorityClass> = new Set(['P1+', 'P1', 'P2']);

export interface PriorityRule {
  class: PriorityClass;
  /** The rule applies only to these categories (null: any). */
  categories: Category[] | null;
  /** Every group must match; a group matches when any of its terms is found. */
  all: Term[][];
  none: Term[];
}

export interface PriorityRules {
  defaultClass: PriorityClass;
  rules: PriorityRule[];
}

export interface PriorityInput {
  /** Normalised wording of the request (wording.ts requestWording). */
  wording: string;
  subject: string;
  category: Category;
  /** May this sender force a class with a subject tag (an authorized, verified referent)? */
  mayForce: boolean;
  /** Does the Administration's contract include the support service? */
  supportContract: boolean;
}

export type PriorityBasis = 'rule' | 'default' | 'subject-tag';

export interface PriorityDecision {
  priority: PriorityClass;
  basis: PriorityBasis;
  /** The matched words, or the tag. */
  matched: string[];
  /** The class before the contract cap lowered it, when it did. */
  loweredFrom: PriorityClass | null;
  /** A tag was present but this sender may not force a class. */
  tagIgnored: PriorityClass | null;
  /** One line for the ticket's history. */
  reason: string;
}

/** `[P1+]` … `[P7]` in the subject (the last one wins), or null. */
export function subjectTag(subject: string): PriorityClass | null {
  const tags = [...subject.matchAll(/\[\s*(P1\+|P1|P2|P3|P4|P7)\s*\]/gi)].map((m) => m[1]!.toUpperCase() as PriorityClass);
  return tags.length ? tags[tags.length - 1]! : null;
}

export function derivePriority(input: PriorityInput, rules: PriorityRules): PriorityDecision {
  let priority = rules.defaultClass;
  let basis: PriorityBasis = 'default';
  let matched: string[] = [];
  for (const rule of rules.rules) {
    if (rule.categories && !rule.categories.includes(input.category)) continue;
    if (firstMatch(input.wording, rule.none)) continue;
    const found = rule.all.map((group) => firstMatch(input.wording, group));
    if (found.every((t) => t !== null)) {
      priority = rule.class;
      basis = 'rule';
      matched = found.map((t) => t!.source);
      break;
    }
  }
  const tag = subjectTag(input.subject);
  let tagIgnored: PriorityClass | null = null;
  if (tag && input.mayForce) {
    priority = tag;
    basis = 'subject-tag';
    matched = [`[${tag}]`];
  } else if (tag) tagIgnored = tag;
  let loweredFrom: PriorityClass | null = null;
  if (CONTRACT_CLASSES.has(priority) && !input.supportContract) {
    loweredFrom = priority;
    priority = 'P3';
  }
  const why =
    basis === 'rule'
      ? `rule ${loweredFrom ?? priority}: ${matched.join(' + ')}${input.category !== 'support' ? ` (${input.category})` : ''}`
      : basis === 'subject-tag'
        ? `forced by the referent with the subject tag [${loweredFrom ?? priority}]`
        : `default class${input.category !== 'support' ? ` (${input.category})` : ''}`;
  const reason = [
    why,
    tagIgnored ? `subject tag [${tagIgnored}] ignored: only an authorized technical referent may force a class` : null,
    loweredFrom ? `lowered from ${loweredFrom} to P3: no support contract` : null,
  ]
    .filter(Boolean)
    .join('; ');
  return { priority, basis, matched, loweredFrom, tagIgnored, reason };
}
