#!/usr/bin/env bash
# The action's second step: picks what to scan from the event (GITHUB_EVENT_NAME and the
# payload at GITHUB_EVENT_PATH), runs tokenguard with the SARIF and JSON reports written to
# files and the human report in the log, and sets the step's outputs.
#   pull_request(_target): base.sha..head.sha
#   push: before..after; a branch's first push (before all zeros, or a before the clone lacks
#         after a force push): the commits of after that no other branch of origin has;
#         a deleted branch: nothing
#   any other event: every file of HEAD
set -euo pipefail

event=${GITHUB_EVENT_NAME:?}
payload=${GITHUB_EVENT_PATH:?}
sarif=${TOKENGUARD_SARIF_FILE:-tokenguard.sarif}
json="${RUNNER_TEMP:-$(mktemp -d)}/tokenguard-report.json"
zero=0000000000000000000000000000000000000000

fail() { echo "::error title=tokenguard::$*"; exit 2; }
field() { jq -r "$1 // empty" "$payload"; }
have_commit() { git cat-file -e "$1^{commit}" 2>/dev/null; }

if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    fail "the checkout is shallow: set fetch-depth: 0 on actions/checkout, so that the range's base is there"
fi

command=(scan-range)
case "$event" in
    pull_request | pull_request_target)
        base=$(field .pull_request.base.sha)
        head=$(field .pull_request.head.sha)
        [ -n "$base" ] && [ -n "$head" ] || fail "the $event payload names no base.sha and head.sha"
        for commit in "$base" "$head"; do
            have_commit "$commit" || fail "commit $commit is not in the checkout: set fetch-depth: 0 on actions/checkout"
        done
        range=("$base..$head")
        ;;
    push)
        before=$(field .before)
        after=$(field .after)
        ref=$(field .ref)
        if [ "$(field .deleted)" = true ] || [ "$after" = "$zero" ]; then
            echo "tokenguard: $ref was deleted: nothing to scan"
            range=()
        elif [ -n "$before" ] && [ "$before" != "$zero" ] && have_commit "$before"; then
            range=("$before..$after")
        else
            if [ -n "$before" ] && [ "$before" != "$zero" ]; then
                echo "tokenguard: the previous tip $before is not in the checkout (a force push?): scanning what no other branch has"
            fi
            have_commit "$after" || fail "commit $after is not in the checkout"
            # What the branch brings that origin's other branches do not have already.
            range=("$after" --not --exclude="origin/${ref#refs/heads/}" --remotes=origin)
        fi
        ;;
    *)
        command=(scan-tree)
        range=(HEAD)
        ;;
esac

if [ "${command[0]}" = scan-range ] && [ ${#range[@]} -eq 0 ]; then
    status=0 findings=0 range_text=""
    : > "$json"
else
    range_text="${range[*]}"
    [ "${command[0]}" = scan-tree ] && range_text="tree HEAD"
    echo "tokenguard: scanning $range_text"
    status=0
    tokenguard "${command[@]}" "${range[@]}" --output "sarif:$sarif" --output "json:$json" || status=$?
    [ "$status" -le 1 ] || fail "the scan failed (exit $status): see the message above"
    findings=$(jq '.findings | length' "$json")
fi

if [ -f "$sarif" ]; then
    echo "sarif-file=$sarif" >> "$GITHUB_OUTPUT"
fi
echo "range=$range_text" >> "$GITHUB_OUTPUT"
echo "findings=$findings" >> "$GITHUB_OUTPUT"

if [ "$status" -eq 1 ]; then
    echo "::error title=tokenguard::$findings secret(s) found in $range_text: see the report above; the commits must be rewritten, and the tokens rotated"
    [ "${TOKENGUARD_FAIL_ON_FINDINGS:-true}" = false ] || exit 1
fi
