#!/usr/bin/env bash
# The action's first step: puts a pinned tokenguard on PATH (GITHUB_PATH), checked before it
# runs: the release archive against the release's SHA256SUMS (and TOKENGUARD_SHA256 when
# given), or the wheel against TOKENGUARD_SHA256; then `tokenguard --version` must name the
# version asked for.
set -euo pipefail

version=${TOKENGUARD_VERSION#v}
mode=${TOKENGUARD_INSTALL:-release}
pinned=${TOKENGUARD_SHA256:-}
work="${RUNNER_TEMP:-$(mktemp -d)}/tokenguard-install"
rm -rf "$work" && mkdir -p "$work"

fail() { echo "::error title=tokenguard install::$*"; exit 2; }

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
    else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

check_pin() {
    [ -z "$pinned" ] || [ "$(sha256_of "$1")" = "$pinned" ] ||
        fail "$(basename "$1"): SHA-256 $(sha256_of "$1") is not the pinned $pinned"
}

# Sets `target`: the Rust target triple of the runner's release binary.
release_target() {
    case "${RUNNER_OS:-}-${RUNNER_ARCH:-}" in
        Linux-X64) target=x86_64-unknown-linux-gnu ;;
        Linux-ARM64) target=aarch64-unknown-linux-gnu ;;
        macOS-X64) target=x86_64-apple-darwin ;;
        macOS-ARM64) target=aarch64-apple-darwin ;;
        *) fail "no release binary for ${RUNNER_OS:-?} ${RUNNER_ARCH:-?}: use install: wheel" ;;
    esac
}

# Sets `dir`: the directory holding the checked release binary.
install_release() {
    local target base name expected actual
    release_target
    base=${TOKENGUARD_RELEASE_URL:-https://github.com/${GITHUB_ACTION_REPOSITORY:-$GITHUB_REPOSITORY}/releases/download}
    base="${base%/}/v$version"
    name="tokenguard-v$version-$target"
    curl -fsSL --retry 3 -o "$work/$name.tar.gz" "$base/$name.tar.gz" || fail "cannot download $base/$name.tar.gz"
    curl -fsSL --retry 3 -o "$work/SHA256SUMS" "$base/SHA256SUMS" || fail "cannot download $base/SHA256SUMS"
    expected=$(awk -v f="$name.tar.gz" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS")
    [ -n "$expected" ] || fail "SHA256SUMS of v$version lists no $name.tar.gz"
    actual=$(sha256_of "$work/$name.tar.gz")
    [ "$actual" = "$expected" ] || fail "$name.tar.gz: SHA-256 $actual does not match SHA256SUMS ($expected)"
    check_pin "$work/$name.tar.gz"
    tar -xzf "$work/$name.tar.gz" -C "$work"
    [ -x "$work/$name/tokenguard" ] || fail "$name.tar.gz holds no $name/tokenguard"
    dir="$work/$name"
}

# Sets `dir`: the bin directory of a virtualenv holding the checked wheel.
install_wheel() {
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --dest "$work/wheel" "tokenguard-hook==$version" >&2 || fail "cannot download tokenguard-hook==$version"
    local wheel
    wheel=$(ls "$work"/wheel/*.whl)
    check_pin "$wheel"
    python3 -m venv "$work/venv" >&2
    "$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index --no-deps "$wheel" >&2
    dir="$work/venv/bin"
}

case "$mode" in
    release) install_release ;;
    wheel) install_wheel ;;
    path)
        found=$(command -v tokenguard) || fail "install: path, but no tokenguard on PATH"
        dir=$(dirname "$found") ;;
    *) fail "install: $mode is not one of release, wheel, path" ;;
esac

installed=$("$dir/tokenguard" --version)
[ "$installed" = "tokenguard $version" ] || fail "$dir/tokenguard is $installed, not tokenguard $version"
echo "$dir" >> "$GITHUB_PATH"
echo "bin=$dir/tokenguard" >> "$GITHUB_OUTPUT"
echo "installed $installed ($mode) in $dir"
