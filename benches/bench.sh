#!/usr/bin/env bash
# Whole-process benchmark: `tokenguard scan-staged` against `git diff --cached --quiet` and
# `git diff --cached > /dev/null`, and `tokenguard scan-range HEAD` against `git log -p`, same
# machine, same run, reported as ratios (medians), plus peak RSS against its bound.
# Real source comes from PyPI (the same ML packages as scripts/fp-scan.sh), cached in
# target/bench-cache. Needs hyperfine and /usr/bin/time: installed with apt-get when missing
# and run as root, else `apt-get install hyperfine time`.
#
#   benches/bench.sh            # every case
#   RUNS=5 benches/bench.sh     # fewer runs of the big cases and histories (default 10)
#   QUICK_RUNS=200 benches/bench.sh  # runs of the small, dense, tiny and huge cases (default 1000)
#   ROUNDS=5 benches/bench.sh   # the runs are split into rounds, tokenguard and git taking
#                               # turns, so that a slow minute on a shared machine weighs
#                               # on both sides of a ratio (default 5); medians are over all
#   QUICK_ROUNDS=50 benches/bench.sh  # rounds of the small, dense, tiny and huge cases
#                               # (default: one per 20 of their runs; a case of 2 ms runs 40
#                               # times in a blink, and on a shared VM a slow blink that fell on
#                               # one command's block moved small's ratio from 1.0x to 1.3x)
#   TOKENGUARD=path benches/bench.sh  # time that binary (default: build this checkout's)
#   HISTORY="/path/a.git /path/b.git" benches/bench.sh
#                               # histories to scan (default: huggingface/accelerate and
#                               # openai/openai-python, cloned bare once into
#                               # target/bench-cache/history); HISTORY= skips them
#   TREES=0 benches/bench.sh    # skip the second corpus (sdists of ML libraries that carry
#                               # their whole tree: tests, docs, notebooks, examples)
#   CASES="large40 trees150" benches/bench.sh  # only these staged cases (default: all of
#                               # small dense tiny huge modified large40 large trees40 trees150)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-10}
trees=${TREES:-1}
quick_runs=${QUICK_RUNS:-1000}
rounds=${ROUNDS:-5}
quick_rounds=${QUICK_ROUNDS:-$(( quick_runs / 20 > 0 ? quick_runs / 20 : 1 ))}
per_round() { # total runs, rounds -> runs per round
    local n=$(( $1 / $2 ))
    echo $(( n > 0 ? n : 1 ))
}
cache="$root/target/bench-cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for tool in hyperfine /usr/bin/time; do
    if ! command -v "$tool" >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq hyperfine time >/dev/null 2>&1 || true
    fi
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine time)" >&2; exit 1; }
done
# TOKENGUARD=path times that binary instead of building this checkout's release binary.
if [ -n "${TOKENGUARD:-}" ]; then
    bin=$TOKENGUARD
else
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    bin="$root/target/release/tokenguard"
fi
# Timed as a fresh copy, the way `cargo install` (std::fs::copy) and install.sh leave it: the
# page cache holds a freshly written file in large pieces, and the same bytes as the linker
# wrote them or as read back from disk after `drop_caches` cost a small commit about 40 more
# page faults and 10-15% more time on the 2-core VM (docs/speed.md, round fourteen). Without
# the copy, a small case's ratio depended on how the binary last came into memory.
cp "$bin" "$work/tokenguard"
bin="$work/tokenguard"
# No background gc or maintenance: the benchmark copies repositories and must not race them.
printf '[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n' >"$work/gitconfig"
export GIT_CONFIG_GLOBAL="$work/gitconfig" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@e GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@e

# 1. Real source, once: sdists of ML packages, unpacked.
if [ ! -f "$cache/.done" ]; then
    mkdir -p "$cache/dl" "$cache/src"
    for pkg in transformers langchain-community litellm openai anthropic huggingface_hub \
        replicate truss langchain-core mistralai cohere wandb llama-index-core; do
        # Wheels first: an sdist may need its build backend installed just to be downloaded.
        pip download --quiet --no-deps --only-binary :all: -d "$cache/dl" "$pkg" 2>/dev/null ||
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

