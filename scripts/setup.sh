#!/usr/bin/env bash
# Takes a fresh machine (Node >= 20.19 and npm) to an installed imagegate.
#   bash scripts/setup.sh                 install pnpm (if missing) and the workspace
#   bash scripts/setup.sh --with-browser  also Debian's chromium, for the /docs browser test
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm 9 with npm"
  npm install --global pnpm@9.15.9
fi

if [[ "${1:-}" == "--with-browser" ]] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium for the browser test"
  sudo_cmd=""
  if [[ "$(id -u)" != "0" ]]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update
  $sudo_cmd apt-get install -y --no-install-recommends chromium
fi

# better-sqlite3 compiles from source here (about a minute); it is listed in onlyBuiltDependencies.
pnpm install --frozen-lockfile
