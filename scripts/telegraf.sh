#!/usr/bin/env bash
# Builds the Telegraf log shipper the end-to-end tests drive (TestCmdTelegraf),
# exactly as /work/shared/CLIENTS.md section 4.2: the released module source,
# unmodified, with only the plugins the test needs compiled in.
#
# The binary is cached under $HOME/.cache/sluice/telegraf-$VERSION/telegraf
# (keyed by version); when it exists the build is skipped. Prints the path of
# the binary on its last line of stdout.
set -euo pipefail
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

VERSION="${TELEGRAF_VERSION:-1.37.2}"
TAGS="custom,inputs.tail,outputs.kinesis,parsers.value,serializers.json"
DIR="${SLUICE_CACHE:-$HOME/.cache/sluice}/telegraf-$VERSION"
BIN="$DIR/telegraf"

if [ -x "$BIN" ]; then
  echo "telegraf $VERSION: cached" >&2
  echo "$BIN"
  exit 0
fi

mkdir -p "$DIR"
# One build at a time: a second caller waits for the first.
exec 9>"$DIR/.lock"
flock 9
if [ -x "$BIN" ]; then
  echo "telegraf $VERSION: built by a concurrent run" >&2
  echo "$BIN"
  exit 0
fi

start=$(date +%s)
echo "telegraf $VERSION: go mod download" >&2
# Outside any module: GOFLAGS=-mod=... from the caller must not apply.
cd "$DIR"
GOFLAGS=-modcacherw go mod download github.com/influxdata/telegraf@v"$VERSION"
modcache=$(go env GOMODCACHE)
src="$DIR/src"
rm -rf "$src"
cp -r "$modcache/github.com/influxdata/telegraf@v$VERSION" "$src"
chmod -R u+w "$src"
cd "$src"
echo "telegraf $VERSION: go build -tags $TAGS (minutes on a cold cache)" >&2
# GOWORK=off: a go.work above the cache dir must not capture the build.
GOWORK=off GOFLAGS=-buildvcs=false go build -tags "$TAGS" -o "$BIN.tmp" ./cmd/telegraf
mv "$BIN.tmp" "$BIN"
cd "$DIR"
rm -rf "$src"
echo "telegraf $VERSION: built in $(( $(date +%s) - start )) s" >&2
echo "$BIN"
