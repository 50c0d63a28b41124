#!/usr/bin/env bash
# False-positive check on real ML code from PyPI (not run in CI: it downloads packages).
# Downloads the source distributions (a wheel where a package has none), stages all of it as new
# files in a scratch repository, runs `tokenguard scan-staged` and prints every finding. The
# goal is zero: each finding is either a real token published in that package or a rule defect.
#
#   scripts/fp-scan.sh                      # the default package list
#   PACKAGES="openai anthropic" scripts/fp-scan.sh
#   KEEP=1 scripts/fp-scan.sh               # keep the scratch directory for a closer look
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
packages=${PACKAGES:-"replicate truss huggingface_hub openai anthropic transformers langchain
  langchain-core langchain-community litellm cohere mistralai groq together wandb pinecone
  langsmith voyageai elevenlabs deepgram-sdk assemblyai llama-index-core modal fal-client
  google-generativeai sagemaker databricks-sdk kaggle tavily-python qdrant-client
  weaviate-client chromadb google-cloud-aiplatform azure-ai-inference dashscope"}

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/tokenguard"
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dl" "$work/repo"

for pkg in $packages; do
    # Source only for the package itself: its build tools (maturin, ...) come as wheels.
    pip download --quiet --no-deps --no-binary "$pkg" -d "$work/dl" "$pkg" 2>/dev/null ||
        pip download --quiet --no-deps -d "$work/dl" "$pkg" 2>/dev/null ||
        echo "could not download $pkg" >&2
done
for archive in "$work"/dl/*; do
    dest="$work/repo/$(basename "$archive")"
    mkdir -p "$dest"
    case "$archive" in
        *.tar.gz|*.tgz) tar -xzf "$archive" -C "$dest" ;;
        *.zip|*.whl) python3 -m zipfile -e "$archive" "$dest" ;;
    esac
done

cd "$work/repo"
git init -q
git add -A
"$bin" scan-staged --format json >"$work/report.json" || true
python3 - "$work/report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
stats = report["stats"]
print(f"scanned {stats['files_scanned']} files, {stats['bytes_scanned'] / 1e6:.1f} MB, "
      f"{stats['added_lines']} lines; skipped {stats['binary_skipped']} binary files")
findings = report["findings"]
print(f"{len(findings)} findings")
for f in findings:
    print(f"  {f['path']}:{f['line']}:{f['column']}  {f['rule_id']}  {f['secret_redacted']}")
PY
[ -z "${KEEP:-}" ] || echo "kept $work"
