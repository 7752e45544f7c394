#!/usr/bin/env bash
# Regenerates libs/contracts/src/gen from proto/ (buf + the local ts-proto plugin).
# Wipes the output first so a removed .proto leaves no stale module behind.
# Usage: npm run codegen   (or: bash tools/codegen/generate.sh [output-base-dir])
#   output-base-dir: write under <dir>/libs/contracts/src/gen instead of the workspace
#   (used by check-fresh.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

buf="$root/node_modules/.bin/buf"
plugin="$root/node_modules/.bin/protoc-gen-ts_proto"
for bin in "$buf" "$plugin"; do
  if [[ ! -x "$bin" ]]; then
    echo "codegen: $bin is missing; run npm ci first" >&2
    exit 1
  fi
done

out_base="${1:-$root}"
gen_dir="$out_base/libs/contracts/src/gen"

"$buf" lint
rm -rf "$gen_dir"
if [[ "$out_base" == "$root" ]]; then
  "$buf" generate --template buf.gen.yaml
else
  "$buf" generate --template buf.gen.yaml --output "$out_base"
fi
echo "codegen: wrote $(find "$gen_dir" -name '*.ts' | wc -l) files to ${gen_dir#"$root"/}"