# A second corpus, so that the first-commit figures do not hang on one: source distributions
# of ML libraries (none of the first corpus) whose sdist holds the repository's tree (tests,
# docs, notebooks, examples that name tokens and env vars), pinned so that runs compare.
if [ "$trees" != 0 ] && [ ! -f "$cache/trees/.done" ]; then
    mkdir -p "$cache/trees/dl" "$cache/trees/src"
    for pkg in accelerate==1.16.0 datasets==5.2.0 peft==0.21.2 keras==3.15.1 langsmith==0.15.1 \
        haystack-ai==3.4.1 instructor==1.17.0 gradio==6.31.0 mlflow==3.18.0 timm==1.0.31 \
        dspy==3.4.1 deepspeed==0.19.8; do
        pip download --quiet --no-deps --no-binary :all: -d "$cache/trees/dl" "$pkg"
    done
    for archive in "$cache"/trees/dl/*.tar.gz; do tar -xzf "$archive" -C "$cache/trees/src"; done
    touch "$cache/trees/.done"
fi
# First commits of ~40 MB and ~150 MB: files of 1.5 KB to 2 MB, every `stride`-th in path
# order (so that 40 MB still spans every package) until the size is reached.
pick() { # $1: source root, $2: listing to write, $3: MB, $4: stride
    python3 - "$@" <<'PY'
import os, sys
root, out, limit, stride = sys.argv[1], sys.argv[2], int(sys.argv[3]) * 1_000_000, int(sys.argv[4])
paths = sorted(os.path.join(d, n) for d, _, names in os.walk(root) for n in names)
paths = [p for p in paths if not os.path.islink(p) and 1_500 <= os.path.getsize(p) <= 2_000_000]
chosen, total = [], 0
for p in paths[::stride]:
    chosen.append(os.path.relpath(p, root))
    total += os.path.getsize(p)
    if total >= limit:
        break
open(out, "w").write("\n".join(chosen))
print(f"{os.path.basename(out)}: {len(chosen)} files, {total / 1e6:.1f} MB", file=sys.stderr)
PY
}
make_first_commit() { # $1: case, $2: source root, $3: MB, $4: stride
    pick "$2" "$work/$1.txt" "$3" "$4"
    git init -q -b main "$work/$1"
    (cd "$2" && tar -cf - -T "$work/$1.txt") | tar -xf - -C "$work/$1"
    # -f: the sdists carry .gitignore files that would drop part of the picked size.
    git -C "$work/$1" add -A -f
}
all_cases="small dense tiny huge modified large40 large"
make_first_commit large40 "$cache/src" 40 3
if [ "$trees" != 0 ]; then
    make_first_commit trees40 "$cache/trees/src" 40 3
    make_first_commit trees150 "$cache/trees/src" 150 1
    all_cases="$all_cases trees40 trees150"
fi

# Case "large": a first commit of the whole corpus.
make_repo "$work/large"
git -C "$work/large" add -A

# Cases "tiny" and "modified": the corpus committed, then 1 file (+20 lines) / 500 files
# (+3 lines each) staged. Case "small": the same +20 lines in a repository of 60 files.
# Case "dense": 20 clean lines that name providers and read their env vars (issue 34's
# example), appended to replicate's client.py in a repository of the 60 files and that one.
make_repo "$work/tiny"
git -C "$work/tiny" add -A && git -C "$work/tiny" commit -q -m base
cp -a "$work/tiny" "$work/modified"
git init -q -b main "$work/small"
(cd "$cache/src" && head -60 "$work/files.txt" | tar -cf - -T -) | tar -xf - -C "$work/small"
git -C "$work/small" add -A && git -C "$work/small" commit -q -m base
git init -q -b main "$work/dense"
(cd "$cache/src" && { head -60 "$work/files.txt"; find . -path '*/replicate/client.py' | head -1; } |
    tar -cf - -T -) | tar -xf - -C "$work/dense"
git -C "$work/dense" add -A && git -C "$work/dense" commit -q -m base
python3 - "$work/tiny" "$work/modified" "$work/small" "$work/files.txt" "$work/dense" <<'PY'
import glob, sys
tiny, modified, small, listing, dense = sys.argv[1:6]
files = [f for f in open(listing).read().split("\n") if f.endswith(".py")]
for repo in (tiny, small):
    with open(f"{repo}/{files[0]}", "a") as f:
        for j in range(20):
            f.write(f"extra_{j} = compute_{j}(batch, n={j})\n")
for path in files[:500]:
    with open(f"{modified}/{path}", "a") as f:
        f.write("\n# tuning\nlearning_rate = 3e-4\nwarmup_steps = 100\n")
