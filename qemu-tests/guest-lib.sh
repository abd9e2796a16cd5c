# SPDX-License-Identifier: GPL-2.0
# Helpers for scenarios, sourced in the guest: `. ./guest-lib.sh`.
# Every check prints one line; the first failed check ends the scenario.

# fail MESSAGE: end the scenario.
fail() {
    echo "FAIL: $*"
    exit 1
}

# ok MESSAGE: report a passed check.
ok() {
    echo "ok - $*"
}

# expect_status N DESCRIPTION -- COMMAND...: run COMMAND, output to
# $out/$err files (out, err), and require exit status N.
expect_status() {
    want=$1; what=$2; shift 3
    "$@" > out 2> err
    got=$?
    if [ "$got" != "$want" ]; then
        echo "stdout:"; cat out; echo "stderr:"; cat err
        fail "$what: exit status $got, wanted $want"
    fi
    ok "$what (exit $got)"
}

# expect_file_eq FILE EXPECTED DESCRIPTION: FILE must equal EXPECTED.
expect_file_eq() {
    if ! cmp -s "$1" "$2"; then
        echo "got:"; cat "$1"; echo "wanted:"; cat "$2"
        fail "$3"
    fi
    ok "$3"
}

# expect_grep PATTERN FILE DESCRIPTION: FILE must contain PATTERN (grep -E).
expect_grep() {
    if ! grep -Eq -- "$1" "$2"; then
        echo "$2:"; cat "$2"
        fail "$3: /$1/ not found"
    fi
    ok "$3"
}

# cvctl_info KEY: one value of `cvctl info`.
cvctl_info() {
    cvctl info | sed -n "s/^$1: //p"
}
