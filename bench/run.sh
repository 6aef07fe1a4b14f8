#!/usr/bin/env bash
# The bus and units benchmarks, start to finish (about 8-10 minutes):
#
#   bash bench/run.sh [bench_bus.py options, e.g. --reps 3] [-- bench_units.py options]
#
# 1. bench/setup.sh: libsystemd-dev, pkg-config, gcc; bench/.env (sysd editable,
#    pystemd, py-spy); bench/build/floor (the C sd-bus floor).
# 2. Boots a throwaway systemd (python -m sysd sandbox run) and runs, inside it
#    as root, one phase after the other:
#      bus:   bench/bench_bus.py, raw results to bench/bus.json;
#      units: bench/bench_units.py (unit status and list_units), to bench/units.json.
#    BENCH_PHASES="bus" or "units" runs one of them only.
# 3. Rewrites the "## Bus (foundation)" and "## Units (status and list_units)"
#    sections of bench/RESULTS.md from them (other sections are left alone).
#
# What is measured is sysd as committed at HEAD (a `git archive` snapshot under
# bench/build/, put first on PYTHONPATH), so that edits in progress in the work
# tree neither break the run nor blur what the numbers belong to.
# BENCH_SYSD_REF=<commit-ish> measures another commit; BENCH_SYSD_REF=worktree
# measures the work tree as it is (the editable install).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
py="$repo/bench/.env/bin/python"
phases=${BENCH_PHASES:-bus units}

bus_args=()
units_args=()
split=0
for arg in "$@"; do
    if [[ $arg == -- && $split == 0 ]]; then
        split=1
    elif ((split)); then
        units_args+=("$arg")
    else
        bus_args+=("$arg")
    fi
done

if [[ ${BENCH_INSIDE:-} == 1 ]]; then
    # inside the sandbox: the phases, one after the other, in the same systemd
    cd "$repo"
    if [[ " $phases " == *" bus "* ]]; then
        "$py" bench/bench_bus.py --json bench/bus.json "${bus_args[@]}"
    fi
    if [[ " $phases " == *" units "* ]]; then
        "$py" bench/bench_units.py --json bench/units.json "${units_args[@]}"
    fi
    exit 0
fi

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
export BENCH_SYSD_COMMIT BENCH_PHASES="$phases"

BENCH_INSIDE=1 "$py" -m sysd sandbox run --bind "$repo" -- /bin/bash "$here/run.sh" "$@"
if [[ " $phases " == *" bus "* ]]; then
    "$py" bench/bench_bus.py render bench/bus.json --results bench/RESULTS.md
    echo "bench/RESULTS.md: section \"## Bus (foundation)\" updated from bench/bus.json"
fi
if [[ " $phases " == *" units "* ]]; then
    "$py" bench/bench_units.py render bench/units.json --results bench/RESULTS.md
    echo "bench/RESULTS.md: section \"## Units (status and list_units)\" updated from bench/units.json"
fi
