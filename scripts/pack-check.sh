#!/usr/bin/env bash
# Packs @runstate/core, @runstate/node and @runstate/cluster as they would be published and checks
# the tarballs (steps 3 and 4 install core and node):
#
#   1. `pnpm pack` in each package (its `prepack` builds dist/), then the tarball holds dist/,
#      LICENSE and README.md;
#   2. `publint --strict` and `attw --profile esm-only` (@arethetypeswrong/cli) on each tarball;
#   3. a scratch project outside the repository installs both tarballs and `effect` — offline,
#      from the local pnpm store — WITHOUT `redis` and `@effect/platform-node`, type-checks a
#      program against the published .d.ts and runs it: it writes and reads a result through the
#      file-system store;
#   4. the same project then adds `redis` and `@effect/platform-node` (offline too), checks that the
#      Redis entry point loads, and prints the import time of the `@runstate/node` barrel against
#      the barrel plus the CLI and Redis modules (what the barrel used to load).
#
# Usage: bash scripts/pack-check.sh (after `pnpm install`; needs nothing from the network).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
# shellcheck source=./toolchain.sh
source scripts/toolchain.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/runstate-pack-XXXXXX")"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "pack-check: $*" >&2
  exit 1
}

echo "-- pack"
for pkg in core node cluster; do
  (cd "packages/$pkg" && pnpm pack --pack-destination "$work" >/dev/null)
done
core_tgz="$work/runstate-core-$(node -p 'require("./packages/core/package.json").version').tgz"
node_tgz="$work/runstate-node-$(node -p 'require("./packages/node/package.json").version').tgz"
cluster_tgz="$work/runstate-cluster-$(node -p 'require("./packages/cluster/package.json").version').tgz"
for tgz in "$core_tgz" "$node_tgz" "$cluster_tgz"; do
  [ -f "$tgz" ] || fail "no tarball $tgz"
  listing="$(tar -tzf "$tgz")"
  for f in package/dist/index.js package/dist/index.d.ts package/LICENSE package/README.md package/package.json; do
    grep -qx "$f" <<<"$listing" || fail "$(basename "$tgz") lacks $f"
  done
  if tar -xzf "$tgz" -O package/package.json | grep -q '"workspace:'; then
    fail "$(basename "$tgz") still names a workspace: version"
  fi
  echo "$(basename "$tgz"): $(grep -c . <<<"$listing") files"
done

echo "-- publint --strict"
for tgz in "$core_tgz" "$node_tgz" "$cluster_tgz"; do
  pnpm exec publint run --strict "$tgz"
done

echo "-- attw (esm-only)"
for tgz in "$core_tgz" "$node_tgz" "$cluster_tgz"; do
  # Every public module (the `./*` subpaths are a wildcard attw cannot list by itself).
  mapfile -t entrypoints < <(tar -tzf "$tgz" | sed -n 's|^package/dist/\([A-Za-z]*\)\.js$|./\1|p' | grep -vx '\./index\|\./bin')
  pnpm exec attw --profile esm-only --format table-flipped --no-color --no-emoji --no-summary \
    --entrypoints . "${entrypoints[@]}" -- "$tgz"
done

echo "-- scratch project without redis"
# `effect` (which has no dependencies) comes from this repository's install, linked: a project
# outside any workspace cannot resolve registry versions offline (pnpm keeps no registry metadata
# after a lockfile install), and a link keeps one copy of effect for the Redis step below.
effect_dir="$(cd packages/node && node -p 'require("node:fs").realpathSync("node_modules/effect")')"
app="$work/app"
mkdir -p "$app/src"
cat >"$app/package.json" <<EOF
{
  "name": "runstate-scratch",
  "private": true,
  "type": "module",
  "dependencies": {
    "@runstate/core": "file:$core_tgz",
    "@runstate/node": "file:$node_tgz",
    "effect": "link:$effect_dir"
  },
  "pnpm": { "overrides": { "@runstate/core": "file:$core_tgz", "effect": "link:$effect_dir" } }
}
EOF
cat >"$app/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "strict": true,
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "target": "ES2022",
    "lib": ["ES2024", "DOM"],
    "types": [],
    "noEmit": true,
    "allowImportingTsExtensions": true,
    "skipLibCheck": false
  },
  "include": ["src"]
}
EOF
cat >"$app/src/main.ts" <<'EOF'
import { Effect } from "effect"
import { ResultStore } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"

const directory = "results"

const program = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  yield* store.write({ rows: 42 }, { key: "daily-report" })
  const record = yield* store.read("daily-report")
  return { result: record.result, exists: yield* store.exists("daily-report") }
}).pipe(Effect.provide(NodeResultStore.layerFileSystem(directory)))

Effect.runPromise(program).then((out) => console.log(JSON.stringify(out)))
EOF
# Offline, from the pnpm store `pnpm install` filled: no registry needed. Outside any workspace.
(cd "$app" && pnpm install --offline --ignore-workspace --config.confirmModulesPurge=false >"$work/install.log" 2>&1) ||
  {
    cat "$work/install.log" >&2
    fail "offline install of the packed packages failed"
  }
for absent in redis @effect/platform-node; do
  if [ -e "$app/node_modules/$absent" ]; then fail "$absent was installed although nothing asked for it"; fi
done
# The check can see a barrel that loads Redis: the Redis entry point itself must fail here.
if (cd "$app" && node --input-type=module -e 'await import("@runstate/node/NodeRedisResultStore")' 2>/dev/null); then
  fail "the Redis entry point loaded without redis installed: the check cannot see what it should"
fi
(cd "$app" && node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json) ||
  fail "the scratch program does not type-check against the published types"
out="$(cd "$app" && node src/main.ts)"
[ "$out" = '{"result":{"rows":42},"exists":true}' ] || fail "scratch program printed: $out"
[ -f "$app/results/daily-report" ] || fail "the file store wrote no results/daily-report"
echo "file store without redis: $out"

echo "-- scratch project with redis"
# The peers the Redis entry point needs, linked from this repository's install (offline).
mkdir -p "$app/node_modules/@effect"
for dep in redis @effect/platform-node; do
  ln -s "$(cd packages/node && node -p "require('node:fs').realpathSync('node_modules/$dep')")" "$app/node_modules/$dep"
done
(cd "$app" && node --input-type=module -e '
  const redis = await import("@runstate/node/NodeRedisResultStore")
  if (typeof redis.layerRedis !== "function") throw new Error("no layerRedis")
  const cli = await import("@runstate/node/Cli")
  if (cli.command === undefined) throw new Error("no Cli.command")
') || fail "the Redis or CLI entry point does not load"
echo "Redis and CLI entry points load"

# Import time, fresh process each time; the median of 5.
median_ms() {
  local code="$1" times=()
  for _ in 1 2 3 4 5; do
    times+=("$(cd "$app" && node --input-type=module -e "const t0 = performance.now(); $code; console.log(Math.round(performance.now() - t0))")")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}
barrel="$(median_ms 'await import("@runstate/node")')"
everything="$(median_ms 'await import("@runstate/node"); await import("@runstate/node/Cli"); await import("@runstate/node/NodeRedisResultStore")')"
echo "import time (median of 5): @runstate/node ${barrel} ms; with the CLI and Redis modules (the old barrel) ${everything} ms"
echo "pack-check: ok"
