// Reading the public IndicePA administrations dump (open data "enti"): bytes → text (UTF-8 with
// or without BOM, UTF-16 with BOM, else Windows-1252/Latin-1) → CSV (delimiter `,`, `;`, tab
// or `|`, found from the header) → one row per Administration with its PEC addresses, and the
// problems of the rows that cannot be imported, each with its line. Pure: no database, no clock.
import { parse, type CsvError } from 'csv-parse/sync';
import { isValidNumericFiscalCode, isValidPersonalFiscalCode } from '../desk/fiscal-code.js';

/** A row that is not imported: why. */
export type IpaSkipCode =
  | 'missing-ipa-code'
  | 'invalid-ipa-code'
  | 'missing-name'
  | 'invalid-fiscal-code'
  | 'duplicate-ipa-code'
  | 'wrong-column-count';

/** A row that is imported with something left out or worth a look. */
export type IpaWarningCode = 'invalid-pec-address' | 'pec-address-shared' | 'pec-address-moved' | 'fiscal-code-elsewhere';

export type IpaCode = IpaSkipCode | IpaWarningCode;

/**
 * The Italian sentence of every code. `{value}` is the value read from the file, `{other}` the
 * id of the other Administration involved.
 */
export const IPA_TEXTS: Readonly<Record<IpaCode, string>> = {
  'missing-ipa-code': 'Codice IPA mancante: la riga non è stata importata.',
  'invalid-ipa-code': 'Codice IPA non valido («{value}»): la riga non è stata importata.',
  'missing-name': 'Denominazione dell\'ente mancante: la riga non è stata importata.',
  'invalid-fiscal-code': 'Codice fiscale non valido («{value}»): la riga non è stata importata.',
  'duplicate-ipa-code': 'Il codice IPA «{value}» compare già in una riga precedente: la riga non è stata importata.',
  'wrong-column-count': 'La riga ha un numero di campi diverso dall\'intestazione ({value}): non è stata importata.',
  'invalid-pec-address': 'L\'indirizzo PEC «{value}» non è un indirizzo valido: è stato ignorato.',
  'pec-address-shared': 'L\'indirizzo PEC «{value}» è indicato anche da una riga precedente: resta associato a quell\'ente.',
  'pec-address-moved': 'L\'indirizzo PEC «{value}» era associato in rubrica a un\'altra Amministrazione ({other}): ora è associato a questa.',
  'fiscal-code-elsewhere': 'Il codice fiscale «{value}» è registrato in rubrica anche per un\'altra Amministrazione ({other}).',
};

export interface IpaFinding {
  /** Line of the file where the record starts (1 = the header). */
  line: number;
  code: IpaCode;
  /** The column, as written in the header. */
  column?: string;
  value?: string;
  /** Id of the other Administration involved (pec-address-moved, fiscal-code-elsewhere). */
  other?: string;
}

export function describeIpaFinding(f: IpaFinding): string {
  return IPA_TEXTS[f.code].replace('{value}', f.value ?? '').replace('{other}', f.other ?? '');
}

export interface IpaRow {
  line: number;
  /** Lower-case, as ids and the Piano intake keep it. */
  ipaCode: string;
  name: string;
  /** 11 digits, or a valid 16-character personal code (upper-case); null when the dump has none. */
  fiscalCode: string | null;
  /** Lower-case PEC addresses (the `Mail<n>` whose `Tipo_Mail<n>` is PEC), in column order. */
  pec: string[];
}

export type IpaEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface IpaDump {
  encoding: IpaEncoding;
  bom: boolean;
  delimiter: ',' | ';' | '\t' | '|';
  /** Data records read (imported or not). */
  records: number;
  rows: IpaRow[];
  skipped: IpaFinding[];
  warnings: IpaFinding[];
}

/** The file cannot be read as an IndicePA dump at all (not a row problem). */
export class IpaDumpError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'IpaDumpError';
  }
}

// Windows-1252 bytes 0x80–0x9F (the rest of the range is ISO-8859-1). Unassigned bytes keep
// their code point, as the WHATWG decoder does.
const CP1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  let out = '';
  const CHUNK = 8192;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    const codes = Array.from(bytes.subarray(i, i + CHUNK), (b) => (b >= 0x80 && b <= 0x9f ? CP1252_C1[b - 0x80]! : b));
    out += String.fromCharCode(...codes);
  }
  return out;
}

