#!/usr/bin/env bash
# Makes sure the servers and the browser the tests start are on this machine: `redis-server`,
# PostgreSQL (`initdb` and `postgres`, on PATH or in Debian's /usr/lib/postgresql/*/bin) and
# Chromium (`/usr/bin/chromium`, driven by playwright-core for the timeline page's browser test;
# nothing downloads a browser).
#
# When one is missing and this machine can install it — Debian's `apt-get`, run as root or through
# a password-less `sudo` — it installs it from Debian's packages (`redis-server`, `postgresql`,
# `chromium`).
# Otherwise it prints one line saying what to install and exits 1: the tests never skip a missing
# server, so `pnpm test` (whose `pretest` this is) and CI both fail rather than pass without them.
#
# Usage: bash scripts/servers.sh
set -euo pipefail

have_redis() { command -v redis-server >/dev/null 2>&1; }
have_postgres() {
  command -v initdb >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null 2>&1
}

have_chromium() { [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; }

missing=()
have_redis || missing+=(redis-server)
have_postgres || missing+=(postgresql)
have_chromium || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    sudo=(none)
  fi
fi

if ! command -v apt-get >/dev/null 2>&1 || [ "${sudo[0]:-}" = none ]; then
  echo "runstate: the tests need ${missing[*]} (Debian/Ubuntu: sudo apt-get install redis-server postgresql chromium; elsewhere your package manager's redis, postgresql and chromium, with CHROMIUM_PATH set to it) — install them and run again" >&2
  exit 1
fi

echo "runstate: installing ${missing[*]} from Debian's packages for the tests" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if ! have_redis || ! have_postgres || ! have_chromium; then
  echo "runstate: installing ${missing[*]} did not bring redis-server, initdb and chromium; install them by hand" >&2
  exit 1
fi
