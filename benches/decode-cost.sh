#!/usr/bin/env bash
# What the decoding layer (escapes, URL, UTF-16, base64) costs on a large real-code change:
# stages every regular file under SOURCE_DIR as the first commit of a scratch repository and
# times `tokenguard scan-staged` with and without the layer (TOKENGUARD_MEASURE_WITHOUT_DECODING,
# a measuring switch only) in the same hyperfine run.
#
#   benches/decode-cost.sh /usr/lib/python3.11 ~/.cargo/registry/src
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SOURCE_DIR..." >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 1; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/tokenguard"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
git init -q "$work/repo"
for dir in "$@"; do
    cp -r "$dir" "$work/repo/$(basename "$dir")"
done
# Source text only: no caches, compiled objects or links.
find "$work/repo" -path "$work/repo/.git" -prune -o \( -name __pycache__ -prune -exec rm -rf {} + \)
find "$work/repo" -path "$work/repo/.git" -prune -o \( -type l -o -name '*.pyc' -o -name '*.so' -o -size +2M \) -type f -delete
find "$work/repo" -path "$work/repo/.git" -prune -o -type l -delete
git -C "$work/repo" add -A
files=$(git -C "$work/repo" ls-files | wc -l)
bytes=$(git -C "$work/repo" ls-files -z | (cd "$work/repo" && xargs -0 cat) | wc -c)
echo "staged: $files files, $bytes bytes"
cd "$work/repo"
hyperfine --warmup 2 --runs "${RUNS:-10}" -i \
    -n with-decoding "$bin scan-staged -q" \
    -n without-decoding "TOKENGUARD_MEASURE_WITHOUT_DECODING=1 $bin scan-staged -q"
