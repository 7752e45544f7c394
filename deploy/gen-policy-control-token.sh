#!/usr/bin/env bash
# Prints a fresh control credential pair for policy's oversight and kill switch gRPC as env lines:
#   POLICY_CONTROL_TOKEN=<token>     secret: human-review only (it sends it to policy)
#   POLICY_CONTROL_TOKENS=<sha256>   policy only (the hash it accepts; comma-separate several
#                                    while rotating: old and new)
# Usage: bash deploy/gen-policy-control-token.sh >> deploy/.env
# Same format as `generateApiToken()` (libs/platform): "mdt_" + 32 random bytes, base64url.
# Needs node (the repository's toolchain). Nothing is written to disk by this script.
set -euo pipefail
node - <<'JS'
const { createHash, randomBytes } = require('node:crypto');
const token = `mdt_${randomBytes(32).toString('base64url')}`;
console.log(`POLICY_CONTROL_TOKEN=${token}`);
console.log(`POLICY_CONTROL_TOKENS=${createHash('sha256').update(token, 'utf8').digest('hex')}`);
JS
