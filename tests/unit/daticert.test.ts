// daticert.xml parsing: the real provider samples (read from ../shared when present, never
// copied: some are AGPL) and synthetic cases for what no public sample shows.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DaticertError, PEC_TYPES, parseDaticert } from '../../src/pec/daticert.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedDaticert = path.join(path.resolve(repoRoot, '..', 'shared', 'pec-samples'), 'daticert');
const real = (name: string) => parseDaticert(readFileSync(path.join(sharedDaticert, name)));

describe.skipIf(!existsSync(sharedDaticert))('real daticert.xml samples', () => {
  it('Aruba accettazione', () => {
    const d = real('aruba_accettazione.daticert.xml');
    expect(d.tipo).toBe('accettazione');
    expect(d.errore).toBe('nessuno');
    expect(d.mittente).toBe('l.battistini@pec.it');
    expect(d.destinatari).toEqual([{ address: 'l.battistini@pec.it', tipo: 'certificato' }]);
    expect(d.risposte).toBe('l.battistini@pec.it');
    expect(d.oggetto).toBe('IT03339130126_00009.xml');
    expect(d.gestoreEmittente).toBe('ARUBA PEC S.p.A.');
    expect(d.data).toEqual({ giorno: '13/11/2018', ora: '16:39:26', zona: '+0100', iso: '2018-11-13T15:39:26.000Z' });
    expect(d.identificativo).toBe('opec288.20181113163926.01838.310.1.63@pec.aruba.it');
    expect(d.msgid).toBe('1542123565.921546936035156.464602125997431-openerp-8-fatturapa.attachment.out@elbati-Vostro-3550');
    expect(d.ricevuta).toBeNull();
    expect(d.consegna).toBeNull();
    expect(d.ricezione).toEqual([]);
    expect(d.erroreEsteso).toBeNull();
  });

  it('Aruba avvenuta-consegna (ricevuta completa, consegna)', () => {
    const d = real('aruba_avvenuta-consegna.daticert.xml');
    expect(d.tipo).toBe('avvenuta-consegna');
    expect(d.mittente).toBe('l.battistini@pec.it');
    expect(d.destinatari).toEqual([{ address: 'l.battistini@pec.it', tipo: 'certificato' }]);
    expect(d.identificativo).toBe('opec288.20181113163926.01838.310.1.63@pec.aruba.it');
    expect(d.msgid).toBe('1542123565.921546936035156.464602125997431-openerp-8-fatturapa.attachment.out@elbati-Vostro-3550');
    expect(d.data.iso).toBe('2018-11-13T15:39:27.000Z');
    expect(d.ricevuta).toBe('completa');
    expect(d.consegna).toBe('l.battistini@pec.it');
  });

  it('Aruba posta-certificata envelope, summer time (+0200)', () => {
    const d = real('aruba_posta-certificata.daticert.xml');
    expect(d.tipo).toBe('posta-certificata');
    expect(d.mittente).toBe('sviluppo@pec.datamanagementitalia.it');
    expect(d.destinatari).toEqual([{ address: 'sviluppo@pec.datamanagementitalia.it', tipo: 'certificato' }]);
    expect(d.oggetto).toBe('[XDCR] xdcr_2022_02_00583.txt');
    expect(d.identificativo).toBe('opec21010.20230818173714.75133.134.1.56@pec.aruba.it');
    expect(d.msgid).toBe('RZLFE1$D00882600B2330420CAE7B3643F81CDD@pec.datamanagementitalia.it');
    expect(d.data.iso).toBe('2023-08-18T15:37:14.000Z');
    expect(d.ricevuta).toBe('completa');
    expect(d.consegna).toBeNull();
  });

  it('Sogei posta-certificata envelope with ricevuta breve', () => {
    const d = real('sogei_posta-certificata_ricevuta-breve.daticert.xml');
    expect(d.tipo).toBe('posta-certificata');
    expect(d.mittente).toBe('sdi03@pec.fatturapa.it');
    expect(d.destinatari).toEqual([{ address: 'l.battistini@pec.it', tipo: 'certificato' }]);
    expect(d.gestoreEmittente).toBe('Sogei SpA');
    expect(d.identificativo).toBe('opec288.20181113164732.05177.8374.1.1@pcert.sogei.it');
    expect(d.msgid).toBe('5168561142842364.1542124052746@pec.fatturapa.it');
    expect(d.data.iso).toBe('2018-11-13T15:47:32.000Z');
    expect(d.ricevuta).toBe('breve');
  });

  it('anonymised errore-consegna, tolerating the stray "a" after </risposte>', () => {
    const d = real('anon_errore-consegna.daticert.xml');
    expect(d.tipo).toBe('errore-consegna');
    expect(d.errore).toBe('no-dest');
    expect(d.erroreEsteso).toBe('5.1.1 - FAKE Pec S.p.A. - indirizzo non valido');
    expect(d.mittente).toBe('sender@fakepec.it');
    expect(d.destinatari).toEqual([{ address: 'rec@pec.it', tipo: 'certificato' }]);
    expect(d.risposte).toBe('sender@fakepec.it'); // the stray text does not leak into neighbours
    expect(d.oggetto).toBe('Test PEC');
    expect(d.identificativo).toBe('opec210312.20241115182038.288127.606.1.53@fakepec.it');
    expect(d.msgid).toBe('SN05IE$951DEC16C1CFD3E4FD8FF1B1D24A99AE@fakepec.it');
    expect(d.data.iso).toBe('2024-11-15T17:21:03.000Z');
    expect(d.ricevuta).toBeNull();
    expect(d.consegna).toBe('rec@fakepec.it');
  });

  it('anonymised avvenuta-consegna (placeholder addresses kept verbatim)', () => {
    const d = real('anon_avvenuta-consegna.daticert.xml');
    expect(d.tipo).toBe('avvenuta-consegna');
    // The anonymiser replaced addresses with a bare host name: parsed as-is, not validated here.
    expect(d.mittente).toBe('example.example.com');
    expect(d.destinatari).toEqual([{ address: 'example.example.com', tipo: 'certificato' }]);
    expect(d.identificativo).toBe('CZPXCJRZKQDRVYXFAZYUIAWNACDAAHEVAEXAKN@example.com');
    expect(d.msgid).toBe('CZPXCJRZKQDRVYXFAZYUIAWNACDAAHEVAEXAKN@example.com');
    expect(d.data.iso).toBe('2021-05-13T12:35:30.000Z');
    expect(d.ricevuta).toBe('completa');
    expect(d.consegna).toBe('example.example.com');
  });
});

