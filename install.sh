#!/bin/sh
# Builds and installs the tokenguard binary (cargo install --locked), then installs the
# hooks (pre-commit, commit-msg, pre-push) into a git repository (the one this is run in, or the
# one given as argument) and runs a first scan of what is staged there.
#
#   ./install.sh                 # build, install, hook the repository around the current dir
#   ./install.sh path/to/repo    # hook that repository instead
#   ./install.sh --no-hook       # only build and install the binary
#   ./install.sh --hook-only     # only install the hook (binary from TOKENGUARD_BIN or PATH)
set -eu

usage() {
    cat <<'USAGE'
Usage: ./install.sh [--no-hook | --hook-only] [REPO]

Builds and installs the tokenguard binary (cargo install --locked), then installs the hooks
(pre-commit, commit-msg, pre-push) into a git repository and scans what is staged there.

  REPO          the repository to hook (default: the one around the current directory)
  --no-hook     only build and install the binary
  --hook-only   only install the hooks (binary from TOKENGUARD_BIN or PATH)
  -h, --help    print this help and do nothing else
USAGE
}

# --help wins wherever it is, before anything is built or written.
for arg in "$@"; do
    case "$arg" in
        -h|--help) usage; exit 0 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
target=.
want_hook=yes
want_build=yes
for arg in "$@"; do
    case "$arg" in
        --no-hook) want_hook=no ;;
        --hook-only) want_build=no ;;
        -*) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
        *) target=$arg ;;
    esac
done

if [ "$want_build" = yes ]; then
    command -v cargo >/dev/null 2>&1 || {
        echo "install.sh: cargo is not installed; install a Rust toolchain (https://rustup.rs) first" >&2
        exit 1
    }
    cargo install --locked --quiet --path "$here"
    bin="${CARGO_HOME:-$HOME/.cargo}/bin/tokenguard"
    echo "installed $bin ($("$bin" --version))"
else
    bin=${TOKENGUARD_BIN:-$(command -v tokenguard || true)}
    [ -x "$bin" ] || { echo "install.sh: --hook-only needs tokenguard on PATH or in TOKENGUARD_BIN" >&2; exit 1; }
fi

[ "$want_hook" = yes ] || exit 0
if ! git -C "$target" rev-parse --git-dir >/dev/null 2>&1; then
    echo "$target is not inside a git repository: no hook installed (./install.sh path/to/repo)"
    exit 0
fi

# `tokenguard install` puts the shim where git runs hooks (`git rev-parse --git-path hooks`, so
# core.hooksPath and worktrees are honoured) and chains a hook that was already there.
(cd "$target" && "$bin" install)

# The main job, once now: what would the next commit add?
cd "$target"
exec "$bin" scan-staged
