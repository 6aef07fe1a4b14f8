#!/usr/bin/env bash
# The fleet benchmark (issue 14), start to finish (several minutes):
#
#   bash bench/run_fleet.sh [bench_fleet.py run options, e.g. --reps 5 --hosts 1,5,20]
#
# 1. scripts/setup: .venv with sysd (editable) and the test extra (ansible-core);
#    parallel-ssh must be installed (Debian package pssh).
# 2. As root on this machine: boots the SSH lab (sysd.sandbox.SshLab, 20 sandboxes with
#    sshd), runs bench/bench_fleet.py against it; raw results go to bench/fleet.json.
# 3. Rewrites the "## Fleet: ..." section of bench/RESULTS.md from them (other sections
#    are left alone).  BENCH_NOTES="..." appends a paragraph of notes to the section.
#
# What is measured is the sysd of the work tree (.venv's editable install).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
scripts/setup
command -v parallel-ssh >/dev/null || { echo "run_fleet.sh: needs parallel-ssh (apt-get install pssh)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "run_fleet.sh: needs root (the lab boots sandboxes)" >&2; exit 1; }
py="$repo/.venv/bin/python"
"$py" bench/bench_fleet.py run --json bench/fleet.json "$@"
"$py" bench/bench_fleet.py render bench/fleet.json --results bench/RESULTS.md --notes "${BENCH_NOTES:-}"
echo "bench/RESULTS.md: section \"## Fleet: ...\" updated from bench/fleet.json"
