// The directory of administrations, referents and delegates (SPEC §8.3): file format and types.
import { z } from 'zod';

const email = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/, 'expected an e-mail address');
// YAML reads an unquoted 2026-01-01 as a Date: accept both.
const isoDay = z.preprocess(
  (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v),
  z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD'),
);

const person = z
  .object({
    name: z.string().min(1),
    email: email.optional(),
    pec: email.optional(),
    role: z.string().default('technical-referent'),
  })
  .strict()
  .refine((p) => p.email || p.pec, { message: 'a referent needs email or pec' });

const delegate = z
  .object({
    name: z.string().min(1),
    email: email.optional(),
    pec: email.optional(),
    delegatedBy: email,
    validFrom: isoDay,
    validUntil: isoDay,
  })
  .strict()
  .refine((d) => d.email || d.pec, { message: 'a delegate needs email or pec' })
  .refine((d) => d.validFrom <= d.validUntil, { message: 'validFrom is after validUntil' });

export const administrationSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected a lower-case id (letters, digits, . _ -)'),
    name: z.string().min(1),
    fiscalCode: z.string().regex(/^\d{11}$/, 'expected 11 digits').optional(),
    ipaCode: z.string().optional(),
    domains: z.array(z.string().trim().toLowerCase().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'expected a domain')).default([]),
    pec: z.array(email).default([]),
    contract: z
      .object({
        support: z.boolean().default(false),
        // The service calendar of this contract (a name from config `calendars`); none = the desk's default.
        calendar: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected a calendar name').optional(),
      })
      .strict()
      .default({ support: false }),
    referents: z.array(person).default([]),
    delegates: z.array(delegate).default([]),
  })
  .strict();

export const directoryFileSchema = z
  .object({ administrations: z.array(administrationSchema) })
  .strict()
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.administrations.forEach((a, i) => {
      if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: ['administrations', i, 'id'], message: `duplicate id ${a.id}` });
      seen.add(a.id);
    });
  });

export type Administration = z.infer<typeof administrationSchema>;

/**
 * Administrations whose contract names a calendar not in `known` (the configured calendars),
 * one sentence each, keyed like the directory file; empty when all is well. Pure.
 */
export function unknownCalendarProblems(admins: Administration[], known: readonly string[]): string[] {
  const out: string[] = [];
  admins.forEach((a, i) => {
    const c = a.contract.calendar;
    if (c !== undefined && !known.includes(c)) {
      out.push(
        `administrations.${i}.contract.calendar: administration ${a.id} names unknown calendar ${JSON.stringify(c)} (known: ${known.join(', ')})`,
      );
    }
  });
  return out;
}
export type DirectoryFile = z.infer<typeof directoryFileSchema>;

/** What the directory says about one sender address. */
export interface SenderFacts {
  address: string;
  /** Administrations that claim this address: by referent/delegate entry, PEC box or domain. */
  matches: Array<{
    administrationId: string;
    administrationName: string;
    supportContract: boolean;
    /** The contract's service calendar, or null for the desk's default. */
    calendar: string | null;
    role: 'technical-referent' | 'referent' | 'delegate' | 'pec' | 'domain-user';
    name?: string;
    validFrom?: string;
    validUntil?: string;
  }>;
}