function daticert(opts: { tipo?: string; errore?: string; intestazione?: string; dati?: string; prolog?: string } = {}): string {
  const errore = opts.errore === undefined ? '' : ` errore="${opts.errore}"`;
  return `${opts.prolog ?? '<?xml version="1.0" encoding="UTF-8"?>'}
<postacert tipo="${opts.tipo ?? 'posta-certificata'}"${errore}>
  <intestazione>${opts.intestazione ?? '<mittente>Mario.Rossi@PEC.Comune.Example.it</mittente><destinatari tipo="certificato">desk@pec.example.it</destinatari><risposte>mario.rossi@pec.comune.example.it</risposte><oggetto>Richiesta</oggetto>'}</intestazione>
  <dati>${opts.dati ?? '<gestore-emittente>Provider</gestore-emittente><data zona="+0100"><giorno>01/02/2025</giorno><ora>09:00:00</ora></data><identificativo>opec1@pec.provider.it</identificativo><msgid>&lt;abc@comune.example.it&gt;</msgid>'}</dati>
</postacert>`;
}

describe('synthetic daticert.xml', () => {
  it('exports the eight DTD types', () => {
    expect(PEC_TYPES).toHaveLength(8);
    for (const t of PEC_TYPES) expect(parseDaticert(daticert({ tipo: t })).tipo).toBe(t);
  });

  it('lower-cases addresses and defaults errore to nessuno', () => {
    const d = parseDaticert(daticert());
    expect(d.mittente).toBe('mario.rossi@pec.comune.example.it');
    expect(d.errore).toBe('nessuno');
    expect(d.msgid).toBe('abc@comune.example.it');
    expect(d.data.iso).toBe('2025-02-01T08:00:00.000Z');
  });

  it('keeps several destinatari in order, with tipo esterno and the certificato default', () => {
    const d = parseDaticert(
      daticert({
        tipo: 'accettazione',
        intestazione: `<mittente>a@pec.example.it</mittente>
          <destinatari tipo="certificato">B@pec.example.it</destinatari>
          <destinatari tipo="esterno">c@gmail.example.com</destinatari>
          <destinatari>d@pec.example.it</destinatari>
          <destinatari tipo="esterno">e@example.org</destinatari>
          <risposte>a@pec.example.it</risposte>`,
      }),
    );
    expect(d.destinatari).toEqual([
      { address: 'b@pec.example.it', tipo: 'certificato' },
      { address: 'c@gmail.example.com', tipo: 'esterno' },
      { address: 'd@pec.example.it', tipo: 'certificato' },
      { address: 'e@example.org', tipo: 'esterno' },
    ]);
    expect(d.oggetto).toBeNull();
  });

  it('tolerates missing optional elements (and missing intestazione/dati content)', () => {
    const d = parseDaticert('<postacert tipo="presa-in-carico"><intestazione/><dati></dati></postacert>');
    expect(d).toEqual({
      tipo: 'presa-in-carico',
      errore: 'nessuno',
      mittente: null,
      destinatari: [],
      risposte: null,
      oggetto: null,
      gestoreEmittente: null,
      data: { giorno: null, ora: null, zona: null, iso: null },
      identificativo: null,
      msgid: null,
      ricevuta: null,
      consegna: null,
      ricezione: [],
      erroreEsteso: null,
    });
    expect(parseDaticert('<postacert tipo="accettazione"/>').tipo).toBe('accettazione');
  });

  it('reads ricezione list, errore and errore-esteso of a preavviso', () => {
    const d = parseDaticert(
      daticert({
        tipo: 'preavviso-errore-consegna',
        errore: 'altro',
        dati: `<gestore-emittente>ARUBA PEC S.p.A.</gestore-emittente>
          <data zona="+0100"><giorno>01/02/2025</giorno><ora>09:00:00</ora></data>
          <identificativo>id@x</identificativo>
          <ricevuta tipo="sintetica"/>
          <ricezione>X@pec.example.it</ricezione><ricezione>y@pec.example.it</ricezione>
          <errore-esteso>5.4.1 - timeout</errore-esteso>`,
      }),
    );
    expect(d.errore).toBe('altro');
    expect(d.ricevuta).toBe('sintetica');
    expect(d.ricezione).toEqual(['x@pec.example.it', 'y@pec.example.it']);
    expect(d.erroreEsteso).toBe('5.4.1 - timeout');
    expect(d.msgid).toBeNull();
  });

  it('decodes an ISO-8859-1 Buffer per the prolog', () => {
    const xml = daticert({
      prolog: '<?xml version="1.0" encoding="ISO-8859-1"?>',
      intestazione: '<mittente>a@pec.example.it</mittente><destinatari>b@pec.example.it</destinatari><oggetto>Perché è urgente</oggetto>',
    });
    const buf = Buffer.from(xml, 'latin1');
    expect(buf.includes(Buffer.from([0xe8]))).toBe(true); // really single-byte è
    expect(parseDaticert(buf).oggetto).toBe('Perché è urgente');
  });

  it('decodes a UTF-8 Buffer (declared, undeclared, with BOM) and character references', () => {
    const xml = daticert({ intestazione: '<oggetto>Città &amp; &#232;</oggetto>' });
    expect(parseDaticert(Buffer.from(xml, 'utf8')).oggetto).toBe('Città & è');
    const noProlog = xml.replace(/^<\?xml[^>]*>/, '');
    expect(parseDaticert(Buffer.from(noProlog, 'utf8')).oggetto).toBe('Città & è');
    expect(parseDaticert(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml)])).oggetto).toBe('Città & è');
  });

  it('accepts a DOCTYPE line as providers may emit', () => {
    const xml = daticert().replace('<postacert', '<!DOCTYPE postacert SYSTEM "Docs_daticert.dtd">\n<postacert');
    expect(parseDaticert(xml).tipo).toBe('posta-certificata');
  });

  it('converts zona +0200 (summer time) and rejects impossible dates', () => {
    const at = (giorno: string, ora: string, zona: string) =>
      parseDaticert(daticert({ dati: `<data zona="${zona}"><giorno>${giorno}</giorno><ora>${ora}</ora></data>` })).data;
    expect(at('13/05/2021', '14:35:30', '+0200')).toEqual({ giorno: '13/05/2021', ora: '14:35:30', zona: '+0200', iso: '2021-05-13T12:35:30.000Z' });
    expect(at('01/01/2025', '00:30:00', '+0100').iso).toBe('2024-12-31T23:30:00.000Z');
    expect(at('31/02/2025', '10:00:00', '+0100').iso).toBeNull();
    expect(at('01/02/2025', '10:00:00', 'CET').iso).toBeNull();
  });

  it('rejects garbage with DaticertError', () => {
    expect(() => parseDaticert('garbage')).toThrow(DaticertError);
    expect(() => parseDaticert('garbage')).toThrow(/daticert\.xml: not XML/);
    expect(() => parseDaticert(Buffer.from([0x00, 0x01, 0xff]))).toThrow(DaticertError);
    expect(() => parseDaticert('')).toThrow(DaticertError);
    // Truncated or mis-nested: the parser alone would accept these and silently lose fields.
    expect(() => parseDaticert('<postacert tipo="accettazione"><dati></postacert>')).toThrow(/not XML/);
    expect(() => parseDaticert('<postacert tipo="accettazione"><intestazione><mittente>a@b')).toThrow(/not XML/);
  });

  it('escapes a bare ampersand instead of rejecting the document', () => {
    const d = parseDaticert(daticert({ intestazione: '<oggetto>Rossi & figli &amp; soci &lt;1&gt;</oggetto>' }));
    expect(d.oggetto).toBe('Rossi & figli & soci <1>');
  });

  it('rejects XML that is not a daticert', () => {
    expect(() => parseDaticert('<?xml version="1.0"?><html><body/></html>')).toThrow('daticert.xml: no postacert root');
  });

  it('rejects an unknown or missing tipo', () => {
    expect(() => parseDaticert(daticert({ tipo: 'x' }))).toThrow('daticert.xml: unknown tipo "x"');
    expect(() => parseDaticert('<postacert><dati/></postacert>')).toThrow('daticert.xml: missing tipo');
    expect(() => parseDaticert('<postacert/>')).toThrow('daticert.xml: missing tipo');
  });
});
