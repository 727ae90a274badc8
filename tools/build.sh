#!/usr/bin/env bash
# Configure (once) and build peerfwd. Usage: tools/build.sh [BUILDDIR [meson options...]]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" -Dwerror=true "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null
echo "build: $dir ok"
