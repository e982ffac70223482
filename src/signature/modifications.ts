// What changed in a signed PDF after a signature, revision by revision, judged against an
// explicit whitelist (the approach of pyHanko's difference analysis): every object an update
// adds or redefines must be explained by a rule — validation data (DSS/VRI), document
// timestamps, further signatures with their fields, widgets and AcroForm entries, catalog
// /Extensions and /Metadata, the /Info dictionary — and, only as the certification
// signature's DocMDP /P (and FieldMDP locks) permit, form filling and annotations. Anything
// else is a modification, named by object number. New objects nothing refers to are never
// shown by a reader and are ignored.
import {
  duplicateKeyIn, Lexer, PdfDict, PdfRef, PdfStream, PdfString, Revision, RevisionSet, refsOf, sameEntry, sameValue, type PdfValue,
} from '../pdf/cos.js';

export type ModificationLevel = 'none' | 'lta-updates' | 'form-filling' | 'annotations' | 'other';
export type Coverage = 'entire-file' | 'entire-revision' | 'partial';

/** What a change is, for the permission check. */
type ChangeKind = 'lta' | 'signing' | 'form' | 'annot';
const LEVEL_OF: Record<ChangeKind, ModificationLevel> = { lta: 'lta-updates', signing: 'form-filling', form: 'form-filling', annot: 'annotations' };
const LEVEL_ORDER: ModificationLevel[] = ['none', 'lta-updates', 'form-filling', 'annotations', 'other'];
const maxLevel = (a: ModificationLevel, b: ModificationLevel) => (LEVEL_ORDER.indexOf(a) >= LEVEL_ORDER.indexOf(b) ? a : b);

export interface FieldLock {
  action: 'All' | 'Include' | 'Exclude';
  fields: string[];
}

export interface ModificationPolicy {
  /** The certification signature's DocMDP /P (1–3), null without a certification signature. */
  docMdp: 1 | 2 | 3 | null;
}

export interface ModificationReview {
  level: ModificationLevel;
  /** Why the updates are not acceptable (empty when they are). */
  reasons: string[];
}

function allowed(kind: ChangeKind, p: ModificationPolicy): boolean {
  if (kind === 'lta') return true;
  // Without a certification signature further signatures are fine, nothing else is.
  if (p.docMdp === null) return kind === 'signing';
  if (p.docMdp === 1) return false;
  if (p.docMdp === 2) return kind === 'signing' || kind === 'form';
  return true;
}

const MAX_UPDATES = 100;

const KIND_TEXT: Record<ChangeKind, string> = { lta: 'validation data', signing: 'a signature', form: 'form filling', annot: 'annotations' };

/** Review every update appended after the revision ending at `signedEnd`. */
export function reviewModifications(buf: Buffer, signedEnd: number, policy: ModificationPolicy, revisions = new RevisionSet(buf)): ModificationReview {
  const ends = revisions.ends.filter((e) => e.end > signedEnd);
  if (ends.length === 0) return { level: 'none', reasons: [] };
  // Each update is compared with the whole document before it: bound the work a file can ask for.
  if (ends.length > MAX_UPDATES) return { level: 'other', reasons: [`${ends.length} updates after signing (more than ${MAX_UPDATES} are not analysed)`] };
  let prev: Revision;
  try {
    prev = revisions.at(signedEnd, true);
  } catch (e) {
    return { level: 'other', reasons: [`the signed revision's cross-reference cannot be read, so the later updates cannot be analysed: ${(e as Error).message}`] };
  }
  let level: ModificationLevel = 'none';
  const reasons: string[] = [];
  for (const e of ends) {
    let next: Revision;
    try {
      next = revisions.at(e.end, false);
    } catch (err) {
      return { level: 'other', reasons: [`the update ending at byte ${e.end} cannot be read: ${(err as Error).message}`] };
    }
    let r: ModificationReview;
    try {
      r = compareRevisions(prev, next, policy);
    } catch (err) {
      // A structure the rules cannot walk (a broken object the update relies on): not explained.
      r = { level: 'other', reasons: [`the update ending at byte ${e.end} cannot be analysed: ${(err as Error).message}`] };
    }
    level = maxLevel(level, r.level);
    reasons.push(...r.reasons);
    prev = next;
  }
  return { level, reasons };
}

// ---------------------------------------------------------------------------------------

interface Change {
  num: number;
  old: PdfValue;
  neu: PdfValue;
}

