#!/usr/bin/env bash
# CI: the sync tests run real Syncthing daemons (and unison) from Debian's packages, in a loopback-only
# network namespace (unshare/nsenter from util-linux, ss from iproute2); the remote-engine tests reach a second
# "machine" over real ssh (Debian's sshd, started by the test on loopback with its own config and keys).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v syncthing >/dev/null || ! command -v unison >/dev/null || ! command -v ss >/dev/null ||
  ! command -v ssh >/dev/null || ! [ -x /usr/sbin/sshd ]; then
  apt-get update -qq
  apt-get install -y -qq syncthing unison iproute2 util-linux openssh-client openssh-server >/dev/null
fi
