import { generateNoteSigner } from './note';
import { formatCheckpoint, parseCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint';

describe('C2SP tlog-checkpoint', () => {
  const rootHash = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');
  const specBody =
    'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

  it('formats and parses the spec example', () => {
    expect(
      formatCheckpoint({ origin: 'example.com/behind-the-sofa', size: 20852163, rootHash }),
    ).toBe(specBody);
    expect(parseCheckpoint(specBody)).toEqual({
      origin: 'example.com/behind-the-sofa',
      size: 20852163,
      rootHash,
    });
  });

  it('keeps extension lines', () => {
    const text = formatCheckpoint({ origin: 'o', size: 0, rootHash, extensions: ['ext 1'] });
    expect(text.endsWith('\next 1\n')).toBe(true);
    expect(parseCheckpoint(text).extensions).toEqual(['ext 1']);
  });

  it.each([
    ['no final newline', specBody.slice(0, -1)],
    ['two lines', 'o\n1\n'],
    ['leading zero', specBody.replace('20852163', '020852163')],
    ['signed size', specBody.replace('20852163', '+20852163')],
    ['short root', specBody.replace('CsUY', 'CsU')],
    ['root not base64', specBody.replace('CsUY', 'Cs?Y')],
    ['empty extension', `${specBody}\n`],
    ['empty origin', `\n${specBody.slice(specBody.indexOf('\n') + 1)}`],
  ])('rejects a malformed body: %s', (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow(/malformed checkpoint/);
  });

  it('refuses to format bodies that would not round-trip', () => {
    expect(() => formatCheckpoint({ origin: 'a\n2', size: 1, rootHash })).toThrow();
    expect(() => formatCheckpoint({ origin: 'o', size: -1, rootHash })).toThrow();
    expect(() =>
      formatCheckpoint({ origin: 'o', size: 1, rootHash: rootHash.subarray(1) }),
    ).toThrow();
    expect(() => formatCheckpoint({ origin: 'o', size: 1, rootHash, extensions: [''] })).toThrow();
  });

  it('signs and verifies checkpoints, checking the origin', () => {
    const { signer } = generateNoteSigner('mandate.example/acme');
    const cp = { origin: 'mandate.example/acme', size: 7, rootHash };
    const note = signCheckpoint(cp, [signer]);
    expect(verifyCheckpoint(note, [signer.verifierKey], { origin: cp.origin })).toMatchObject({
      ok: true,
      checkpoint: cp,
    });
    expect(verifyCheckpoint(note, [signer.verifierKey], { origin: 'other' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/origin/),
    });
    const other = generateNoteSigner('mandate.example/acme').signer;
    expect(verifyCheckpoint(note, [other.verifierKey]).ok).toBe(false);
  });
});
