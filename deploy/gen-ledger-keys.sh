#!/usr/bin/env bash
# Prints fresh audit-ledger keys as env lines:
#   LEDGER_SIGNING_KEY=<PKCS#8 Ed25519 private key, base64 DER>   secret: audit-ledger only
#   LEDGER_SUBJECT_KEKS=kek-1:<32 random bytes, base64>            secret: audit-ledger only
#   LEDGER_VERIFIER_KEY=<C2SP verifier key>                        public: give it to auditors
# Usage: bash deploy/gen-ledger-keys.sh [key-name] >> deploy/.env
#   key-name: the checkpoint signing key's name (default mandate/ledger = the default origin).
# Needs node (the repository's toolchain). Nothing is written to disk by this script.
set -euo pipefail
name="${1:-mandate/ledger}"
[[ "$name" =~ ^[A-Za-z0-9./_-]{1,128}$ ]] || { echo "key name must match [A-Za-z0-9./_-]{1,128}" >&2; exit 2; }
node - "$name" <<'JS'
const { generateKeyPairSync, randomBytes, createHash } = require('node:crypto');
const name = process.argv[2];
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
const algKey = Buffer.concat([Buffer.from([0x01]), raw]);
const hash = createHash('sha256').update(`${name}\n`).update(algKey).digest().subarray(0, 4);
console.log(`LEDGER_SIGNING_KEY=${privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`);
console.log(`LEDGER_SUBJECT_KEKS=kek-1:${randomBytes(32).toString('base64')}`);
console.log(`LEDGER_VERIFIER_KEY=${name}+${hash.toString('hex')}+${algKey.toString('base64')}`);
JS