dense_lines = [
    'HF_TOKEN_ENV = "HF_TOKEN"',
    'ANTHROPIC_KEY_VAR = "ANTHROPIC_API_KEY"',
    'OPENAI_KEY_VAR = "OPENAI_API_KEY"',
    'api_token = os.environ.get("REPLICATE_API_TOKEN", "")',
    'hf_token = os.getenv(HF_TOKEN_ENV)',
    'anthropic_key = os.environ[ANTHROPIC_KEY_VAR]',
    'openai_api_key = os.environ.get("OPENAI_API_KEY")',
    'headers = {"Authorization": f"Bearer {api_key}"}',
    'wandb_key = os.environ.get("WANDB_API_KEY", None)',
    'groq_key = os.getenv("GROQ_API_KEY")',
    'mistral_key = os.getenv("MISTRAL_API_KEY")',
    'together_key = os.environ.get("TOGETHER_API_KEY")',
    'cohere_key = os.environ.get("CO_API_KEY")',
    'google_key = os.environ.get("GOOGLE_API_KEY")',
    'client = replicate.Client(api_token=api_token)',
    'hf_client = InferenceClient(token=hf_token)',
    'llm = Anthropic(api_key=anthropic_key)',
    'chat = OpenAI(api_key=openai_api_key)',
    'if not api_token:',
    '    raise ValueError("set REPLICATE_API_TOKEN or pass api_token")',
]
(client,) = glob.glob(f"{dense}/**/replicate/client.py", recursive=True)[:1]
with open(client, "a") as f:
    f.write("\n".join(dense_lines) + "\n")
PY
for case in tiny modified small dense; do git -C "$work/$case" add -A; done

# Case "huge": one line added to one file of a 100,000-file repository (400 directories of 250
# small files), where git's cache tree vouches for the 399 other directories. Made with
# fast-import and read-tree in under a second: the working tree holds only the changed file,
# which neither side looks past (`diff --cached` compares the index with HEAD).
git init -q -b main "$work/huge"
python3 - <<'PY' | git -C "$work/huge" fast-import --quiet
import sys
out = sys.stdout.buffer
def data(body):
    out.write(b"data %d\n%s\n" % (len(body), body))
for f in range(250):
    out.write(b"blob\nmark :%d\n" % (f + 1))
    data(b"def f%d(x):\n    return x + %d\n" % (f, f))
out.write(b"commit refs/heads/main\ncommitter bench <b@e> 1700000000 +0000\n")
data(b"base")
for d in range(400):
    for f in range(250):
        out.write(b"M 100644 :%d pkg%03d/mod%03d.py\n" % (f + 1, d, f))
PY
git -C "$work/huge" read-tree HEAD
mkdir -p "$work/huge/pkg123"
{ git -C "$work/huge" show HEAD:pkg123/mod045.py; echo '    # tuned'; } >"$work/huge/pkg123/mod045.py"
git -C "$work/huge" add pkg123/mod045.py

# History cases: whole real histories (bare clones), scanned commit by commit.
if [ -z "${HISTORY+set}" ]; then
    HISTORY=""
    for name in huggingface/accelerate openai/openai-python; do
        cached="$cache/history/${name/\//+}.git"
        if [ -d "$cached" ] || git clone -q --bare "https://github.com/$name.git" "$cached" 2>/dev/null; then
            HISTORY="$HISTORY $cached"
        else
            echo "skipping the history of $name: cannot clone it (set HISTORY)" >&2
        fi
    done
fi

results="$work/results.txt"
: >"$results"
peak_rss() { # command...: peak RSS in kB
    (/usr/bin/time -v "$@" 2>&1 >/dev/null || true) | awk '/Maximum resident/ {print $6}'
}
for case in ${CASES:-$all_cases}; do
    cd "$work/$case"
    "$bin" scan-staged >/dev/null || true  # warm the page cache (a corpus with findings exits 1)
    case $case in
        small|dense|tiny|huge) r=$quick_rounds; n=$(per_round "$quick_runs" "$r") ;;
        *) r=$rounds; n=$(per_round "$runs" "$r") ;;
    esac
    for round in $(seq "$r"); do
        # `git diff --cached --quiet` exits 1 when something is staged: -i keeps that from
        # aborting.
        hyperfine -N -i --warmup 2 --runs "$n" --export-json "$work/$case.$round.json" \
            "git diff --cached --quiet" "$bin scan-staged" >/dev/null 2>&1
        hyperfine -i --warmup 1 --runs "$n" --export-json "$work/$case-out.$round.json" \
            "git diff --cached > /dev/null" >/dev/null 2>&1
    done
    rss=$(peak_rss "$bin" scan-staged)
    largest=$(git ls-files -s | awk '{print $2}' | git cat-file --batch-check='%(objectsize)' | sort -n | tail -1)
    files=$(git ls-files | wc -l)
    echo "staged $case $files $work/$case $work/$case-out $rss $largest" >>"$results"
