#!/usr/bin/env bash
# Guards the contracts analytics and connector teams depend on: `buf breaking` (rules: FILE,
# configured in buf.yaml) of the proto/ module in the working tree against the previous revision.
#   - on a branch other than main: against main (`.git#branch=main,subdir=proto`);
#   - on main: against the revision before the last change to proto/ — HEAD when proto/ has
#     uncommitted changes, otherwise the parent of the last commit that touched proto/;
#   - when no such revision contains proto/ (first commit): says so and passes.
# Usage: bash tools/codegen/buf-breaking.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
buf="$root/node_modules/.bin/buf"

has_proto() { git rev-parse --verify --quiet "$1^{commit}" >/dev/null && [[ -n "$(git ls-tree -d "$1" proto/mandate 2>/dev/null)" ]]; }

branch="$(git symbolic-ref --quiet --short HEAD || echo DETACHED)"

if [[ "$branch" != "main" ]]; then
  if git show-ref --verify --quiet refs/heads/main; then
    main_ref="main"
    against=".git#branch=main,subdir=proto"
  elif git show-ref --verify --quiet refs/remotes/origin/main; then
    # CI checkouts often have only the remote-tracking branch.
    main_ref="origin/main"
    against=".git#ref=$(git rev-parse origin/main),subdir=proto"
  else
    echo "buf-breaking: no main branch (local or origin/main); nothing to compare against."
    exit 0
  fi
  if ! has_proto "$main_ref"; then
    echo "buf-breaking: $main_ref has no proto/ yet; nothing to compare against (first revision)."
    exit 0
  fi
else
  if ! git rev-parse --verify --quiet HEAD >/dev/null; then
    echo "buf-breaking: no commit yet; nothing to compare against (first revision)."
    exit 0
  fi
  if [[ -n "$(git status --porcelain -- proto buf.yaml)" ]]; then
    # Uncommitted contract changes on main: compare them with the last commit.
    base="HEAD"
  else
    last="$(git log -n 1 --format=%H HEAD -- proto)"
    if [[ -z "$last" ]]; then
      echo "buf-breaking: no commit touches proto/; nothing to compare against (first revision)."
      exit 0
    fi
    base="$last~1"
  fi
  if ! has_proto "$base"; then
    echo "buf-breaking: $base has no proto/ (proto/ was introduced after it); nothing to compare against (first revision)."
    exit 0
  fi
  against=".git#ref=$(git rev-parse "$base"),subdir=proto"
fi

echo "buf-breaking: proto/ against $against"
if ! "$buf" breaking proto --against "$against"; then
  echo "buf-breaking: FAILED: the changes above break consumers of mandate.v1 (rules: FILE)." >&2
  echo "Add fields/cases at new numbers instead; see proto/README.md (compatibility rules)." >&2
  exit 1
fi
echo "buf-breaking: OK, no breaking change (rules: FILE)"
