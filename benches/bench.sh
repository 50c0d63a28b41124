#!/usr/bin/env bash
# Whole-process benchmark: `tokenguard scan-staged` against `git diff --cached --quiet` and
# `git diff --cached > /dev/null`, same machine, same run, reported as ratios, plus peak RSS.
# Real source comes from PyPI (the same ML packages as scripts/fp-scan.sh), cached in
# target/bench-cache. Needs hyperfine and /usr/bin/time (Debian: hyperfine, time).
#
#   benches/bench.sh            # all four cases
#   RUNS=5 benches/bench.sh     # fewer runs
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-10}
cache="$root/target/bench-cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for tool in hyperfine /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine time)" >&2; exit 1; }
done
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/tokenguard"
# No background gc or maintenance: the benchmark copies repositories and must not race them.
printf '[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n' >"$work/gitconfig"
export GIT_CONFIG_GLOBAL="$work/gitconfig" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@e GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@e

# 1. Real source, once: sdists of ML packages, unpacked.
if [ ! -f "$cache/.done" ]; then
    mkdir -p "$cache/dl" "$cache/src"
    for pkg in transformers langchain-community litellm openai anthropic huggingface_hub \
        replicate truss langchain-core mistralai cohere wandb llama-index-core; do
        pip download --quiet --no-deps --no-binary :all: -d "$cache/dl" "$pkg" 2>/dev/null ||
            pip download --quiet --no-deps -d "$cache/dl" "$pkg"
    done
    for archive in "$cache"/dl/*; do
        case "$archive" in
            *.tar.gz) tar -xzf "$archive" -C "$cache/src" ;;
            *.whl|*.zip) python3 -m zipfile -e "$archive" "$cache/src/$(basename "$archive")" ;;
        esac
    done
    touch "$cache/.done"
fi

# ~10,000 files of real source, ~150 MB: files of 1.5 KB to 2 MB, in path order.
python3 - "$cache/src" "$work/files.txt" <<'PY'
import os, sys
root, out = sys.argv[1], sys.argv[2]
paths = []
for dirpath, _, names in os.walk(root):
    for name in names:
        p = os.path.join(dirpath, name)
        if os.path.islink(p):
            continue
        paths.append(p)
paths.sort()
chosen, total = [], 0
for p in paths:
    size = os.path.getsize(p)
    if size > 2_000_000 or size < 1_500:
        continue
    chosen.append(p)
    total += size
    if len(chosen) >= 10_000 or total >= 150_000_000:
        break
with open(out, "w") as f:
    f.write("\n".join(os.path.relpath(p, root) for p in chosen))
print(f"corpus: {len(chosen)} files, {total / 1e6:.1f} MB", file=sys.stderr)
PY

make_repo() { # $1: dir
    git init -q -b main "$1"
    (cd "$cache/src" && tar -cf - -T "$work/files.txt") | tar -xf - -C "$1"
}

# Case "large": a first commit of the whole corpus.
make_repo "$work/large"
git -C "$work/large" add -A

# Cases "tiny" and "modified": the corpus committed, then 1 file (+20 lines) / 500 files
# (+3 lines each) staged.
make_repo "$work/tiny"
git -C "$work/tiny" add -A && git -C "$work/tiny" commit -q -m base
cp -a "$work/tiny" "$work/modified"
python3 - "$work/tiny" "$work/modified" "$work/files.txt" <<'PY'
import sys
tiny, modified, listing = sys.argv[1:4]
files = [f for f in open(listing).read().split("\n") if f.endswith(".py")]
with open(f"{tiny}/{files[0]}", "a") as f:
    for j in range(20):
        f.write(f"extra_{j} = compute_{j}(batch, n={j})\n")
for path in files[:500]:
    with open(f"{modified}/{path}", "a") as f:
        f.write("\n# tuning\nlearning_rate = 3e-4\nwarmup_steps = 100\n")
PY
git -C "$work/tiny" add -A
git -C "$work/modified" add -A

results="$work/results.txt"
: >"$results"
for case in tiny modified large; do
    cd "$work/$case"
    "$bin" scan-staged >/dev/null || true  # warm the page cache; the corpus has findings
    # `git diff --cached --quiet` exits 1 when something is staged: -i keeps that from aborting.
    hyperfine -N -i --warmup 2 --runs "$runs" --export-json "$work/$case.json" \
        "git diff --cached --quiet" "$bin scan-staged" >/dev/null 2>&1
    hyperfine -i --warmup 1 --runs "$runs" --export-json "$work/$case-out.json" \
        "git diff --cached > /dev/null" >/dev/null 2>&1
    rss=$( (/usr/bin/time -v "$bin" scan-staged 2>&1 >/dev/null || true) | awk '/Maximum resident/ {print $6}')
    largest=$(git ls-files -s | awk '{print $2}' | git cat-file --batch-check='%(objectsize)' | sort -n | tail -1)
    echo "$case $work/$case.json $work/$case-out.json $rss $largest" >>"$results"
done

python3 - "$results" <<'PY'
import json, sys
print(f"{'case':10} {'diff --quiet':>13} {'diff >null':>11} {'tokenguard':>11} {'vs quiet':>9} {'vs diff':>8} {'peak RSS':>9} {'largest blob':>13}")
for line in open(sys.argv[1]):
    case, quiet_json, out_json, rss, largest = line.split()
    runs = {r["command"]: r["median"] for r in json.load(open(quiet_json))["results"]}
    quiet = runs["git diff --cached --quiet"]
    ours = next(v for k, v in runs.items() if "scan-staged" in k)
    diff = json.load(open(out_json))["results"][0]["median"]
    print(f"{case:10} {quiet*1000:10.1f} ms {diff*1000:8.1f} ms {ours*1000:8.1f} ms "
          f"{ours/quiet:8.2f}x {ours/diff:7.2f}x {int(rss)/1024:6.1f} MB {int(largest)/1e6:9.2f} MB")
PY
