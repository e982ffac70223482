// The order form's contract, read from config/forms/<form>.yaml (SPEC §6): a new version of
// the form changes that file only, never code.
import path from 'node:path';
import { z } from 'zod';
import { formatZodIssues, projectRoot, readYamlFile } from '../config/load.js';

export class FormSpecError extends Error {}

const FIELD_TYPES = ['text', 'email', 'pec', 'fiscal-code-numeric', 'fiscal-code-personal', 'cap', 'province', 'date', 'integer', 'checkbox', 'choice', 'phone'] as const;

const specSchema = z
  .object({
    form: z.string().min(1),
    version: z.number().int().positive(),
    title: z.string().optional(),
    fields: z.array(
      z
        .object({
          name: z.string().regex(/^[A-Za-z][\w.]*$/),
          label: z.string().min(1),
          type: z.enum(FIELD_TYPES),
          required: z.boolean().default(false),
          options: z.array(z.string()).optional(),
        })
        .strict(),
    ),
    services: z.array(z.object({ code: z.string().regex(/^[A-Z][A-Z0-9_]*$/), label: z.string() }).strict()).min(1),
    serviceFields: z.object({ selected: z.string().includes('{code}'), quantity: z.string().includes('{code}') }).strict(),
  })
  .strict();

export type FormSpec = z.infer<typeof specSchema>;
export type FieldType = (typeof FIELD_TYPES)[number];

export function formSpecPath(form = 'piano-fabbisogni'): string {
  return path.join(projectRoot, 'config', 'forms', `${form}.yaml`);
}

const cache = new Map<string, FormSpec>();

export function loadFormSpec(file = formSpecPath()): FormSpec {
  const hit = cache.get(file);
  if (hit) return hit;
  const parsed = specSchema.safeParse(readYamlFile(file, (m) => new FormSpecError(m)));
  if (!parsed.success) throw new FormSpecError(formatZodIssues(file, parsed.error));
  cache.set(file, parsed.data);
  return parsed.data;
}

export function serviceFieldName(spec: FormSpec, which: 'selected' | 'quantity', code: string): string {
  return spec.serviceFields[which].replace('{code}', code);
}