/** Bytes → text: a BOM decides; else UTF-8 when the bytes are valid UTF-8; else Windows-1252. */
export function decodeIpaBytes(bytes: Uint8Array): { text: string; encoding: IpaEncoding; bom: boolean } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8', bom: true };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le', bom: true };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be', bom: true };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8', bom: false };
  } catch {
    return { text: decodeWindows1252(bytes), encoding: 'windows-1252', bom: false };
  }
}

// Header names (compared lower-case), with the names of the older "amministrazioni" dumps.
const COLUMN_NAMES: Record<'ipaCode' | 'name' | 'fiscalCode', readonly string[]> = {
  ipaCode: ['Codice_IPA', 'cod_amm'],
  name: ['Denominazione_ente', 'des_amm'],
  fiscalCode: ['Codice_fiscale_ente', 'Cf'],
};
type KeyColumn = keyof typeof COLUMN_NAMES;
const DELIMITERS = [',', ';', '\t', '|'] as const;

const EMAIL = /^[^@\s<>,;"]+@[^@\s<>,;"]+\.[^@\s<>,;"]+$/;
const IPA_CODE = /^[a-z0-9][a-z0-9_.-]*$/;

interface Columns {
  key: Record<KeyColumn, number>;
  /** Mail<n> with its Tipo_Mail<n>, in n order. */
  mails: Array<{ mail: number; type: number; name: string }>;
  header: string[];
}

function readHeader(header: string[]): Columns | string {
  const lower = header.map((h) => h.trim().toLowerCase());
  const key = {} as Record<KeyColumn, number>;
  for (const k of Object.keys(COLUMN_NAMES) as KeyColumn[]) {
    const names = COLUMN_NAMES[k].map((n) => n.toLowerCase());
    const found = lower.flatMap((h, i) => (names.includes(h) ? [i] : []));
    if (found.length === 0) return `no ${COLUMN_NAMES[k][0]} column in the header`;
    if (found.length > 1) return `column ${header[found[1]!]!.trim()} appears more than once in the header`;
    key[k] = found[0]!;
  }
  const mails: Columns['mails'] = [];
  lower.forEach((h, i) => {
    const m = /^mail(\d+)$/.exec(h);
    if (!m) return;
    const type = lower.indexOf(`tipo_mail${m[1]}`);
    if (type >= 0) mails.push({ mail: i, type, name: header[i]!.trim() });
  });
  mails.sort((a, b) => Number(/\d+$/.exec(a.name)![0]) - Number(/\d+$/.exec(b.name)![0]));
  return { key, mails, header: header.map((h) => h.trim()) };
}

/** The delimiter is the one that splits the header line into the IndicePA columns. */
function detectDelimiter(text: string): { delimiter: IpaDump['delimiter']; columns: Columns } {
  const end = text.indexOf('\n');
  const first = end < 0 ? text : text.slice(0, end);
  if (!first.trim()) throw new IpaDumpError(1, 'empty header line: not an IndicePA dump');
  let best: { delimiter: IpaDump['delimiter']; columns: Columns } | null = null;
  let complaint = '';
  for (const delimiter of DELIMITERS) {
    let header: string[];
    try {
      header = (parse(first, { delimiter, relax_quotes: true }) as string[][])[0] ?? [];
    } catch {
      continue;
    }
    const columns = readHeader(header);
    if (typeof columns === 'string') {
      if (header.length > 1 && !complaint) complaint = columns;
      continue;
    }
    if (!best || columns.header.length > best.columns.header.length) best = { delimiter, columns };
  }
  if (!best) {
    throw new IpaDumpError(1, `${complaint || 'no Codice_IPA column in the header'} (expected the IndicePA "enti" columns Codice_IPA, Denominazione_ente, Codice_fiscale_ente, Mail1, Tipo_Mail1, …)`);
  }
  return best;
}

const clean = (v: string | undefined) => (v ?? '').replace(/\s+/g, ' ').trim();
const isPecType = (v: string) => /^(pec|posta elettronica certificata)$/i.test(clean(v));

/** Text of a dump → rows to import, rows skipped (with line and column), warnings. */
export function parseIpaText(text: string): Omit<IpaDump, 'encoding' | 'bom'> {
  // One line ending everywhere, so that line numbers are the ones an editor shows.
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const { delimiter, columns } = detectDelimiter(src);
  const skipped: IpaFinding[] = [];
  const warnings: IpaFinding[] = [];
  const rows: IpaRow[] = [];
  let lastLine = 0;
  let records: string[][];
  const lines: number[] = [];
  try {
    records = parse(src, {
      delimiter,
      // Quotes inside unquoted fields (Comune di "Esempio") are text, as spreadsheets write them.
      relax_quotes: true,
      // A row with more or fewer fields than the header is reported below, not fatal.
      relax_column_count: true,
      skip_empty_lines: true,
      // A line of empty fields only (",,,,") is no record either.
      skip_records_with_empty_values: true,
      // context.lines is where the record ends; a quoted field may span lines.
      on_record: (record, context) => {
        lastLine = context.lines;
        let breaks = 0;
        for (const v of record) if (v.includes('\n')) breaks += v.split('\n').length - 1;
        lines.push(context.lines - breaks);
        return record;
      },
    });
  } catch (e) {
    const err = e as CsvError;
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') throw new IpaDumpError(lastLine + 1, 'a quoted field opened on this line is never closed');
    throw new IpaDumpError(lastLine + 1, err.message);
  }

  const col = (k: KeyColumn) => columns.header[columns.key[k]]!;
  const seenIpa = new Set<string>();
  const pecOwner = new Map<string, number>();
  const width = columns.header.length;
  for (let r = 1; r < records.length; r++) {
    const record = records[r]!;
    const line = lines[r]!;
    const skip = (code: IpaSkipCode, k?: KeyColumn, value?: string) =>
      skipped.push({ line, code, ...(k ? { column: col(k) } : {}), ...(value !== undefined ? { value } : {}) });
    if (record.length !== width) {
      skip('wrong-column-count', undefined, `${record.length} invece di ${width}`);
      continue;
    }
    const rawIpa = clean(record[columns.key.ipaCode]);
    const name = clean(record[columns.key.name]);
    const rawCf = clean(record[columns.key.fiscalCode]).replace(/\s/g, '');
    if (!rawIpa) {
      skip('missing-ipa-code', 'ipaCode');
      continue;
    }
    const ipaCode = rawIpa.toLowerCase();
    if (!IPA_CODE.test(ipaCode)) {
      skip('invalid-ipa-code', 'ipaCode', rawIpa);
      continue;
    }
    if (!name) {
      skip('missing-name', 'name');
      continue;
    }
    let fiscalCode: string | null = null;
    if (rawCf) {
      const cf = rawCf.toUpperCase();
      if (/^\d{11}$/.test(cf) ? !isValidNumericFiscalCode(cf) : !(cf.length === 16 && isValidPersonalFiscalCode(cf))) {
        skip('invalid-fiscal-code', 'fiscalCode', rawCf);
        continue;
      }
      fiscalCode = cf;
    }
    if (seenIpa.has(ipaCode)) {
      skip('duplicate-ipa-code', 'ipaCode', rawIpa);
      continue;
    }
    seenIpa.add(ipaCode);
    const pec: string[] = [];
    for (const m of columns.mails) {
      if (!isPecType(record[m.type] ?? '')) continue;
      const address = clean(record[m.mail]).toLowerCase();
      if (!address) continue;
      if (!EMAIL.test(address)) {
        warnings.push({ line, code: 'invalid-pec-address', column: m.name, value: clean(record[m.mail]) });
        continue;
      }
      if (pec.includes(address)) continue;
      if (pecOwner.has(address)) {
        warnings.push({ line, code: 'pec-address-shared', column: m.name, value: address });
        continue;
      }
      pecOwner.set(address, line);
      pec.push(address);
    }
    rows.push({ line, ipaCode, name, fiscalCode, pec });
  }
  return { delimiter, records: Math.max(0, records.length - 1), rows, skipped, warnings };
}

/** A whole dump file's bytes → rows and findings. Throws IpaDumpError when it is no dump at all. */
export function parseIpaDump(bytes: Uint8Array): IpaDump {
  const { text, encoding, bom } = decodeIpaBytes(bytes);
  return { encoding, bom, ...parseIpaText(text) };
}

/** The id of a new Administration: its IPA code, lower-case (as the Piano intake makes it). */
export function administrationIdFromIpaCode(ipaCode: string): string {
  return (
    ipaCode
      .toLowerCase()
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '') || 'amministrazione'
  );
}
