#!/usr/bin/env bash
# Installs what the Docker end-to-end tests need: a Docker engine (dockerd + containerd + runc),
# debootstrap to build the local base image (no image registry is reachable here), and tmux, the terminal
# through which the tests drive interactive claude as a person would.
# Idempotent; run as root. Starts nothing: test/support/docker.ts starts dockerd itself.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "provision-docker.sh: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# package -> a command it provides; a package is installed only when its command is missing.
declare -A wanted=(
  [docker.io]=dockerd
  [debootstrap]=debootstrap
  [iproute2]=ip
  [util-linux]=setpriv
  [passwd]=useradd
  [tmux]=tmux
)

missing=()
for pkg in "${!wanted[@]}"; do
  if ! command -v "${wanted[$pkg]}" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "provision-docker.sh: nothing to install"
  exit 0
fi

# Refresh the package lists only when they were never fetched (or an install fails on a stale list).
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  apt-get update -q
fi

echo "provision-docker.sh: installing ${missing[*]}"
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
