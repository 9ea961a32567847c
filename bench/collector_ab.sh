#!/bin/bash
# A/B of the collector's upload path: this checkout ("new") against BASE's versions of the files the upload
# goes through ("old"), alternately, the same bench file for both; the checkout is restored at the end.
#   bash bench/collector_ab.sh BASE [ROUNDS] [bench options...]     e.g. bash bench/collector_ab.sh 0aea65f 2
# AB_FILES (optional): the files swapped, instead of the upload path's below (e.g. the agent's for --kills).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: collector_ab.sh BASE_COMMIT [ROUNDS] [bench options]}
ROUNDS=${2:-2}
shift $(( $# >= 2 ? 2 : 1 ))
FILES=${AB_FILES:-"plugins/collector/patch.py plugins/collector/arrival.py plugins/collector/context.py kernel/bundle/writer.py
       agent/uplink/tus.py agent/uplink/upload.py"}
# the files are written over the worktree's (git show), never checked out: a checkout would stage BASE's versions,
# and a commit made meanwhile (of anything) would take them in
put() { for f in $FILES; do git show "$1:$f" > "$f"; done; }
trap 'put HEAD' EXIT
for _ in $(seq "$ROUNDS"); do
  for variant in new old; do
    if [ "$variant" = old ]; then put "$BASE"; else put HEAD; fi
    echo "=== $variant start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    .venv/bin/python bench/collector_bench.py --mib 480 --repeat 3 "$@"
    echo "=== $variant end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
