#!/usr/bin/env bash
# Prints a fresh Ed25519 decision-token key pair as env lines (base64 DER):
#   DECISION_SIGNING_KEY=<PKCS#8 private key>      secret: policy only
#   DECISION_VERIFY_KEYS=<key id>=<SPKI public key>  config: crm-connectors
# Usage: bash deploy/gen-decision-keys.sh [key-id] >> deploy/.env   (key id default: policy-1)
# Needs openssl 1.1.1+ (falls back to node). The private key never touches the disk.
set -euo pipefail
kid="${1:-policy-1}"
[[ "$kid" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || { echo "key id must match [A-Za-z0-9._-]{1,64}" >&2; exit 2; }
if command -v openssl >/dev/null 2>&1; then
  priv="$(openssl genpkey -algorithm ed25519 -outform DER | base64 | tr -d '\n')"
  pub="$(printf '%s' "$priv" | base64 -d | openssl pkey -inform DER -pubout -outform DER | base64 | tr -d '\n')"
else
  read -r priv pub < <(node -e 'const {generateKeyPairSync:g}=require("node:crypto");const k=g("ed25519");console.log(k.privateKey.export({type:"pkcs8",format:"der"}).toString("base64"),k.publicKey.export({type:"spki",format:"der"}).toString("base64"))')
fi
echo "DECISION_SIGNING_KEY_ID=${kid}"
echo "DECISION_SIGNING_KEY=${priv}"
echo "DECISION_VERIFY_KEYS=${kid}=${pub}"
