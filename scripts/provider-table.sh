#!/bin/sh
# Regenerates the provider table in README.md from config/rules.toml (via `tokenguard rules
# --format markdown`). With --check it changes nothing and fails when the table is stale; the
# test suite runs it that way.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
readme="$root/README.md"
bin=${TOKENGUARD_BIN:-}
if [ -z "$bin" ]; then
    cargo build --quiet --manifest-path "$root/Cargo.toml"
    bin="$root/target/debug/tokenguard"
fi
table=$(mktemp)
fresh=$(mktemp)
trap 'rm -f "$table" "$fresh"' EXIT
"$bin" rules --format markdown >"$table"
awk -v table="$table" '
    /<!-- provider-table:end -->/ { skipping = 0 }
    !skipping { print }
    /<!-- provider-table:start -->/ {
        while ((getline line < table) > 0) print line
        skipping = 1
    }
' "$readme" >"$fresh"
grep -q '<!-- provider-table:start -->' "$readme" || { echo "README.md has no provider-table markers" >&2; exit 2; }
if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$readme" "$fresh"; then
        echo "README.md's provider table is stale: run scripts/provider-table.sh" >&2
        diff "$readme" "$fresh" >&2 || true
        exit 1
    fi
    echo "README.md's provider table matches config/rules.toml"
else
    cp "$fresh" "$readme"
    echo "README.md's provider table regenerated"
fi
