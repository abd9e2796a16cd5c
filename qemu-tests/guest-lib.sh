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

# now_cs: the time since boot, in centiseconds.
now_cs() {
    cut -d' ' -f1 /proc/uptime | tr -d .
}

# as_user COMMAND...: runs COMMAND as uid/gid 1000.
as_user() {
    ./run-as 1000 "$@"
}

# wait_for_instance NAME: waits (up to 10 s) until `cvctl ps` lists NAME;
# prints its id.
wait_for_instance() {
    i=0
    while [ $i -lt 100 ]; do
        id=$(cvctl ps | awk -v n="$1" '$2 == n { print $1 }' | head -n1)
        if [ -n "$id" ]; then
            echo "$id"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
