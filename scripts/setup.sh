#!/usr/bin/env bash
# Takes a fresh machine (Node >= 20.19 and npm) to an installed imagegate.
#   bash scripts/setup.sh                 install pnpm (if missing) and the workspace, and make sure
#                                         PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379)
#                                         run for the scale-out tests (Debian packages, when absent)
#   bash scripts/setup.sh --with-browser  also Debian's chromium, for the /docs browser test
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=""
if [[ "$(id -u)" != "0" ]]; then sudo_cmd="sudo"; fi
apt_updated=""
apt_install() {
  if [[ -z "$apt_updated" ]]; then
    $sudo_cmd apt-get update
    apt_updated=1
  fi
  $sudo_cmd apt-get install -y --no-install-recommends "$@"
}

# Whether something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp: no tool needed).
listening() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

postgres_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432 -t 2
  else
    listening 5432
  fi
}

redis_ready() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(timeout 2 redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == "PONG" ]]
  else
    listening 6379
  fi
}

wait_until() {
  local what="$1" check="$2"
  for _ in $(seq 1 30); do
    if "$check"; then return 0; fi
    sleep 1
  done
  echo "setup: $what did not come up on 127.0.0.1" >&2
  return 1
}

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "setup: installing Debian's postgresql"
    apt_install postgresql
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  # The tests connect over TCP as postgres without a password, as on a CI machine: trust for
  # loopback only. A cluster that already trusts loopback is left as it is.
  if ! $sudo_cmd grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    echo "setup: trusting loopback TCP connections in $hba"
    $sudo_cmd sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  fi
  echo "setup: starting PostgreSQL $version"
  $sudo_cmd pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_until PostgreSQL postgres_ready
}

start_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "setup: installing Debian's redis-server"
    apt_install redis-server
  fi
  echo "setup: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_until Redis redis_ready
}

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm 9 with npm"
  npm install --global pnpm@9.15.9
fi

if [[ "${1:-}" == "--with-browser" ]] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium for the browser test"
  apt_install chromium
fi

if postgres_ready; then
  echo "setup: PostgreSQL is running on 127.0.0.1:5432"
else
  start_postgres
fi
if redis_ready; then
  echo "setup: Redis is running on 127.0.0.1:6379"
else
  start_redis
fi

# better-sqlite3 compiles from source here (about a minute); it is listed in onlyBuiltDependencies.
pnpm install --frozen-lockfile
