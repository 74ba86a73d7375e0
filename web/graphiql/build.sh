#!/bin/sh
# Rebuild GraphiQL's bundle into src/livegql/transport/static/graphiql/ from the pinned package-lock.json.
# The built files are committed: only run this after changing src/ or the dependencies, then commit them.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
