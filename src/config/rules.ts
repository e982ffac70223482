// The desk's rule tables (config/categories.yaml, config/priority.yaml): read, validated and
// compiled once at start. A mistake stops pecdesk with `file: key: what is wrong`.
import { z } from 'zod';
import { CHANGE_CATEGORIES, type CategoryRule } from '../desk/category.js';
import type { PriorityClass } from '../desk/calendar.js';
import type { PriorityRule, PriorityRules } from '../desk/priority.js';
import { compileTerm, type Term } from '../desk/wording.js';
import { ConfigError, formatZodIssues, readYamlFile } from './load.js';

const CLASSES = ['P1+', 'P1', 'P2', 'P3', 'P4', 'P7'] as const;
const term = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return compileTerm(String(v));
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const groups = z.array(z.array(term).min(1, 'a group needs at least one term')).default([]);
const none = z.array(term).default([]);

const categoriesSchema = z
  .object({
    categories: z.array(
      z
        .object({ category: z.enum(CHANGE_CATEGORIES), all: groups.refine((g) => g.length > 0, 'at least one group of terms'), none })
        .strict(),
    ),
  })
  .strict();

const prioritySchema = z
  .object({
    default: z.enum(CLASSES),
    rules: z.array(
      z
        .object({
          class: z.enum(CLASSES),
          categories: z.array(z.enum(['support', ...CHANGE_CATEGORIES])).optional(),
          all: groups,
          none,
        })
        .strict()
        .refine((r) => r.categories || r.all.length > 0, 'a rule needs categories or groups of terms (else it would match everything)'),
    ),
  })
  .strict();

function parse<T extends z.ZodTypeAny>(file: string, schema: T): z.output<T> {
  const raw = readYamlFile(file, (m) => new ConfigError(m));
  const r = schema.safeParse(raw);
  if (!r.success) throw new ConfigError(formatZodIssues(file, r.error));
  return r.data;
}

export function loadCategoryRules(file: string): CategoryRule[] {
  return parse(file, categoriesSchema).categories.map((c) => ({ category: c.category, all: c.all as Term[][], none: c.none as Term[] }));
}

export function loadPriorityRules(file: string, defaultOverride?: PriorityClass): PriorityRules {
  const p = parse(file, prioritySchema);
  const rules: PriorityRule[] = p.rules.map((r) => ({ class: r.class, categories: r.categories ?? null, all: r.all as Term[][], none: r.none as Term[] }));
  return { defaultClass: defaultOverride ?? p.default, rules };
}
