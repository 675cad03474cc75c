#!/usr/bin/env bash
# Runs Parley's whole test suite: format and vet checks, then every Go test,
# including the browser tests (Debian's chromium) and the tests against the
# local NATS when it is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests drive Debian's chromium; install it when missing and we
# may (root on Debian). Without it those tests skip and say why.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium for the browser tests..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# Services this machine runs: tests that need them read these variables and
# skip with a message when they are unset.
reachable() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
if [ -z "${PARLEY_TEST_NATS_URL:-}" ] && reachable 127.0.0.1 4222; then
  export PARLEY_TEST_NATS_URL=nats://127.0.0.1:4222
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change these files:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -count=1 -timeout 20m ./...
