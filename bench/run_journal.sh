#!/usr/bin/env bash
# The journal benchmark, start to finish (a few minutes):
#
#   bash bench/run_journal.sh [bench_journal.py run options, e.g. --reps 3 --idle 5]
#
# 1. libsystemd-dev and pkg-config (apt-get, if missing); bench/.journal-env: a venv with
#    systemd-python built from PyPI against them (gcc), and sysd's dependencies.
# 2. Boots a throwaway systemd (python -m sysd sandbox run) and runs
#    bench/bench_journal.py inside it as root; raw results go to bench/journal.json.
# 3. Rewrites the "## Journal" section of bench/RESULTS.md from them (other sections
#    are left alone).
#
# What is measured is sysd as committed at HEAD (a `git archive` snapshot under
# bench/build/, first on PYTHONPATH), so edits in progress in the work tree neither break
# the run nor blur what the numbers belong to.  BENCH_SYSD_REF=<commit-ish> measures
# another commit; BENCH_SYSD_REF=worktree the work tree as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
py=${PYTHON:-python3}
env="$here/.journal-env"

if [[ ${BENCH_INSIDE:-} == 1 ]]; then
    cd "$repo"
    exec "$env/bin/python" bench/bench_journal.py run --json bench/journal.json "$@"
fi

cd "$repo"
need_apt=()
for pkg in libsystemd-dev pkg-config gcc; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${need_apt[@]}" || { apt-get update -q && apt-get install -y -q "${need_apt[@]}"; }
fi

if [[ ! -x "$env/bin/python" ]]; then
    "$py" -m venv "$env"
fi
echo '*' > "$env/.gitignore"  # a build product: keep it out of `git status`
stamp="$env/.sysd-bench-stamp"
want="$(sha1sum "$repo/pyproject.toml" "$here/run_journal.sh" | sha1sum | cut -c1-12)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    pip=("$env/bin/python" -m pip install -q --disable-pip-version-check)
    "${pip[@]}" -U pip setuptools wheel
    "${pip[@]}" --no-binary systemd-python systemd-python  # compiled here, against libsystemd
    "${pip[@]}" "dbus-fast>=2.0"  # sysd's one dependency (sysd itself comes from PYTHONPATH)
    echo "$want" > "$stamp"
fi
"$env/bin/python" -c "import systemd.journal, dbus_fast" >/dev/null

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

BENCH_INSIDE=1 "$env/bin/python" -m sysd sandbox run --bind "$repo" -- /bin/bash "$here/run_journal.sh" "$@"
"$env/bin/python" bench/bench_journal.py render bench/journal.json --results bench/RESULTS.md
echo "bench/RESULTS.md: section \"## Journal\" updated from bench/journal.json"