/** Roles of the objects of the older revision, found by walking its catalog. */
interface OldRoles {
  catalog: number | null;
  acroForm: number | null;
  acroFormFields: number | null;
  acroFormDr: number | null;
  info: number | null;
  metadata: number | null;
  dssOnly: Set<number>;
  pages: Set<number>;
  annotsArrays: Map<number, number>; // array object → page
  fields: Map<number, { name: string; sig: boolean; signed: boolean }>;
  widgets: Map<number, number>; // widget annotation → its field
  appearances: Map<number, number>; // appearance stream (or state dict) → its widget
  annotations: Set<number>; // non-widget annotations on pages
  locks: FieldLock[];
}

const num = (v: PdfValue | undefined) => (v instanceof PdfRef ? v.num : null);
const MAX_WALK = 200000;

function pageNumbers(rev: Revision, catalog: PdfDict): Set<number> {
  const pages = new Set<number>();
  const seen = new Set<number>();
  const walk = (ref: PdfValue | undefined, depth: number) => {
    const n = num(ref);
    if (n === null || seen.has(n) || depth > 64 || seen.size > MAX_WALK) return;
    seen.add(n);
    const d = rev.dict(ref);
    if (!d) return;
    const kids = rev.resolve(d.get('Kids'));
    if (Array.isArray(kids)) for (const k of kids) walk(k, depth + 1);
    else pages.add(n);
  };
  walk(catalog.get('Pages'), 0);
  return pages;
}

function fieldName(rev: Revision, d: PdfDict): string {
  const parts: string[] = [];
  let cur: PdfDict | null = d;
  for (let i = 0; cur && i < 32; i++) {
    const t = cur.get('T');
    if (t instanceof PdfString) parts.unshift(t.text());
    cur = rev.dict(cur.get('Parent'));
  }
  return parts.join('.');
}

function inheritedFt(rev: Revision, d: PdfDict): string | null {
  let cur: PdfDict | null = d;
  for (let i = 0; cur && i < 32; i++) {
    const ft = cur.name('FT');
    if (ft) return ft;
    cur = rev.dict(cur.get('Parent'));
  }
  return null;
}

function lockOf(rev: Revision, v: PdfValue | undefined): FieldLock | null {
  const d = rev.dict(v);
  if (!d) return null;
  const action = d.name('Action');
  if (action !== 'All' && action !== 'Include' && action !== 'Exclude') return null;
  const fields = rev.resolve(d.get('Fields'));
  return { action, fields: Array.isArray(fields) ? fields.flatMap((f) => (f instanceof PdfString ? [f.text()] : [])) : [] };
}

/** The FieldMDP locks a signature dictionary and its field declare. */
function locksOfSignature(rev: Revision, field: PdfDict, sig: PdfDict): FieldLock[] {
  const out: FieldLock[] = [];
  const fieldLock = lockOf(rev, field.get('Lock'));
  if (fieldLock) out.push(fieldLock);
  const refs = rev.resolve(sig.get('Reference'));
  if (Array.isArray(refs)) {
    for (const r of refs) {
      const rd = rev.dict(r);
      if (rd?.name('TransformMethod') === 'FieldMDP') {
        const l = lockOf(rev, rd.get('TransformParams'));
        if (l) out.push(l);
      }
    }
  }
  return out;
}

