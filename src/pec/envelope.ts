// PEC transport envelopes, receipts and anomalies (PEC.md): recognise, unwrap, verify.
// Everything that decides is read from inside the provider-signed part; the outer headers
// (X-Trasporto, X-Ricevuta, Subject, From) are unsigned and only hints.
import { canonicalCrlf, decodeBody, partHeader, readMimeTree, walk, type MimePart } from '../mail/mime-tree.js';
import type { HeaderLine } from '../mail/parse.js';
import type { PecVerificationProblem } from '../desk/verification.js';
import { CmsError, parseSignedData, verifySignedData, type SignerVerification } from '../signature/cms.js';
import type { TrustStore } from '../signature/trust.js';
import { DaticertError, parseDaticert, type Daticert, type PecType } from './daticert.js';
import type { ProviderIndex } from './provider-index.js';
import { checkProvider, pecCodeOf, type ProviderFacts } from './provider-trust.js';
import { problemLog } from '../signature/problem-log.js';

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
    /** Why the envelope is not certified (stable codes); empty when it is. */
    problems: PecVerificationProblem[];
    /** The reasons behind the codes, for operators. */
    details: string[];
    /** Who signed: the certificate's organisation beside the daticert's gestore-emittente. */
    provider: ProviderFacts | null;
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

/** What an envelope is judged against: the providers' anchors and CRLs, and the optional index. */
export interface PecTrust {
  store: TrustStore | null;
  index: ProviderIndex | null;
  /** Why the trust material could not be read (configuration or file), when it could not. */
  unavailable: string | null;
}

/**
 * Read and verify a PEC message. The provider's certificate is judged at the certified time
 * (provider certificates expire; archived PEC must still verify). `envelopeFrom` is the
 * outer From address, which must be the signer certificate's own.
 */
export function readPecEnvelope(raw: Buffer, headers: HeaderLine[], trust: PecTrust, envelopeFrom: string | null): PecEnvelope {
  const hs = hints(headers);
  const root = readMimeTree(raw);
  const { problems, details, add, merge } = problemLog<PecVerificationProblem>();
  let provider: ProviderFacts | null = null;
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
  if (daticertError) add('pec-no-daticert', daticertError);
  const postacertPart = parts.find(isPostacert);
  const postacert = postacertPart ? Buffer.from(raw.subarray(postacertPart.bodyStart, postacertPart.end)) : null;

  if (signedPart) {
    const sigPart = root.children.find(isSignature);
    if (!sigPart) add('pec-not-signed', 'the signed envelope has no smime.p7s signature part');
    else {
      present = true;
      if (!trust.store || trust.unavailable) add('pec-trust-unavailable', trust.unavailable ?? 'no PEC provider trust store configured (trust.pecProviders)');
      if (trust.store) {
        try {
          const sd = parseSignedData(decodeBody(raw, sigPart));
          const content = canonicalCrlf(raw.subarray(signedPart.start, signedPart.end));
          // The certified time: the signed signingTime, else the signed daticert's date.
          const certifiedTime = (t: Date | null) => t ?? (daticert?.data.iso ? new Date(daticert.data.iso) : new Date());
          signer = verifySignedData(sd, { detachedContent: content, trust: trust.store, validationTime: certifiedTime })[0] ?? null;
          if (!signer) add('pec-signature-invalid', 'the signature has no signer');
          else {
            merge(signer.problems.map(pecCodeOf), signer.details);
            if (signer.certificate) {
              const verdict = checkProvider(signer.certificate, envelopeFrom, daticert, trust.index);
              merge(verdict.problems, verdict.details);
              provider = verdict.facts;
            }
          }
          if (sd.signers.length > 1) add('pec-multiple-signers', 'more than one signer on a PEC envelope');
        } catch (e) {
          add('pec-signature-invalid', e instanceof CmsError ? e.message : `unreadable signature: ${(e as Error).message}`);
        }
      }
    }
  } else {
    add('pec-not-signed', 'not an S/MIME signed envelope');
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
  if (kind === 'anomaly') add('pec-anomaly', 'anomaly envelope: the content is not certified');
  if (kind === 'posta-certificata' && !postacert) add('pec-no-postacert', 'no postacert.eml in the envelope');

  const certified = problems.length === 0 && Boolean(signer?.valid) && Boolean(daticert);
  const certifiedAt = certified && daticert?.data.iso ? new Date(daticert.data.iso) : null;
  return { kind, tipo, hints: hs, daticert, daticertError, postacert, signature: { present, signer, problems, details, provider }, certified, certifiedAt };
}
