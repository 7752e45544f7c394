/**
 * Runs every transparency-dev/merkle proof test vector in libs/ledger/domain/testdata/merkle:
 * `wantErr: false` must verify, `wantErr: true` must be rejected.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyConsistency, verifyInclusion } from './verify';

const DIR = join(__dirname, '..', '..', 'testdata', 'merkle');
const b64 = (s: string) => Buffer.from(s, 'base64');

/** Reads a vector keeping sizes and indices exact: some are uint64 values beyond 2^53. */
function readVector<T>(file: string): T {
  const json = readFileSync(join(DIR, file), 'utf8').replace(
    /("(?:leafIdx|treeSize|size1|size2)":\s*)(\d+)/g,
    '$1"$2"',
  );
  return JSON.parse(json) as T;
}

function vectorFiles(kind: string): string[] {
  const root = join(DIR, kind);
  return readdirSync(root)
    .sort()
    .flatMap((d) =>
      readdirSync(join(root, d))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(kind, d, f)),
    );
}

interface InclusionVector {
  leafIdx: string;
  treeSize: string;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyVector {
  size1: string;
  size2: string;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const inclusion = vectorFiles('inclusion');
const consistency = vectorFiles('consistency');

describe('transparency-dev/merkle test vectors', () => {
  it('finds the vector files', () => {
    expect(inclusion.length).toBeGreaterThanOrEqual(30);
    expect(consistency.length).toBeGreaterThanOrEqual(40);
  });

  it.each(inclusion)('inclusion %s', (file) => {
    const v = readVector<InclusionVector>(file);
    const verdict = verifyInclusion(
      BigInt(v.leafIdx),
      BigInt(v.treeSize),
      b64(v.leafHash),
      (v.proof ?? []).map(b64),
      b64(v.root),
    );
    expect({ ok: verdict.ok, desc: v.desc }).toEqual({ ok: !v.wantErr, desc: v.desc });
  });

  it.each(consistency)('consistency %s', (file) => {
    const v = readVector<ConsistencyVector>(file);
    const verdict = verifyConsistency(
      BigInt(v.size1),
      BigInt(v.size2),
      b64(v.root1),
      b64(v.root2),
      (v.proof ?? []).map(b64),
    );
    expect({ ok: verdict.ok, desc: v.desc }).toEqual({ ok: !v.wantErr, desc: v.desc });
  });
});
