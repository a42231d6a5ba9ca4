#!/usr/bin/env bash
# The newcomer's path, as CI runs it: a fresh clone of this repository's committed HEAD in a
# temporary directory, an empty home directory (no pnpm store, no caches, no configuration),
# and then every command of the README's "Quick start" section, verbatim (read from
# README.md, so the check follows the README), each of which must succeed.
#
# The machine's environment is kept (Node and pnpm on PATH, which the README asks for, and its
# TLS settings); FC_SEED, when set, is kept so that CI's property tests replay one seed.
#
# Usage: bash scripts/newcomer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
# shellcheck source=./toolchain.sh
source scripts/toolchain.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/runstate-newcomer-XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"
git clone --quiet --no-hardlinks "$root" "$work/runstate"

# The ```sh blocks of the README's "Quick start" section, one command a line.
mapfile -t commands < <(awk '
  /^## / { inside = ($0 == "## Quick start") ; next }
  inside && /^```sh$/ { block = 1; next }
  inside && /^```$/ { block = 0; next }
  inside && block && NF { print }
' "$work/runstate/README.md")
if [ "${#commands[@]}" -eq 0 ]; then
  echo "newcomer: README.md has no commands in its Quick start section" >&2
  exit 1
fi

for command in "${commands[@]}"; do
  echo "newcomer \$ $command"
  start=$SECONDS
  (
    cd "$work/runstate"
    # The machine's environment (its PATH, its TLS trust settings) with a fresh user: an empty
    # home, no XDG or pnpm directories pointing elsewhere, and not CI.
    env -u CI -u XDG_CACHE_HOME -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u PNPM_HOME \
      -u RUNSTATE_TOOLCHAIN_CACHE -u npm_config_cache_dir -u npm_config_store_dir \
      HOME="$work/home" \
      bash -c "$command"
  ) || {
    echo "newcomer: '$command' failed in a fresh clone with an empty home" >&2
    exit 1
  }
  echo "newcomer: '$command' ok ($((SECONDS - start))s)"
done
