// Who may sign a PEC envelope (PEC.md "The envelope", RFC 6109 §5): not any certificate that
// chains to the anchor — the anchor's CA also issues ordinary S/MIME and TLS certificates —
// but a PEC provider's: the PEC policy, e-mail protection, its own address as the envelope's
// From, and, when the operator loads the AgID provider index, a listed certificate whose
// provider manages the sender's domain. Pure: certificate facts and envelope facts in, codes out.
import type { ProblemCode } from '../signature/cms.js';
import type { CertInfo } from '../signature/x509.js';
import type { PecVerificationProblem } from '../desk/verification.js';
import { managesDomain, providerOf, type ProviderIndex } from './provider-index.js';
import type { Daticert } from './daticert.js';
import { problemLog } from '../signature/problem-log.js';

export const PEC_PROVIDER_POLICY = '1.3.76.16.3.1.1';
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';

/** The signature's own problems (cms.ts codes) as PEC codes. */
export function pecCodeOf(p: ProblemCode): PecVerificationProblem {
  switch (p) {
    case 'untrusted-chain':
      return 'pec-untrusted-chain';
    case 'cert-expired':
    case 'cert-not-yet-valid':
      return 'pec-cert-expired';
    case 'cert-revoked':
      return 'pec-cert-revoked';
    default:
      return 'pec-signature-invalid';
  }
}

export interface ProviderFacts {
  /** The signer certificate's organisation and e-mail addresses. */
  certificateOrganization: string | null;
  certificateEmails: string[];
  /** What the signed daticert names as the issuing provider. */
  gestoreEmittente: string | null;
  /** The provider the index lists this certificate under (null: not listed, or no index). */
  indexProvider: string | null;
}

export interface ProviderVerdict {
  problems: PecVerificationProblem[];
  details: string[];
  facts: ProviderFacts;
}

const domainOf = (address: string | null | undefined) => (address && address.includes('@') ? address.slice(address.lastIndexOf('@') + 1).toLowerCase() : null);

/**
 * The addresses whose domain the signing provider must manage: the sender of a transport
 * envelope; for a receipt, the sender or the recipient it is about (the sender's provider
 * issues acceptance and timeout notices, the recipient's provider delivery notices).
 */
function addressesToManage(daticert: Daticert): string[] {
  if (daticert.tipo === 'posta-certificata') return [daticert.mittente].filter(Boolean) as string[];
  return [daticert.mittente, daticert.consegna].filter(Boolean) as string[];
}

export function checkProvider(signer: CertInfo, envelopeFrom: string | null, daticert: Daticert | null, index: ProviderIndex | null): ProviderVerdict {
  const { problems, details, add } = problemLog<PecVerificationProblem>();
  const emails = [...new Set([...signer.altNames.flatMap((n) => (n.kind === 'email' ? [n.value] : [])), ...signer.subjectEmails])];
  if (!signer.policies.includes(PEC_PROVIDER_POLICY)) {
    add('pec-signer-not-provider', `the signer certificate lacks the PEC provider policy ${PEC_PROVIDER_POLICY} (policies: ${signer.policies.join(', ') || 'none'}): it is not a PEC provider certificate`);
  }
  if (!signer.extKeyUsage?.includes(EMAIL_PROTECTION)) {
    add('pec-signer-not-provider', `the signer certificate is not for e-mail protection (extended key usage: ${signer.extKeyUsage?.join(', ') ?? 'absent'})`);
  }
  if (signer.keyUsage && !signer.keyUsage.has('digitalSignature') && !signer.keyUsage.has('nonRepudiation')) {
    add('pec-signer-not-provider', 'the signer certificate may not sign (keyUsage)');
  }
  const from = envelopeFrom?.toLowerCase() ?? null;
  if (!from || !emails.includes(from)) {
    add('pec-signer-not-provider', `the envelope's From ${from ?? '(none)'} is not the signer certificate's address (${emails.join(', ') || 'none'})`);
  }
  let indexProvider: string | null = null;
  if (index) {
    const provider = providerOf(index, signer);
    if (!provider) {
      add('pec-signer-not-provider', `the signer certificate (SHA-256 ${signer.sha256}) is not listed in the PEC provider index ${index.source}`);
    } else {
      indexProvider = provider.name;
      const wanted = daticert ? addressesToManage(daticert) : [];
      if (wanted.length && !wanted.some((a) => managesDomain(provider, domainOf(a) ?? ''))) {
        add('pec-domain-not-managed', `${wanted.join(' / ')}: domain not managed by ${provider.name} according to the PEC provider index`);
      }
    }
  }
  return {
    problems,
    details,
    facts: { certificateOrganization: signer.subject.organization, certificateEmails: emails, gestoreEmittente: daticert?.gestoreEmittente ?? null, indexProvider },
  };
}
