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
command -v chromium >/dev/null 2>&1 || need+=(chromium)  # tests/kb: the cases page in a real browser (Playwright)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tests need Debian packages: ${need[*]} (run as root or install them)" >&2; exit 1
  fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# an unprivileged user for the permission tests a root run would skip (tests/unprivileged.py creates it too)
if [ "$(id -u)" = 0 ] && ! id medic-test >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin medic-test
fi
