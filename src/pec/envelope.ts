// PEC transport envelopes, receipts and anomalies (PEC.md): recognise, unwrap, verify.
// Everything that decides is read from inside the provider-signed part; the outer headers
// (X-Trasporto, X-Ricevuta, Subject, From) are unsigned and only hints.
import { canonicalCrlf, decodeBody, partHeader, readMimeTree, walk, type MimePart } from '../mail/mime-tree.js';
import type { HeaderLine } from '../mail/parse.js';
import { CmsError, parseSignedData, verifySignedData, type SignerVerification } from '../signature/cms.js';
import type { TrustStore } from '../signature/trust.js';
import { DaticertError, parseDaticert, type Daticert, type PecType } from './daticert.js';

export type PecKind = 'posta-certificata' | 'receipt' | 'anomaly';

export interface PecHints {
  trasporto: string | null;
  ricevuta: string | null;
  riferimentoMessageId: string | null;
  tipoRicevuta: string | null;
}

export interface PecEnvelope {
  kind: PecKind;
  /** Receipt type (from daticert when it can be read, else the X-Ricevuta hint). */
  tipo: PecType | null;
  hints: PecHints;
  daticert: Daticert | null;
  daticertError: string | null;
  /** The inner message (postacert.eml), exact bytes. */
  postacert: Buffer | null;
  signature: {
    present: boolean;
    signer: SignerVerification | null;
    /** Why the envelope is not certified; empty when it is. */
    problems: string[];
  };
  certified: boolean;
  /** The certified time (daticert) when certified, else null. */
  certifiedAt: Date | null;
}

function hints(headers: HeaderLine[]): PecHints {
  const h = (n: string) => headers.find((x) => x.key === n)?.value.trim() ?? null;
  return {
    trasporto: h('x-trasporto')?.toLowerCase() ?? null,
    ricevuta: h('x-ricevuta')?.toLowerCase() ?? null,
    riferimentoMessageId: h('x-riferimento-message-id'),
    tipoRicevuta: (h('x-tiporicevuta') ?? null)?.toLowerCase() ?? null,
  };
}

const isDaticert = (p: MimePart) =>
  /^(application|text)\/xml$/.test(p.contentType) && /daticert\.xml/i.test(`${p.params.name ?? ''} ${partHeader(p, 'content-disposition') ?? ''}`);
const isPostacert = (p: MimePart) => p.contentType === 'message/rfc822';
const isSignature = (p: MimePart) => /^application\/(x-)?pkcs7-signature$/.test(p.contentType);

/** Does this look like a PEC message at all (signed envelope structure or PEC headers)? */
export function looksLikePec(raw: Buffer, headers: HeaderLine[]): boolean {
  const hs = hints(headers);
  if (hs.trasporto || hs.ricevuta) return true;
  try {
    const root = readMimeTree(raw);
    return root.contentType === 'multipart/signed' && [...walk(root)].some(isDaticert);
  } catch {
    return false;
  }
}

/**
 * Read and verify a PEC message. `validationTime` is applied to the provider signature's own
 * signing time (provider certificates expire; archived PEC must still verify).
 */
export function readPecEnvelope(raw: Buffer, headers: HeaderLine[], trust: TrustStore | null): PecEnvelope {
  const hs = hints(headers);
  const root = readMimeTree(raw);
  const problems: string[] = [];
  let signedPart: MimePart | null = null;
  let signer: SignerVerification | null = null;
  let present = false;

  if (root.contentType === 'multipart/signed' && root.children.length >= 1) signedPart = root.children[0]!;
  // daticert.xml and postacert.eml are taken only from inside the signed part, when there is
  // one: anything outside it is not covered by the provider's signature.
  const scope = signedPart ?? root;
  const parts = [...walk(scope)];
  const daticertPart = parts.find(isDaticert);
  let daticert: Daticert | null = null;
  let daticertError: string | null = null;
  if (daticertPart) {
    try {
      daticert = parseDaticert(decodeBody(raw, daticertPart));
    } catch (e) {
      daticertError = e instanceof DaticertError ? e.message : `daticert.xml: ${(e as Error).message}`;
    }
  } else daticertError = 'no daticert.xml';
  if (daticertError) problems.push(daticertError);
  const postacertPart = parts.find(isPostacert);
  const postacert = postacertPart ? Buffer.from(raw.subarray(postacertPart.bodyStart, postacertPart.end)) : null;

  if (signedPart) {
    const sigPart = root.children.find(isSignature);
    if (!sigPart) problems.push('the signed envelope has no smime.p7s signature part');
    else {
      present = true;
      if (!trust) problems.push('no PEC provider trust store configured (trust.pecProviders)');
      else {
        try {
          const sd = parseSignedData(decodeBody(raw, sigPart));
          const content = canonicalCrlf(raw.subarray(signedPart.start, signedPart.end));
          signer = verifySignedData(sd, { detachedContent: content, trust, validationTime: (t) => t ?? (daticert?.data.iso ? new Date(daticert.data.iso) : new Date()) })[0] ?? null;
          if (!signer) problems.push('the signature has no signer');
          else if (!signer.valid) problems.push(...signer.details);
          if (sd.signers.length > 1) problems.push('more than one signer on a PEC envelope');
        } catch (e) {
          problems.push(e instanceof CmsError ? e.message : `unreadable signature: ${(e as Error).message}`);
        }
      }
    }
  } else {
    problems.push('not an S/MIME signed envelope');
  }

  let kind: PecKind;
  let tipo: PecType | null = daticert?.tipo ?? null;
  if (hs.trasporto === 'errore') kind = 'anomaly';
  else if (daticert) kind = daticert.tipo === 'posta-certificata' ? 'posta-certificata' : 'receipt';
  else if (hs.ricevuta) {
    kind = 'receipt';
    tipo = (hs.ricevuta as PecType) ?? null;
  } else kind = 'posta-certificata';
  // An anomaly is ordinary mail wrapped by the recipient's provider: never certified content.
  if (kind === 'anomaly') problems.push('anomaly envelope: the content is not certified');
  if (kind === 'posta-certificata' && !postacert) problems.push('no postacert.eml in the envelope');

  const certified = problems.length === 0 && Boolean(signer?.valid) && Boolean(daticert);
  const certifiedAt = certified && daticert?.data.iso ? new Date(daticert.data.iso) : null;
  return { kind, tipo, hints: hs, daticert, daticertError, postacert, signature: { present, signer, problems }, certified, certifiedAt };
}
