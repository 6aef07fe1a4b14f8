#!/usr/bin/env bash
# Prepare the bus benchmark (idempotent): system packages, bench/.env venv with sysd
# (editable), pystemd and py-spy, and the C sd-bus floor bench/build/floor.
#
#   bash bench/setup.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
py=${PYTHON:-python3}

need_apt=()
for pkg in libsystemd-dev pkg-config gcc; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${need_apt[@]}" || { apt-get update -q && apt-get install -y -q "${need_apt[@]}"; }
fi

env="$here/.env"
if [[ ! -x "$env/bin/python" ]]; then
    "$py" -m venv "$env"
fi
pip=("$env/bin/python" -m pip install -q --disable-pip-version-check)
stamp="$env/.sysd-bench-stamp"
want="$(sha1sum "$repo/pyproject.toml" "$here/setup.sh" | sha1sum | cut -c1-12)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    # pystemd's pyproject.toml needs a setuptools newer than the one venv seeds
    "${pip[@]}" -U pip "setuptools>=77"
    "${pip[@]}" -e "$repo"
    # pystemd builds a Cython extension against libsystemd: give its build those, in this venv.
    "${pip[@]}" Cython setuptools wheel
    "${pip[@]}" --no-build-isolation pystemd
    "${pip[@]}" py-spy
    echo "$want" > "$stamp"
fi
"$env/bin/python" -c "import pystemd.systemd1, dbus_fast" >/dev/null

mkdir -p "$here/build"
if [[ ! -x "$here/build/floor" || "$here/floor.c" -nt "$here/build/floor" ]]; then
    # shellcheck disable=SC2046
    gcc -O2 -Wall -Wextra -o "$here/build/floor" "$here/floor.c" $(pkg-config --cflags --libs libsystemd)
fi