function oldRoles(rev: Revision): OldRoles {
  const roles: OldRoles = {
    catalog: num(rev.trailer.get('Root')), acroForm: null, acroFormFields: null, acroFormDr: null, info: num(rev.trailer.get('Info')),
    metadata: null, dssOnly: new Set(), pages: new Set(), annotsArrays: new Map(), fields: new Map(), widgets: new Map(),
    appearances: new Map(), annotations: new Set(), locks: [],
  };
  const catalog = rev.dict(rev.trailer.get('Root'));
  if (!catalog) return roles;
  roles.metadata = num(catalog.get('Metadata'));
  const dss = catalog.get('DSS');
  if (num(dss) !== null) roles.dssOnly.add(num(dss)!);
  reachNew(rev, dss, (n) => roles.dssOnly.add(n), () => true);
  const af = catalog.get('AcroForm');
  roles.acroForm = num(af);
  const afd = rev.dict(af);
  roles.acroFormFields = afd ? num(afd.get('Fields')) : null;
  roles.acroFormDr = afd ? num(afd.get('DR')) : null;
  const noteWidget = (w: number, field: number) => {
    roles.widgets.set(w, field);
    const wd = rev.dict(new PdfRef(w, 0));
    const ap = wd ? rev.dict(wd.get('AP')) : null;
    if (!ap) return;
    if (num(wd!.get('AP')) !== null) roles.appearances.set(num(wd!.get('AP'))!, w);
    for (const v of ap.map.values()) {
      if (num(v) !== null) roles.appearances.set(num(v)!, w);
      const states = rev.resolve(v);
      if (states instanceof PdfDict) for (const s of states.map.values()) if (num(s) !== null) roles.appearances.set(num(s)!, w);
    }
  };
  const seen = new Set<number>();
  const walkField = (ref: PdfValue, depth: number) => {
    const n = num(ref);
    if (n === null || seen.has(n) || depth > 32 || seen.size > MAX_WALK) return;
    seen.add(n);
    const d = rev.dict(ref);
    if (!d) return;
    const sig = inheritedFt(rev, d) === 'Sig';
    const v = rev.dict(d.get('V'));
    roles.fields.set(n, { name: fieldName(rev, d), sig, signed: sig && v !== null });
    if (sig && v) roles.locks.push(...locksOfSignature(rev, d, v));
    if (d.name('Subtype') === 'Widget') noteWidget(n, n);
    const kids = rev.resolve(d.get('Kids'));
    if (Array.isArray(kids)) {
      for (const k of kids) {
        const kd = rev.dict(k);
        // A kid without /T (or with /Subtype /Widget and no /T) is a widget of this field.
        if (kd && !kd.has('T') && num(k) !== null) {
          roles.widgets.set(num(k)!, n);
          noteWidget(num(k)!, n);
        } else walkField(k, depth + 1);
      }
    }
  };
  const fields = afd ? rev.resolve(afd.get('Fields')) : null;
  if (Array.isArray(fields)) for (const f of fields) walkField(f, 0);
  roles.pages = pageNumbers(rev, catalog);
  for (const p of roles.pages) {
    const pd = rev.dict(new PdfRef(p, 0));
    const annots = pd?.get('Annots');
    if (num(annots) !== null) roles.annotsArrays.set(num(annots)!, p);
    const list = rev.resolve(annots);
    if (!Array.isArray(list)) continue;
    for (const a of list) {
      const an = num(a);
      if (an === null) continue;
      const ad = rev.dict(a);
      if (ad?.name('Subtype') === 'Widget') {
        if (!roles.widgets.has(an)) roles.widgets.set(an, num(ad.get('Parent')) ?? an);
      } else roles.annotations.add(an);
    }
  }
  return roles;
}

/**
 * Walk `v` through objects for which `take` holds (new objects, in practice), calling `visit`
 * on each: what a rule adopts. Existing objects are not entered: a change to one needs its
 * own explanation.
 */
function reachNew(rev: Revision, v: PdfValue | undefined, visit: (n: number) => void, take: (n: number) => boolean, seen = new Set<number>()): void {
  const stack = refsOf(v);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !take(n) || seen.size > MAX_WALK) continue;
    seen.add(n);
    visit(n);
    let val: PdfValue;
    try {
      val = rev.get(n);
    } catch {
      continue;
    }
    refsOf(val, stack);
  }
}

/** Is an annotation shown: a non-empty /Rect and neither Hidden nor NoView set. */
function visible(rev: Revision, d: PdfDict): boolean {
  const rect = rev.resolve(d.get('Rect'));
  const flags = rev.resolve(d.get('F'));
  if (typeof flags === 'number' && (flags & 2 || flags & 32)) return false;
  if (!Array.isArray(rect) || rect.length !== 4 || !rect.every((x) => typeof x === 'number')) return false;
  const [x1, y1, x2, y2] = rect as number[];
  return Math.abs(x2! - x1!) > 0 && Math.abs(y2! - y1!) > 0;
}

function widgetsOf(rev: Revision, field: PdfDict): PdfDict[] {
  if (field.name('Subtype') === 'Widget' || field.has('Rect')) return [field];
  const kids = rev.resolve(field.get('Kids'));
  return Array.isArray(kids) ? kids.flatMap((k) => rev.dict(k) ?? []) : [];
}

function locked(locks: FieldLock[], name: string): boolean {
  return locks.some((l) => (l.action === 'All' ? true : l.action === 'Include' ? l.fields.includes(name) : !l.fields.includes(name)));
}

