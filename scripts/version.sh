#!/usr/bin/env bash
# Print every package's version, or bump one package's version with hatch.
#   scripts/version.sh                 # list
#   scripts/version.sh models minor    # bump dynvision-models (major, minor, patch, or an exact version)
set -euo pipefail
cd "$(dirname "$0")/.."
hatch="$PWD/.venv/bin/hatch"
if [ $# -ge 1 ] && [ -n "$1" ]; then
  pkg="packages/dynvision-$1"
  [ -d "$pkg" ] || { echo "unknown package '$1'; valid: $(ls packages | sed 's/dynvision-//' | xargs)" >&2; exit 2; }
  [ $# -ge 2 ] && [ -n "$2" ] || { echo "give the bump too, e.g. BUMP=minor (major, minor, patch or a version)" >&2; exit 2; }
  (cd "$pkg" && "$hatch" version "$2")
  exit 0
fi
for pkg in packages/*/; do
  printf "%-22s %s\n" "$(basename "$pkg")" "$(cd "$pkg" && "$hatch" version 2>/dev/null)"
done
