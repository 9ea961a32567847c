#!/usr/bin/env bash
# Install what the tests' real components need (Debian packages). Each test suite starts and stops its own
# servers on loopback addresses; this script only makes sure the programs are there. Idempotent.
set -euo pipefail
need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v sudo >/dev/null 2>&1 || need+=(sudo)  # tests/ssh: become: sudo
command -v ip >/dev/null 2>&1 && command -v ss >/dev/null 2>&1 || need+=(iproute2)  # tests/ssh: jump-host network lab
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v pg_dump >/dev/null 2>&1 || need+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)  # tests/service_fast: TLS proxy
command -v chromium >/dev/null 2>&1 || need+=(chromium)  # tests/kb: the cases page in a real browser (Playwright)
# tests/channels/test_ticket.py: Request Tracker 5 with SQLite and its standalone server; the tests make their own
# database and configuration, so the package is told not to set one up (no questions asked)
rt=(request-tracker5 rt5-db-sqlite rt5-standalone)
[ -x /usr/share/request-tracker5/libexec/rt-server ] && [ -x /usr/sbin/rt-setup-database-5 ] || need+=("${rt[@]}")
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tests need Debian packages: ${need[*]} (run as root or install them)" >&2; exit 1
  fi
  if [[ " ${need[*]} " == *" request-tracker5 "* ]]; then
    echo "request-tracker5 request-tracker5/dbconfig-install boolean false" | debconf-set-selections
  fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# an unprivileged user for the permission tests a root run would skip (tests/unprivileged.py creates it too)
if [ "$(id -u)" = 0 ] && ! id medic-test >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin medic-test
fi
