#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reports on the host profiles host-profile-recorder.py wrote.

    host-profile-report.py DIR QEMU_BINARY BASE_PHASE PHASE [--top N]

Sums each phase's rounds (DIR/PHASE.N.data) and prints, for BASE_PHASE and
PHASE, QEMU's samples split into translated guest code, QEMU itself and
the host kernel, then QEMU's and the host kernel's functions whose sample
counts differ most between the two phases. Both phases move the same
bytes, so their counts compare directly. QEMU's binary is stripped: code
without a dynamic symbol (static functions) is named after the nearest
dynamic symbol before it, as "SYMBOL+", which may belong to the file
before (disassemble to tell).
"""

import argparse
import bisect
import collections
import glob
import subprocess


class QemuSymbols:
    """Names addresses in QEMU's binary by its dynamic symbols."""

    def __init__(self, binary):
        table = []
        out = subprocess.run(["nm", "-D", "--defined-only", binary], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                table.append((int(parts[0], 16), parts[2]))
        table.sort()
        self.addrs = [a for a, _ in table]
        self.names = [n for _, n in table]

    def name(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        return self.names[i] + "+" if i >= 0 else "?"


def classify(dso):
    if dso.startswith("[JIT]"):
        return "guest code"
    if dso.startswith("[kernel"):
        return "host kernel"
    return "qemu"


def load(paths, symbols):
    """Sample counts per (class, function) over the files in `paths`."""
    counts = collections.Counter()
    for path in paths:
        out = subprocess.run(["perf", "report", "-i", path, "--sort", "dso,sym", "-F", "sample,dso,sym",
                              "-t", "|", "--stdio"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("#") or line.count("|") != 2:
                continue
            n, dso, sym = (f.strip() for f in line.split("|"))
            cls = classify(dso)
            sym = sym.split(" ", 1)[-1]
            if cls == "guest code":
                sym = "[translated guest code]"
            elif sym.startswith("0x") and "qemu-system" in dso:
                sym = symbols.name(int(sym, 16))
            counts[(cls, sym)] += int(n)
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("qemu")
    parser.add_argument("base")
    parser.add_argument("phase")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    symbols = QemuSymbols(args.qemu)
    phases = {}
    for phase in (args.base, args.phase):
        paths = sorted(glob.glob("%s/%s.*.data" % (args.dir, phase)))
        if not paths:
            raise SystemExit("host-profile-report: no profile of %s in %s" % (phase, args.dir))
        phases[phase] = load(paths, symbols)
    a, b = phases[args.base], phases[args.phase]
    print("== QEMU's host samples: %s, %s" % (args.base, args.phase))
    for cls in ("guest code", "qemu", "host kernel"):
        na = sum(n for (c, _), n in a.items() if c == cls)
        nb = sum(n for (c, _), n in b.items() if c == cls)
        print("   %-12s %7d %7d  %5.2fx" % (cls, na, nb, nb / na if na else float("inf")))
    na, nb = sum(a.values()), sum(b.values())
    print("   %-12s %7d %7d  %5.2fx" % ("total", na, nb, nb / na if na else float("inf")))
    print("== largest differences (%s, %s)" % (args.base, args.phase))
    keys = [k for k in set(a) | set(b) if k[0] != "guest code"]
    keys.sort(key=lambda k: -abs(b[k] - a[k]))
    for cls, sym in keys[:args.top]:
        print("   %6d %6d  %-11s %s" % (a[(cls, sym)], b[(cls, sym)], cls, sym))


if __name__ == "__main__":
    main()
