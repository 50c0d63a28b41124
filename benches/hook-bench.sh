#!/usr/bin/env bash
# Whole-process benchmark: `tokenguard scan-staged` against `git diff --cached`, same machine,
# same run, so the numbers read as ratios. Needs hyperfine (Debian package `hyperfine`).
#
#   benches/hook-bench.sh            # tiny commit: 1 file, 20 added lines, 10,000-file repo
#   FILES=2000 benches/hook-bench.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
files=${FILES:-10000}
runs=${RUNS:-30}

command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/tokenguard"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@e GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@e
git init -q -b main "$work/repo"
cd "$work/repo"
# Source-like files: functions with identifiers, strings and numbers, no tokens.
python3 - "$files" <<'PY'
import os, random, sys
rng = random.Random(1)
words = "model predict tensor batch config client request response token_count weight layer".split()
for i in range(int(sys.argv[1])):
    d = f"pkg{i % 100}/mod{i % 7}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/file{i}.py", "w") as f:
        for j in range(rng.randint(20, 120)):
            a, b = rng.choice(words), rng.choice(words)
            f.write(f"def {a}_{j}({b}, n={rng.randint(0, 9999)}):\n    return {b}.{a}(\"{a}-{j}\") + n\n")
PY
git add -A && git commit -q -m base
python3 - <<'PY'
with open("pkg0/mod0/file0.py", "a") as f:
    for j in range(20):
        f.write(f"extra_{j} = predict_{j}(batch, n={j})\n")
PY
git add pkg0/mod0/file0.py

"$bin" scan-staged >/dev/null
# git diff --cached --quiet exits 1 when something is staged: -i keeps that from aborting.
hyperfine -N -i --warmup 3 --runs "$runs" --export-json "$work/tiny.json" \
    "git diff --cached --quiet" "git diff --cached" "$bin scan-staged" >/dev/null
python3 - "$work/tiny.json" "$files" <<'PY'
import json, sys
results = {r["command"].split("/")[-1]: r for r in json.load(open(sys.argv[1]))["results"]}
base = results["git diff --cached --quiet"]["median"]
print(f"tiny commit: 1 file, 20 added lines, repository of {sys.argv[2]} files")
print(f"{'command':32} {'median ms':>10} {'ratio':>7}")
for name, r in results.items():
    print(f"{name:32} {r['median']*1000:10.2f} {r['median']/base:7.2f}x")
PY
