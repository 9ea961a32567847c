#!/bin/bash
# Wall and CPU time (user+sys of medic and the children it waits for) of a cold `medic run triage`, a fresh
# PREFECT_HOME each, in interleaved pairs: BEFORE's code (a directory holding a medic/ package tree, e.g. a
# `git archive` of main laid out as installed, put first on PYTHONPATH) against this checkout.
# Usage: BEFORE=/tmp/cold-main/pkg N=3 bash bench/cold_time_pairs.sh
cd "$(dirname "$0")/.." || exit 2
out=$(mktemp)
for i in $(seq 1 "${N:-3}"); do for side in before this; do
  home=$(mktemp -d)
  if [ $side = before ]; then pp=$BEFORE; else pp=; fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  env -u PREFECT_API_URL -u MEDIC_ENGINE -u PYTHONDONTWRITEBYTECODE PYTHONPATH="$pp" PREFECT_HOME="$home" \
    MEDIC_STATE_DIR="$home/state" PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=300 \
    /usr/bin/time -f "$side pair $i: wall %e s user %U s sys %S s maxrss(one process) %M KB exit %x" -o "$out" \
    .venv/bin/python -m medic.cli.main run triage >/dev/null 2>&1
  echo "$(tail -1 "$out") load-before $load $(date -u +%H:%M:%S)"
  rm -rf "$home"
done; done
rm -f "$out"
