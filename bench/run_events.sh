#!/usr/bin/env bash
# The events benchmark, start to finish (a few minutes):
#
#   bash bench/run_events.sh [bench_events.py run options, e.g. --rounds 3 --idle 10]
#
# 1. bench/setup.sh: libsystemd-dev, pkg-config, gcc; bench/.env (sysd, dbus-fast);
#    bench/build/floor (the C sd-bus loop: `floor events`, `floor spawn`).
# 2. Boots a throwaway systemd (python -m sysd sandbox run) and runs
#    bench/bench_events.py inside it as root; raw results go to bench/events.json.
# 3. Rewrites the "## Events" section of bench/RESULTS.md from them (other sections
#    are left alone).
#
# What is measured is sysd as committed at HEAD (a `git archive` snapshot under
# bench/build/, first on PYTHONPATH), so edits in progress in the work tree neither break
# the run nor blur what the numbers belong to.  BENCH_SYSD_REF=<commit-ish> measures
# another commit; BENCH_SYSD_REF=worktree the work tree as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
py="$repo/bench/.env/bin/python"

if [[ ${BENCH_INSIDE:-} == 1 ]]; then
    cd "$repo"
    exec "$py" bench/bench_events.py run --json bench/events.json "$@"
fi

cd "$repo"
bash bench/setup.sh

ref=${BENCH_SYSD_REF:-HEAD}
if [[ $ref == worktree ]]; then
    BENCH_SYSD_COMMIT="$(git rev-parse --short=12 HEAD)+worktree"
    export PYTHONPATH="$repo/src${PYTHONPATH:+:$PYTHONPATH}"
else
    commit=$(git rev-parse --short=12 "$ref^{commit}")
    snap="$repo/bench/build/sysd-$commit"
    if [[ ! -d $snap/src/sysd ]]; then
        rm -rf "$snap.tmp"
        mkdir -p "$snap.tmp"
        git archive "$commit" src | tar -x -C "$snap.tmp"
        mv "$snap.tmp" "$snap"
    fi
    export PYTHONPATH="$snap/src${PYTHONPATH:+:$PYTHONPATH}"
    BENCH_SYSD_COMMIT=$commit
fi
export BENCH_SYSD_COMMIT

BENCH_INSIDE=1 "$py" -m sysd sandbox run --bind "$repo" -- /bin/bash "$here/run_events.sh" "$@"
"$py" bench/bench_events.py render bench/events.json --results bench/RESULTS.md
echo "bench/RESULTS.md: section \"## Events\" updated from bench/events.json"
