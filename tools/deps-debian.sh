#!/usr/bin/env bash
# Makes sure the Debian packages listed in $1 (default tools/debian-packages.txt)
# are installed, without redoing what is there: nothing to do → exit 0 at
# once; missing ones → installed with apt-get when root, otherwise the exact
# `sudo apt-get install` line is printed and the exit status is 69
# (EX_UNAVAILABLE), which make reports as "Error 69".
set -euo pipefail
list=${1:-"$(dirname "$0")/debian-packages.txt"}
mapfile -t wanted < <(grep -v '^#' "$list" | sed 's/[[:space:]]*$//' | grep -v '^$')
missing=()
for p in "${wanted[@]}"; do
  # "install ok installed" only: a removed package keeping its config files does not count.
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = 'install ok installed' ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "Missing Debian packages: ${missing[*]}"
  echo "Install them (as root) with:"
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}"
  exit 69
fi
