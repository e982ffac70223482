// What a request asks for (SPEC §2.3): `support`, or a change request of a category, from its
// Italian wording. The table lives in config (config/categories.yaml); first match wins. Pure.
import { firstMatch, type Term } from './wording.js';

export const CHANGE_CATEGORIES = ['directory', 'password-reset', 'mailbox-lifecycle'] as const;
export type ChangeCategory = (typeof CHANGE_CATEGORIES)[number];
export type Category = 'support' | ChangeCategory;

export interface CategoryRule {
  category: ChangeCategory;
  /** Every group must match; a group matches when any of its terms is found. */
  all: Term[][];
  /** No term of these may be found (e.g. "come si" questions are not requests). */
  none: Term[];
}

export interface CategoryDecision {
  kind: 'support' | 'change-request';
  category: Category;
  /** The words that decided it, for the ticket ("casell* + creare"); null for plain support. */
  matched: string[] | null;
}

/** `wording` is normalised text (wording.ts requestWording). */
export function categorize(wording: string, rules: readonly CategoryRule[]): CategoryDecision {
  for (const rule of rules) {
    if (firstMatch(wording, rule.none)) continue;
    const found = rule.all.map((group) => firstMatch(wording, group));
    if (found.every((t) => t !== null)) {
      return { kind: 'change-request', category: rule.category, matched: found.map((t) => t!.source) };
    }
  }
  return { kind: 'support', category: 'support', matched: null };
}
