#!/usr/bin/env bash
# Fails when the checked-in libs/contracts/src/gen differs from what proto/ generates now.
# Usage: npm run codegen:check
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bash "$root/tools/codegen/generate.sh" "$tmp" >/dev/null

if ! diff -ru libs/contracts/src/gen "$tmp/libs/contracts/src/gen" >"$tmp/diff.txt"; then
  echo "codegen:check FAILED: libs/contracts/src/gen is stale (or was edited by hand)." >&2
  echo "Run 'npm run codegen' and commit the result. Difference (checked-in vs fresh):" >&2
  cat "$tmp/diff.txt" >&2
  exit 1
fi
echo "codegen:check OK: libs/contracts/src/gen matches proto/"
