// Lenient parser for a PEC `daticert.xml` (the provider-signed certification data; see
// shared/spec/PEC.md). Real providers emit slightly odd XML (stray text between elements,
// optional elements missing, several `destinatari`), so we parse the tree without DTD
// validation and only fail when the document is not XML, has no <postacert> root, or its
// `tipo` is not one of the eight known types: without a type the receipt cannot be classified.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type PecType =
  | 'accettazione'
  | 'non-accettazione'
  | 'presa-in-carico'
  | 'avvenuta-consegna'
  | 'posta-certificata'
  | 'errore-consegna'
  | 'preavviso-errore-consegna'
  | 'rilevazione-virus';

export const PEC_TYPES: readonly PecType[] = Object.freeze([
  'accettazione',
  'non-accettazione',
  'presa-in-carico',
  'avvenuta-consegna',
  'posta-certificata',
  'errore-consegna',
  'preavviso-errore-consegna',
  'rilevazione-virus',
] as const);

export interface Daticert {
  tipo: PecType;
  errore: string;
  mittente: string | null;
  destinatari: Array<{ address: string; tipo: 'certificato' | 'esterno' }>;
  risposte: string | null;
  oggetto: string | null;
  gestoreEmittente: string | null;
  data: { giorno: string | null; ora: string | null; zona: string | null; iso: string | null };
  identificativo: string | null;
  msgid: string | null;
  ricevuta: 'completa' | 'breve' | 'sintetica' | null;
  consegna: string | null;
  ricezione: string[];
  erroreEsteso: string | null;
}

export class DaticertError extends Error {
  override name = 'DaticertError';
}

const ATTR = '@_';
const TEXT = '#text';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  parseTagValue: false, // keep "00009" and "+0100" as strings
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true, // msgid arrives as &lt;…&gt;
  htmlEntities: true, // needed for numeric character references (&#232;)
  // Element and attribute names are lower-case in the DTD; fold case in case a provider doesn't.
  transformTagName: (n) => n.toLowerCase(),
  transformAttributeName: (n) => n.toLowerCase(),
});

type Node = Record<string, unknown>;

/** Decode a Buffer per the XML prolog's `encoding` (default UTF-8), honouring a BOM. */
function decode(buf: Buffer): string {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  // The prolog itself is ASCII, so reading the head as latin1 is safe whatever the encoding.
  const head = buf.subarray(0, 200).toString('latin1');
  const enc = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
  if (!enc || enc === 'utf-8' || enc === 'utf8') return buf.toString('utf8');
  // Exact byte→code point mapping for Latin-1, independent of ICU availability.
  if (enc === 'iso-8859-1' || enc === 'latin1' || enc === 'iso_8859-1' || enc === 'us-ascii') return buf.toString('latin1');
  try {
    return new TextDecoder(enc).decode(buf);
  } catch {
    return buf.toString('utf8'); // unknown label: best effort
  }
}

/** First occurrence of a value (the parser yields an array when an element repeats). */
function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function asNode(v: unknown): Node {
  const f = first(v);
  return f !== null && typeof f === 'object' ? (f as Node) : {};
}

/** Text content of an element, whether it was parsed as a bare string or an object with attributes. */
function text(v: unknown): string | null {
  const f = first(v);
  let s: unknown = f;
  if (f !== null && typeof f === 'object') s = first((f as Node)[TEXT]);
  if (typeof s === 'number' || typeof s === 'boolean') s = String(s);
  if (typeof s !== 'string') return null;
  const t = s.trim();
  return t === '' ? null : t;
}

function attr(v: unknown, name: string): string | null {
  const f = first(v);
  if (f === null || typeof f !== 'object') return null;
  const a = (f as Node)[ATTR + name];
  return typeof a === 'string' && a.trim() !== '' ? a.trim() : null;
}

const lower = (s: string | null): string | null => (s === null ? null : s.toLowerCase());

