#!/usr/bin/env bash
# Installs the npm packages the end-to-end client tests use
# (cmd/sluice/testdata/clients/package-lock.json) with `npm ci` into
# $HOME/.cache/sluice/npm-<hash of the lockfile>/ and links that
# node_modules into cmd/sluice/testdata/clients/node_modules, where the
# test scripts' ES module imports find it. A cache hit needs no network.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/cmd/sluice/testdata/clients"
command -v npm >/dev/null || { echo "npm-deps: npm is not installed (Node 20 + npm are needed)" >&2; exit 1; }

hash=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
dir="${SLUICE_CACHE:-$HOME/.cache/sluice}/npm-$hash"

if [ ! -f "$dir/.complete" ]; then
  mkdir -p "$dir"
  exec 9>"$dir/.lock"
  flock 9
  if [ ! -f "$dir/.complete" ]; then
    start=$(date +%s)
    rm -rf "$dir/node_modules"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    touch "$dir/.complete"
    echo "npm-deps: installed into $dir in $(( $(date +%s) - start )) s" >&2
  fi
  exec 9>&-
else
  echo "npm-deps: cached in $dir" >&2
fi

link="$src/node_modules"
if [ -L "$link" ] || [ ! -e "$link" ]; then
  ln -sfn "$dir/node_modules" "$link"
else
  echo "npm-deps: $link exists and is not a symlink; remove it" >&2
  exit 1
fi
echo "$dir/node_modules"
