#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Records QEMU's own profile (host side) per guest phase, with perf.

    host-profile-recorder.py MARKERS OUT

Waits for the QEMU process whose command line names the file MARKERS (a
QEMU file chardev behind a second serial port, to which the guest writes
"PROF-PHASE NAME" lines), then, until QEMU exits (or the guest writes "PROF-PHASE end"),
records QEMU's threads with `perf record` (software clock, 1999 Hz, no call
graphs) while a phase other than "idle" runs: one file per phase and round,
OUT/NAME.N.data. Under TCG, QEMU's time splits into translated guest code
(perf's "[JIT]"), QEMU's helpers (softmmu TLB fills, translation-block
lookups, device emulation) and the host kernel: the split and the helpers
show costs that the guest's own profile (profile-sampler.py) cannot tell
apart from the guest code that caused them.
"""

import glob
import os
import signal
import subprocess
import sys
import time


def qemu_pid(markers):
    """The QEMU process that writes to `markers`, or None."""
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            argv = open(path, "rb").read().split(b"\0")
        except OSError:
            continue
        if b"qemu-system" in os.path.basename(argv[0]) and any(markers.encode() in a for a in argv):
            return path.split("/")[2]
    return None


def main():
    markers, out = sys.argv[1:3]
    deadline = time.time() + 120
    pid = None
    while pid is None:
        if time.time() > deadline:
            sys.exit("host-profile-recorder: no QEMU process found")
        time.sleep(0.1)
        pid = qemu_pid(markers)
    rounds = {}
    recorder = None
    seen = 0
    while os.path.exists("/proc/" + pid):
        try:
            lines = open(markers).read().splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines[seen:]:
            if not line.startswith("PROF-PHASE "):
                continue
            phase = line.split()[1]
            if recorder:
                recorder.send_signal(signal.SIGINT)
                recorder.wait()
                recorder = None
            if phase == "end":
                return
            if phase != "idle":
                rounds[phase] = rounds.get(phase, 0) + 1
                recorder = subprocess.Popen(
                    ["perf", "record", "-q", "-e", "cpu-clock", "-F", "1999", "-p", pid,
                     "-o", "%s/%s.%d.data" % (out, phase, rounds[phase])],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = len(lines)
        time.sleep(0.01)
    if recorder:
        recorder.send_signal(signal.SIGINT)
        recorder.wait()


if __name__ == "__main__":
    main()
