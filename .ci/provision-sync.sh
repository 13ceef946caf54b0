#!/usr/bin/env bash
# CI: the sync tests run real Syncthing daemons (and unison) from Debian's packages, in a loopback-only
# network namespace (unshare/nsenter from util-linux, ss from iproute2).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v syncthing >/dev/null || ! command -v unison >/dev/null || ! command -v ss >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq syncthing unison iproute2 util-linux >/dev/null
fi
