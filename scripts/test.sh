#!/usr/bin/env bash
# The whole test suite, with the external tools its integration tests drive for real: the
# pre-commit framework (from PyPI) and Microsoft's SARIF validator (from npm). Installs them
# when missing (into target/ci-tools for the validator), then runs cargo test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! python3 -c "import pre_commit" 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check "pre-commit==4.7.0"
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
