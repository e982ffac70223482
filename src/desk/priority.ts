// Priority derivation (SPEC §4). For now a single configured default class; the rule table
// (config/priority.yaml: keywords, categories, subject tags, contract cap) slots in here.
import type { PriorityClass } from './calendar.js';

export interface PriorityInput {
  subject: string;
  text: string;
  category: string;
}

export interface PriorityRules {
  defaultClass: PriorityClass;
}

export interface PriorityDecision {
  priority: PriorityClass;
  reason: string;
}

export function derivePriority(_input: PriorityInput, rules: PriorityRules): PriorityDecision {
  return { priority: rules.defaultClass, reason: 'default class' };
}