done
for repo in $HISTORY; do
    name=$(basename "$repo" .git)
    commits=$(git -C "$repo" rev-list --count HEAD)
    cd "$repo"
    "$bin" scan-range HEAD >/dev/null || true
    for round in $(seq "$rounds"); do
        hyperfine -i --warmup 1 --runs "$(per_round "$runs" "$rounds")" --export-json "$work/$name.$round.json" \
            "git log -p HEAD > /dev/null" "$bin scan-range HEAD > /dev/null" >/dev/null 2>&1
    done
    rss=$(peak_rss "$bin" scan-range HEAD)
    largest=$(git rev-list --objects HEAD | awk '{print $1}' |
        git cat-file --batch-check='%(objecttype) %(objectsize)' | awk '$1 == "blob" {print $2}' | sort -n | tail -1)
    blobs=$(git rev-list --objects HEAD | awk '{print $1}' | git cat-file --batch-check='%(objecttype)' | grep -c blob || true)
    echo "history $name $commits $work/$name - $rss $largest $blobs" >>"$results"
done

python3 - "$results" "$runs" "$quick_runs" "$rounds" "$quick_rounds" <<'PY'
import glob, json, statistics, sys
def medians(prefix):
    """Per command, the median of its runs in every round."""
    times = {}
    for path in glob.glob(f"{prefix}.*.json"):
        for r in json.load(open(path))["results"]:
            times.setdefault(r["command"], []).extend(r["times"])
    return {command: statistics.median(t) for command, t in times.items()}
def ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
staged, history = [], []
for line in open(sys.argv[1]):
    kind, case, count, main_json, out_json, rss, largest, *rest = line.split()
    rss_mb, largest_mb = int(rss) / 1024, int(largest) / 1e6
    runs = medians(main_json)
    if kind == "staged":
        quiet = runs["git diff --cached --quiet"]
        ours = next(v for k, v in runs.items() if "scan-staged" in k)
        diff = medians(out_json)["git diff --cached > /dev/null"]
        # The bound the README states: 64 MB plus twice the largest blob.
        bound = 64 + 2 * int(largest) / 2**20
        label = {
            "small": f"small: 1 file, +20 lines, {int(count):,}-file repo",
            "dense": f"dense: 1 file, +20 lines naming providers' env vars, {int(count):,}-file repo",
            "tiny": f"tiny: 1 file, +20 lines, {int(count):,}-file repo",
            "huge": f"huge: 1 file, +1 line, {int(count):,}-file repo in 400 directories",
            "modified": "modified: 500 files, +3 lines each",
            "large": f"large: first commit, {int(count):,} files",
            "large40": f"large40: first commit, PyPI corpus, {int(count):,} files, ~40 MB",
            "trees40": f"trees40: first commit, ML repo trees, {int(count):,} files, ~40 MB",
            "trees150": f"trees150: first commit, ML repo trees, {int(count):,} files, ~150 MB",
        }[case]
        staged.append(f"| {label} | {ms(quiet)} | {ms(diff)} | {ms(ours)} | {ours / quiet:.2f}x "
                      f"| {ours / diff:.2f}x | {rss_mb:.1f} MB (bound {bound:.0f}) | {largest_mb:.2f} MB |")
    else:
        blobs = int(rest[0])
        log = runs["git log -p HEAD > /dev/null"]
        ours = next(v for k, v in runs.items() if "scan-range" in k)
        # The bound the README states for history: 64 MB, 56 MB for the compiled catalog,
        # twice the largest blob per thread, and 64 bytes per distinct blob remembered.
        bound = 64 + 56 + 2 * 2 * int(largest) / 2**20 + 64 * blobs / 2**20
        history.append(f"| {case.replace('+', '/')}: {int(count):,} commits | {ms(log)} | {ms(ours)} | {ours / log:.2f}x "
                       f"| {rss_mb:.1f} MB (bound {bound:.0f}) | {largest_mb:.2f} MB |")
print(f"medians of {sys.argv[2]} runs in {sys.argv[4]} rounds ({sys.argv[3]} in {sys.argv[5]} for small, dense, tiny and huge), same run")
print()
print("| case | `diff --quiet` | `diff > /dev/null` | tokenguard | vs quiet | vs diff | peak RSS | largest blob |")
print("|---|---|---|---|---|---|---|---|")
print("\n".join(staged))
if history:
    print()
    print("| history (`scan-range HEAD`) | `git log -p` | tokenguard | vs `git log -p` | peak RSS | largest blob |")
    print("|---|---|---|---|---|---|")
    print("\n".join(history))
PY
