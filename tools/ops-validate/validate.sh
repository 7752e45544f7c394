#!/usr/bin/env bash
# Validates Mandate's deployment files with no cluster and no Docker engine: renders the
# kustomize overlays in-process and decodes every object strictly into k8s.io/api types, loads
# deploy/compose.yaml with compose-go and parses deploy/Dockerfile with BuildKit's parser.
# Prints one line per check and ends with "N passed, M failed"; exits non-zero on a failure.
#   bash tools/ops-validate/validate.sh          # validate
#   bash tools/ops-validate/validate.sh --test   # run the validator's own Go tests first
# Go modules and build cache live in ${MANDATE_CACHE:-~/.cache/mandate}/go (needs Go >= 1.26
# and the Go module proxy on the first run).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${MANDATE_CACHE:-$HOME/.cache/mandate}"
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS="-modcacherw -buildvcs=false"
command -v go >/dev/null || { echo "ops-validate: go is not installed (need Go >= 1.26)" >&2; exit 2; }
bin="$cache/ops-validate/ops-validate"
mkdir -p "$(dirname "$bin")"
if [[ "${1:-}" == "--test" ]]; then
  (cd "$here" && go test ./...)
fi
(cd "$here" && go build -trimpath -o "$bin" .)
exec "$bin" -repo "$repo"
