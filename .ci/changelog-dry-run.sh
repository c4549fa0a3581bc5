#!/usr/bin/env bash
# Cuts the changelogs from the pending changesets, as `pnpm version-packages` would before a
# release, on a throw-away copy of the repository: it must succeed, consume every changeset and
# write a CHANGELOG.md for every published package. The working tree is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The tracked and untracked-but-not-ignored files, as they are now (uncommitted changes too).
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e $f ]] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C "$tmp"
# No node_modules in the copy, and changeset run directly, not through `pnpm exec`: pnpm would
# install into the copy first (and through a node_modules link, into this checkout).
changeset=$(node -p "require.resolve('@changesets/cli/bin.js')")
pending=$(find "$tmp/.changeset" -name '*.md' ! -name README.md | wc -l)
(cd "$tmp" && git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm snapshot && node "$changeset" version)
left=$(find "$tmp/.changeset" -name '*.md' ! -name README.md | wc -l)
status=0
for pkg in "$tmp"/packages/*/; do
  [[ -f $pkg/package.json ]] || continue
  name=$(node -p "require('$pkg/package.json').name")
  if [[ $(node -p "require('$pkg/package.json').private === true") == true ]]; then continue; fi
  if [[ ! -s $pkg/CHANGELOG.md ]]; then
    echo "changelog dry run: no CHANGELOG.md for $name" >&2
    status=1
  else
    echo "changelog dry run: $name $(node -p "require('$pkg/package.json').version"): $(grep -c '^- ' "$pkg/CHANGELOG.md") entries"
  fi
done
if [[ $left -ne 0 ]]; then
  echo "changelog dry run: $left of $pending changesets were not consumed" >&2
  status=1
fi
echo "changelog dry run: $pending changesets consumed"
exit $status
