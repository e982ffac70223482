// Why a sender is not verified (SPEC §3): stable codes, each with its Italian text for replies.
// The codes reach the ingest JSON (`sender.verificationProblems`), tickets and `pec list`.

export const VERIFICATION_PROBLEM_TEXT = {
  'pec-trust-unavailable': "non è stato possibile verificare la certificazione PEC (l'elenco dei gestori fidati non è disponibile al servizio)",
  'pec-not-signed': 'la busta di trasporto non reca la firma del gestore PEC',
  'pec-signature-invalid': "la firma del gestore PEC non è valida: il messaggio risulta alterato dopo l'invio",
  'pec-untrusted-chain': "il certificato che firma la busta non è emesso da un'autorità riconosciuta per i gestori PEC",
  'pec-cert-expired': "il certificato del gestore PEC non era valido alla data di invio",
  'pec-cert-revoked': "il certificato del gestore PEC risultava revocato alla data di invio",
  'pec-signer-not-provider': "la busta non è firmata da un gestore PEC accreditato (certificato di altro tipo, o non iscritto nell'Indice dei gestori PEC)",
  'pec-domain-not-managed': "il dominio del mittente non risulta gestito dal gestore PEC che ha firmato la busta",
  'pec-no-daticert': 'mancano i dati di certificazione della busta (daticert.xml) o non sono leggibili',
  'pec-no-postacert': 'la busta non contiene il messaggio originale (postacert.eml)',
  'pec-anomaly': 'il messaggio è giunto come busta di anomalia: il suo contenuto non è certificato',
  'pec-multiple-signers': 'la busta reca più di una firma',
  'email-not-authenticated': 'il messaggio di posta ordinaria non ha superato la verifica del dominio del mittente (DMARC)',
} as const;

export type VerificationProblem = keyof typeof VERIFICATION_PROBLEM_TEXT;
export type PecVerificationProblem = Extract<VerificationProblem, `pec-${string}`>;

export const isVerificationProblem = (code: string): code is VerificationProblem => Object.hasOwn(VERIFICATION_PROBLEM_TEXT, code);

/** The Italian sentences for a list of codes, as a bulleted list for replies. */
export function verificationProblemsItalian(codes: readonly VerificationProblem[]): string {
  return codes.map((c) => `- ${VERIFICATION_PROBLEM_TEXT[c]}`).join('\n');
}
