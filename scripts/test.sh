#!/usr/bin/env bash
# The whole test suite, with the external tools its integration tests drive for real: the
# pre-commit framework (from PyPI), Microsoft's SARIF validator (from npm), zsh, fish, groff and
# `script` (from Debian). Installs them when missing (into target/ci-tools for the validator),
# then runs cargo test.
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

cargo test --locked "$@"
