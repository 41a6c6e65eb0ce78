#!/usr/bin/env bash
# Makes sure the binaries the test suite needs are on this machine. The tests start their OWN
# redis-server on a free port (never a server you run) and their OWN PostgreSQL database
# (created and dropped by the fixtures on the local server).
set -u

have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo "$@"; else return 1; fi; }

if ! have redis-server; then
  echo "redis-server not found: installing it with apt-get" >&2
  as_root apt-get update -qq && as_root apt-get install -y -qq redis-server >/dev/null \
    || { echo "could not install redis-server: install it (apt-get install redis-server)" >&2; exit 1; }
fi

# Chromium: the dashboard's tests drive Debian's chromium with Playwright (Playwright cannot
# download its own browsers here). DejaVu is the page's first font, so screenshots read well.
if [ ! -x /usr/bin/chromium ]; then
  echo "chromium not found: installing it with apt-get" >&2
  as_root apt-get update -qq && as_root apt-get install -y -qq chromium fonts-dejavu-core >/dev/null \
    || { echo "could not install chromium: install it (apt-get install chromium)" >&2; exit 1; }
fi

# PostgreSQL: the ledger tests run against it too. Start the local cluster if it is installed
# but stopped; if there is none, the PostgreSQL tests skip (or fail where QUANTRAIL_REQUIRE_PG=1).
if have pg_isready && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if have pg_ctlcluster && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    done
  fi
fi
exit 0
