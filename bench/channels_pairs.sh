#!/bin/bash
# channels_bench.py for another checkout and this one, alternately, PAIRS times (load changes hit both alike);
# one summary line per run with the load average. TREE holds the other checkout as TREE/medic, e.g.
#   mkdir -p /tmp/base/medic && git archive main | tar -x -C /tmp/base/medic
#   bench/channels_pairs.sh /tmp/base [PAIRS=3] [REPEAT=3] [more channels_bench.py options, e.g. --block 50]
# (copy this tree's bench/channels_bench.py into TREE/medic/bench first for options the other's lacks)
set -euo pipefail
tree=$1; pairs=${2:-3}; repeat=${3:-3}
cd "$(dirname "$0")/.."
args=(--count 500 --repeat "$repeat" --drain 0 --receiver process "${@:4}")
for _ in $(seq 1 "$pairs"); do
  for who in other this; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ $who = other ]; then out=$(PYTHONPATH=$tree .venv/bin/python "$tree/medic/bench/channels_bench.py" "${args[@]}")
    else out=$(.venv/bin/python bench/channels_bench.py "${args[@]}"); fi
    echo "$who (load $load): $(echo "$out" | grep -E '^(ratio|one notification|CPU of the sending)' \
      | sed -E 's/ +/ /g; s/ \(target >= 0.7\)//' | paste -sd'|' -)"
  done
done
