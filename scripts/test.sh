#!/usr/bin/env bash
# The whole test suite, with the external tools its integration tests drive for real: the
# pre-commit framework (from PyPI), Microsoft's SARIF validator (from npm), zsh, fish, groff and
# `script` (from Debian). Installs them when missing (into target/ci-tools for the validator),
# then checks the API docs and runs cargo test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! python3 -c "import pre_commit" 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check "pre-commit==4.7.0"
fi
# The shells whose completion scripts are checked, groff for the man pages and util-linux
# `script` for the progress tests under a pseudo-terminal (Debian packages).
missing=()
for pair in zsh:zsh fish:fish groff:groff-base script:bsdutils; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
        $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    }
fi

tools="$root/target/ci-tools"
multitool="$tools/node_modules/.bin/sarif-multitool"
if [ ! -x "$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" ]; then
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-audit --no-fund --silent "@microsoft/sarif-multitool@5.7.0"
    # npm leaves the package's own postinstall (a chmod) unrun.
    chmod u+x "$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
fi
export TOKENGUARD_SARIF_MULTITOOL="$multitool"

# The Python wheel. The build tools' wheels (maturin, and setuptools for the pre-commit
# framework's placeholder package) are downloaded once into target/ci-tools/wheels, so the
# tests install everything with pip --no-index. The wheel is built from this checkout with the
# dev profile: the binary `cargo test` builds anyway, relinked stripped (a release build would
# add minutes; the release workflow builds those).
wheels="$tools/wheels"
maturin_version=1.16.0
if ! ls "$wheels"/maturin-$maturin_version-*.whl >/dev/null 2>&1 || ! ls "$wheels"/wheel-*.whl >/dev/null 2>&1; then
    python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
        --dest "$wheels" "maturin==$maturin_version" "setuptools==80.9.0" "wheel==0.45.1"
fi
if [ ! -x "$tools/maturin/bin/maturin" ]; then
    python3 -m venv "$tools/maturin"
    "$tools/maturin/bin/pip" install --quiet --disable-pip-version-check --no-index \
        --find-links "$wheels" "maturin==$maturin_version"
fi
started=$(date +%s)
rm -rf target/test-wheel
"$tools/maturin/bin/maturin" build --quiet --locked --profile dev --out target/test-wheel
# The framework's build of this package from its own clone compiles with the dev profile too,
# into a target directory of its own (sharing target/ would replace the artifacts the running
# tests use), seeded once from this one so that only tokenguard itself is compiled there.
pep517_target="$tools/pep517-target"
if [ ! -d "$pep517_target/debug" ]; then
    mkdir -p "$pep517_target/debug"
    tar -C target/debug --exclude='deps/*tokenguard-*' --exclude='deps/cli-*' \
        -cf - .fingerprint build deps | tar -C "$pep517_target/debug" -xf -
fi
echo "test.sh: wheel built in $(( $(date +%s) - started ))s: $(ls target/test-wheel)"
TOKENGUARD_TEST_WHEEL=$(ls "$root"/target/test-wheel/*.whl)
export TOKENGUARD_TEST_WHEEL TOKENGUARD_TEST_PIP_WHEELS="$wheels" TOKENGUARD_TEST_PEP517_TARGET="$pep517_target"

# The API docs (private items too) build without a warning: no broken intra-doc link, no bare URL.
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --document-private-items --quiet

cargo test --locked "$@"