const describe = (v: PdfValue) => {
  const d = v instanceof PdfStream ? v.dict : v instanceof PdfDict ? v : null;
  const t = d?.name('Type') ?? d?.name('Subtype');
  return t ? ` (/${t})` : '';
};

function compareRevisions(old: Revision, neu: Revision, policy: ModificationPolicy): ModificationReview {
  const reasons: string[] = [];
  let level: ModificationLevel = 'none';
  const explained = new Map<number, ChangeKind>();
  const note = (kind: ChangeKind, what: string) => {
    level = maxLevel(level, LEVEL_OF[kind]);
    if (!allowed(kind, policy)) {
      const by = policy.docMdp === null ? 'no certification signature permits it' : `the certification signature permits ${policy.docMdp === 1 ? 'no changes' : policy.docMdp === 2 ? 'only form filling and signing' : 'form filling, signing and annotations'} (DocMDP P=${policy.docMdp})`;
      reasons.push(`${what}: ${KIND_TEXT[kind]} after signing, and ${by}`);
    }
  };
  const other = (why: string) => {
    level = 'other';
    reasons.push(why);
  };

  // The trailer may not swap the document's catalog or encryption.
  for (const k of ['Root', 'Encrypt']) {
    if (!sameValue(old.trailer.get(k), neu.trailer.get(k))) other(`the update changes the trailer's /${k}`);
  }

  // Objects whose cross-reference entry differs (or that live in a replaced object stream).
  const candidates = new Set<number>();
  for (const n of new Set([...old.entries.keys(), ...neu.entries.keys()])) if (!sameEntry(old.entries.get(n), neu.entries.get(n))) candidates.add(n);
  const replacedStreams = new Set([...candidates]);
  for (const rev of [old, neu]) for (const [n, e] of rev.entries) if (e.type === 'compressed' && replacedStreams.has(e.stream)) candidates.add(n);
  const changes = new Map<number, Change>();
  for (const n of [...candidates].sort((a, b) => a - b)) {
    let o: PdfValue = null;
    let v: PdfValue = null;
    try {
      o = old.get(n);
    } catch {
      o = null;
    }
    try {
      v = neu.get(n);
    } catch (e) {
      other(`object ${n} of the update cannot be read: ${(e as Error).message}`);
      continue;
    }
    // A key written twice means different things to different readers: never explainable.
    const dup = duplicateKeyIn(v);
    if (dup) {
      other(`object ${n} of the update has a dictionary with /${dup} written twice`);
      continue;
    }
    if (sameValue(o, v)) continue;
    if (v === null && o !== null) {
      other(`the update deletes object ${n}${describe(o)}`);
      continue;
    }
    // Cross-reference and object streams are containers: their members are compared one by one.
    if (v instanceof PdfStream && (v.dict.name('Type') === 'XRef' || v.dict.name('Type') === 'ObjStm')) {
      if (o === null || (o instanceof PdfStream && (o.dict.name('Type') === 'XRef' || o.dict.name('Type') === 'ObjStm'))) continue;
    }
    changes.set(n, { num: n, old: o, neu: v });
  }
  // The update's own bytes: only the objects its cross-reference lists, the xref and trailer.
  // An object header anywhere else is what a reader rebuilding the xref would see instead.
  // (After the comparison above, which has already parsed the listed objects.)
  checkUpdateBytes(old, neu, other);
  if (changes.size === 0) return { level, reasons };

  const isNew = (n: number) => changes.get(n)?.old === null;
  const adopt = (v: PdfValue | undefined, kind: ChangeKind) =>
    reachNew(neu, v, (n) => {
      if (!explained.has(n)) explained.set(n, kind);
    }, isNew);
  const roles = oldRoles(old);
  const newCatalog = neu.dict(neu.trailer.get('Root'));

  // A new field: only signature fields may be added; an unsigned one must not be visible.
  const newField = (ref: PdfValue): void => {
    const d = neu.dict(ref);
    const n = num(ref);
    if (!d || n === null || !isNew(n)) {
      other(`the update adds an existing object ${n ?? '?'} as a form field`);
      return;
    }
    const name = fieldName(neu, d);
    // A refused field is reported once: what it brings along is not listed again.
    const refuse = (why: string) => {
      other(why);
      explained.set(n, 'signing');
      adopt(ref, 'signing');
    };
    if (inheritedFt(neu, d) !== 'Sig') return refuse(`the update adds form field "${name}" (object ${n})`);
    const sig = neu.dict(d.get('V'));
    if (!sig && widgetsOf(neu, d).some((w) => visible(neu, w))) {
      return refuse(`the update adds an unsigned signature field "${name}" (object ${n}) with a visible appearance`);
    }
    // A new field must carry a new signature: pointing at an earlier one shows that signer's valid
    // signature wherever the new widget's appearance says.
    const v = num(d.get('V'));
    if (sig && (v === null || !isNew(v))) return refuse(`the update adds signature field "${name}" (object ${n}) whose value is not a new signature`);
    const kind: ChangeKind = sig?.name('Type') === 'DocTimeStamp' || sig?.name('SubFilter') === 'ETSI.RFC3161' ? 'lta' : 'signing';
    explained.set(n, kind);
    adopt(ref, kind);
    note(kind, `signature field "${name}"`);
  };

  const compareAcroForm = (o: PdfDict | null, v: PdfDict | null) => {
    if (!v) {
      if (o) other('the update removes the /AcroForm');
      return;
    }
    for (const k of new Set([...(o?.map.keys() ?? []), ...v.map.keys()])) {
      const a = o?.get(k);
      const b = v.get(k);
      if (sameValue(a, b)) continue;
      if (k === 'Fields') {
        const before = (o ? old.resolve(a) : []) as PdfValue;
        const after = neu.resolve(b);
        const was = Array.isArray(before) ? before.map(num) : [];
        const now = Array.isArray(after) ? after.map(num) : [];
        if (num(b) !== null && changes.has(num(b)!)) explained.set(num(b)!, 'signing');
        const removed = was.filter((x) => !now.includes(x));
        if (removed.length) other(`the update removes form field object(s) ${removed.join(', ')}`);
        for (const f of Array.isArray(after) ? after : []) if (!was.includes(num(f))) newField(f);
      } else if (k === 'SigFlags' || k === 'DA') note('lta', `/AcroForm /${k}`);
      else if (k === 'DR') {
        if (num(b) !== null && changes.has(num(b)!)) explained.set(num(b)!, 'signing');
        adopt(b, 'signing');
      } else other(`the update changes /AcroForm /${k}`);
    }
  };

  for (const c of changes.values()) {
    if (explained.has(c.num) || c.old === null) continue;
    const n = c.num;
    const od = c.old instanceof PdfDict ? c.old : null;
    const nd = c.neu instanceof PdfDict ? c.neu : null;
    if (n === roles.catalog && od && nd) {
      explained.set(n, 'lta');
      for (const k of new Set([...od.map.keys(), ...nd.map.keys()])) {
        if (sameValue(od.get(k), nd.get(k))) continue;
        if (k === 'DSS' || k === 'Extensions' || k === 'Metadata') {
          adopt(nd.get(k), 'lta');
          note('lta', `catalog /${k}`);
        } else if (k === 'AcroForm') {
          if (num(nd.get(k)) !== null && isNew(num(nd.get(k))!)) explained.set(num(nd.get(k))!, 'signing');
          compareAcroForm(old.dict(od.get(k)), neu.dict(nd.get(k)));
        } else other(`the update changes /${k} of the catalog (object ${n})`);
      }
    } else if (n === roles.acroForm) {
      explained.set(n, 'signing');
      compareAcroForm(od, nd);
    } else if (n === roles.acroFormFields) {
      explained.set(n, 'signing');
      const was = Array.isArray(c.old) ? c.old.map(num) : [];
      const now = Array.isArray(c.neu) ? c.neu : [];
      const removed = was.filter((x) => !now.map(num).includes(x));
      if (removed.length) other(`the update removes form field object(s) ${removed.join(', ')}`);
      for (const f of now) if (!was.includes(num(f))) newField(f);
    } else if (n === roles.acroFormDr || n === roles.metadata || n === roles.info || roles.dssOnly.has(n)) {
      const kind: ChangeKind = n === roles.acroFormDr ? 'signing' : 'lta';
      explained.set(n, kind);
      adopt(c.neu, kind);
      note(kind, n === roles.info ? 'document information' : n === roles.metadata ? 'XMP metadata' : n === roles.acroFormDr ? 'form resources' : 'validation data (DSS)');
    } else if (roles.pages.has(n) || roles.annotsArrays.has(n)) {
      const page = roles.annotsArrays.get(n) ?? n;
      let before: PdfValue;
      let after: PdfValue;
      if (roles.pages.has(n)) {
        if (!od || !nd) {
          other(`the update replaces page object ${n}`);
          continue;
        }
        const keys = [...new Set([...od.map.keys(), ...nd.map.keys()])].filter((k) => !sameValue(od.get(k), nd.get(k)));
        const bad = keys.filter((k) => k !== 'Annots');
        if (bad.length) {
          other(`the update changes ${bad.map((k) => `/${k}`).join(', ')} of page object ${n}`);
          continue;
        }
        before = old.resolve(od.get('Annots'));
        after = neu.resolve(nd.get('Annots'));
        if (num(nd.get('Annots')) !== null && isNew(num(nd.get('Annots'))!)) explained.set(num(nd.get('Annots'))!, 'signing');
      } else {
        before = c.old;
        after = c.neu;
      }
      explained.set(n, 'signing');
      const was = Array.isArray(before) ? before.map(num) : [];
      const now = Array.isArray(after) ? after : [];
      const removed = was.filter((x) => !now.map(num).includes(x));
      for (const r of removed) {
        if (r !== null && roles.widgets.has(r)) other(`the update removes widget ${r} from page object ${page}`);
        else note('annot', `annotation ${r} removed from page object ${page}`);
      }
      for (const a of now) {
        const an = num(a);
        if (was.includes(an)) continue;
        const ad = neu.dict(a);
        if (an === null || !ad) {
          other(`the update adds a direct annotation to page object ${page}`);
          continue;
        }
        if (ad.name('Subtype') === 'Widget' || ad.has('FT')) {
          const field = ad.has('FT') || ad.has('T') ? ad : neu.dict(ad.get('Parent'));
          if (!field || inheritedFt(neu, field) !== 'Sig') {
            other(`the update adds a form field widget (object ${an}) to page object ${page}`);
          } else if (!neu.dict(field.get('V')) && visible(neu, ad)) {
            other(`the update adds an unsigned signature field "${fieldName(neu, field)}" (object ${an}) with a visible appearance`);
          } else if (isNew(an)) {
            adopt(a, 'signing');
            explained.set(an, 'signing');
          }
        } else {
          if (isNew(an)) {
            adopt(a, 'annot');
            explained.set(an, 'annot');
          }
          note('annot', `a ${ad.name('Subtype') ?? 'new'} annotation (object ${an}) on page object ${page}`);
        }
      }
    } else if (roles.fields.has(n) || roles.widgets.has(n)) {
      const fieldNum = roles.fields.has(n) ? n : roles.widgets.get(n)!;
      const f = roles.fields.get(fieldNum) ?? { name: `object ${fieldNum}`, sig: false, signed: false };
      if (!od || !nd) {
        other(`the update replaces field object ${n}`);
        continue;
      }
      const keys = [...new Set([...od.map.keys(), ...nd.map.keys()])].filter((k) => !sameValue(od.get(k), nd.get(k)));
      const okKeys = roles.fields.has(n) ? ['V', 'AP', 'AS', 'RV'] : ['AP', 'AS'];
      const bad = keys.filter((k) => !okKeys.includes(k));
      if (bad.length) other(`the update changes ${bad.map((k) => `/${k}`).join(', ')} of field "${f.name}" (object ${n})`);
      else if (f.sig && f.signed) other(`the update changes the signed signature field "${f.name}" (object ${n})`);
      else if (locked(roles.locks, f.name)) other(`the update changes field "${f.name}" (object ${n}), locked by a signature (FieldMDP)`);
      else {
        const sig = f.sig ? neu.dict(nd.get('V')) : null;
        const kind: ChangeKind = f.sig ? (sig?.name('Type') === 'DocTimeStamp' ? 'lta' : 'signing') : 'form';
        explained.set(n, kind);
        adopt(nd, kind);
        note(kind, f.sig ? `signature field "${f.name}"` : `field "${f.name}"`);
      }
    } else if (roles.appearances.has(n)) {
      const w = roles.appearances.get(n)!;
      const f = roles.fields.get(roles.widgets.get(w) ?? w);
      const kind: ChangeKind = f?.sig ? 'signing' : 'form';
      if (f && f.sig && f.signed) other(`the update changes the appearance (object ${n}) of the signed field "${f.name}"`);
      else if (f && locked(roles.locks, f.name)) other(`the update changes the appearance (object ${n}) of field "${f.name}", locked by a signature (FieldMDP)`);
      else {
        explained.set(n, kind);
        adopt(c.neu, kind);
        note(kind, `appearance of ${f ? `field "${f.name}"` : `widget ${w}`}`);
      }
    } else if (roles.annotations.has(n)) {
      explained.set(n, 'annot');
      adopt(c.neu, 'annot');
      note('annot', `annotation object ${n}`);
    }
  }
  // The /Info dictionary may be replaced by a new one.
  const newInfo = num(neu.trailer.get('Info'));
  if (newInfo !== null && newInfo !== roles.info && changes.has(newInfo)) {
    explained.set(newInfo, 'lta');
    adopt(neu.trailer.get('Info'), 'lta');
    note('lta', 'document information');
  }
  if (newCatalog === null) other('the update leaves no readable catalog');

  const unexplained = [...changes.values()].filter((c) => !explained.has(c.num));
  if (unexplained.length) {
    // New objects nothing reaches are never shown; anything else is a modification.
    const reachable = reachableFrom(neu);
    for (const c of unexplained) {
      if (c.old === null && !reachable.has(c.num)) continue;
      other(c.old === null ? `the update adds object ${c.num}${describe(c.neu)}` : `the update changes object ${c.num}${describe(c.old)}`);
    }
  }
  return { level, reasons: [...new Set(reasons)] };
}