/** giorno dd/mm/yyyy + ora hh:mm:ss (local) + zona ±hhmm → ISO 8601 UTC, or null. */
function toIso(giorno: string | null, ora: string | null, zona: string | null): string | null {
  const d = giorno && /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(giorno);
  const t = ora && /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(ora);
  const z = zona && /^([+-])(\d{2}):?(\d{2})$/.exec(zona);
  if (!d || !t || !z) return null;
  const [day, month, year] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const [h, mi, s] = [Number(t[1]), Number(t[2]), Number(t[3] ?? 0)];
  const local = Date.UTC(year, month - 1, day, h, mi, s);
  const check = new Date(local);
  // Reject values Date.UTC would silently roll over (31/02, 25:00, …).
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1 || check.getUTCHours() !== h || mi > 59 || s > 59) return null;
  const offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  return new Date(local - offsetMin * 60_000).toISOString();
}

export function parseDaticert(xml: string | Buffer): Daticert {
  let source = typeof xml === 'string' ? xml.replace(/^\uFEFF/, '') : decode(xml);
  if (!/^\s*</.test(source)) throw new DaticertError('daticert.xml: not XML');
  // A bare "&" (e.g. "Rossi & figli" in oggetto) is a classic hand-rolled-XML slip: escape it
  // rather than reject an otherwise readable, provider-signed document.
  source = source.replace(/&(?!(?:[A-Za-z][\w.-]*|#\d+|#x[0-9A-Fa-f]+);)/g, '&amp;');

  // Lenient about content, not about well-formedness: the parser alone would silently accept
  // a truncated document and drop fields, which is worse than failing on legal evidence.
  const valid = XMLValidator.validate(source);
  if (valid !== true) throw new DaticertError(`daticert.xml: not XML (${valid.err.msg} at line ${valid.err.line})`);
  let doc: Node;
  try {
    doc = parser.parse(source) as Node;
  } catch (e) {
    throw new DaticertError(`daticert.xml: not XML (${(e as Error).message})`);
  }
  if (doc['postacert'] === undefined) throw new DaticertError('daticert.xml: no postacert root');
  const pc = asNode(doc['postacert']); // an attribute-less <postacert/> parses as ''

  const rawTipo = attr(pc, 'tipo');
  if (rawTipo === null) throw new DaticertError('daticert.xml: missing tipo');
  const tipo = PEC_TYPES.find((t) => t === rawTipo.toLowerCase());
  if (!tipo) throw new DaticertError(`daticert.xml: unknown tipo "${rawTipo}"`);

  const head = asNode(pc['intestazione']);
  const dati = asNode(pc['dati']);
  const data = dati['data'];
  const giorno = text(asNode(data)['giorno']);
  const ora = text(asNode(data)['ora']);
  const zona = attr(data, 'zona');

  const destinatari: Daticert['destinatari'] = [];
  for (const d of all(head['destinatari'])) {
    const address = lower(text(d));
    if (address === null) continue;
    // DTD default is "certificato"; anything unexpected is treated the same way.
    destinatari.push({ address, tipo: lower(attr(d, 'tipo')) === 'esterno' ? 'esterno' : 'certificato' });
  }

  // msgid is the original Message-ID in angle brackets; callers compare bare ids.
  const rawMsgid = text(dati['msgid']);
  const msgid = rawMsgid === null ? null : rawMsgid.replace(/^<\s*/, '').replace(/\s*>$/, '') || null;

  const ricevutaTipo = lower(attr(dati['ricevuta'], 'tipo'));
  const ricevuta =
    ricevutaTipo === 'completa' || ricevutaTipo === 'breve' || ricevutaTipo === 'sintetica' ? ricevutaTipo : null;

  return {
    tipo,
    errore: lower(attr(pc, 'errore')) ?? 'nessuno',
    mittente: lower(text(head['mittente'])),
    destinatari,
    risposte: text(head['risposte']),
    oggetto: text(head['oggetto']),
    gestoreEmittente: text(dati['gestore-emittente']),
    data: { giorno, ora, zona, iso: toIso(giorno, ora, zona) },
    identificativo: text(dati['identificativo']),
    msgid,
    ricevuta,
    consegna: lower(text(dati['consegna'])),
    ricezione: all(dati['ricezione'])
      .map((r) => lower(text(r)))
      .filter((r): r is string => r !== null),
    erroreEsteso: text(dati['errore-esteso']),
  };
}
