#!/usr/bin/env bash
# The bus benchmark, start to finish (about 2-3 minutes):
#
#   bash bench/run.sh [bench_bus.py options, e.g. --reps 3]
#
# 1. bench/setup.sh: libsystemd-dev, pkg-config, gcc; bench/.env (sysd editable,
#    pystemd, py-spy); bench/build/floor (the C sd-bus floor).
# 2. Boots a throwaway systemd (python -m sysd sandbox run) and runs
#    bench/bench_bus.py inside it as root; raw results go to bench/bus.json.
# 3. Rewrites the "## Bus (foundation)" section of bench/RESULTS.md from them
#    (other sections are left alone).
#
# What is measured is sysd as committed at HEAD (a `git archive` snapshot under
# bench/build/, put first on PYTHONPATH), so that edits in progress in the work
# tree neither break the run nor blur what the numbers belong to.
# BENCH_SYSD_REF=<commit-ish> measures another commit; BENCH_SYSD_REF=worktree
# measures the work tree as it is (the editable install).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"

bash bench/setup.sh

ref=${BENCH_SYSD_REF:-HEAD}
if [[ $ref == worktree ]]; then
    BENCH_SYSD_COMMIT="$(git rev-parse --short=12 HEAD)+worktree"
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

py="$repo/bench/.env/bin/python"
"$py" -m sysd sandbox run --bind "$repo" -- \
    "$py" "$repo/bench/bench_bus.py" --json "$repo/bench/bus.json" "$@"
"$py" bench/bench_bus.py render bench/bus.json --results bench/RESULTS.md
echo "bench/RESULTS.md: section \"## Bus (foundation)\" updated from bench/bus.json"