function reachableFrom(rev: Revision): Set<number> {
  const seen = new Set<number>();
  reachNew(rev, new PdfDict(new Map([['Root', rev.trailer.get('Root') ?? null], ['Info', rev.trailer.get('Info') ?? null]])), () => {}, () => true, seen);
  return seen;
}

/**
 * The bytes an update adds may hold only the objects its cross-reference lists (at the
 * offsets listed), its xref and trailer: an unlisted object header — a redefinition a
 * reader would find by rebuilding a damaged xref — is a modification.
 */
function checkUpdateBytes(old: Revision, neu: Revision, other: (why: string) => void): void {
  // Offsets where a listed object (or an xref stream, itself an object) starts.
  const listed = new Set<number>();
  for (const e of neu.entries.values()) if (e.type === 'offset' && e.offset >= old.end && e.offset < neu.end) listed.add(e.offset);
  for (const s of neu.sections) {
    if (s.offset < old.end) continue;
    if (s.kind === 'stream') listed.add(s.offset);
    const stm = s.trailer.get('XRefStm');
    if (typeof stm === 'number') listed.add(stm);
  }
  const lx = new Lexer(neu.buf, old.end, neu.end);
  let prev: { kind: string; value?: unknown; start: number }[] = [];
  try {
    for (;;) {
      lx.skipWhitespace();
      if (lx.pos >= neu.end) break;
      const at = lx.pos;
      if (listed.has(at)) {
        // A listed object: skip it whole (streams included); a broken one is reported where it is compared.
        const end = neu.endOfObjectAt(at);
        if (end <= at) break;
        lx.pos = end;
        prev = [];
        continue;
      }
      const t = lx.next();
      if (t.kind === 'kw' && t.value === 'obj') {
        const n = prev.length >= 2 ? prev[prev.length - 2] : undefined;
        other(`the update contains object ${typeof n?.value === 'number' ? n.value : '?'} at byte ${n?.start ?? t.start} that its cross-reference does not list`);
        return;
      }
      if (t.kind === 'kw' && t.value === 'stream') {
        other(`the update contains stream data at byte ${t.start} outside any listed object`);
        return;
      }
      if (t.kind === 'eof') break;
      prev.push({ kind: t.kind, value: (t as { value?: unknown }).value, start: t.start });
      if (prev.length > 3) prev.shift();
    }
  } catch (e) {
    other(`the update contains bytes that are not PDF syntax: ${(e as Error).message}`);
  }
}


/** The DocMDP permission of a certification signature: its /Reference's TransformParams /P. */
export function docMdpOf(rev: Revision, sig: PdfDict): 1 | 2 | 3 | null {
  const refs = rev.resolve(sig.get('Reference'));
  if (!Array.isArray(refs)) return null;
  for (const r of refs) {
    const rd = rev.dict(r);
    if (rd?.name('TransformMethod') !== 'DocMDP') continue;
    const p = rev.dict(rd.get('TransformParams'))?.get('P');
    return p === 1 || p === 3 ? p : 2;
  }
  return null;
}

