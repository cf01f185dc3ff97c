#!/usr/bin/env bash
# Fails when committed generated files are stale: the ts-proto stubs (src/generated) and
# the example model repository (models/). Regenerates both and asks git for differences.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/gen-proto.sh >/dev/null
npx tsx scripts/make-example-models.ts models >/dev/null
changes=$(git status --porcelain -- src/generated models)
if [ -n "$changes" ]; then
  echo "Generated files are stale; run 'npm run gen' and 'npm run models', then commit:" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- src/generated models >&2
  exit 1
fi
echo "generated files are up to date"
