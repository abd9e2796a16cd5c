#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reports on samples from profile-sampler.py.

    profile-report.py SYSTEM_MAP MODULE_KO MODULE_BASE SAMPLES [--top N]
                      [--callers FUNCTION] PHASE [PHASE...]

Names each sample's function from the kernel's System.map and the
module's symbol table (MODULE_BASE: the module's .text address in the
guest; the JIT's arena shows as "[jit code]", user space as "[user]"),
then prints for each PHASE the share of samples per class (idle, user,
kernel, module) and the top N functions; with two phases, also the
functions whose sample counts differ most. With --callers, the most
frequent callers (from the stack words the sampler found) of FUNCTION.
"""

import argparse
import bisect
import collections
import re
import subprocess


def demangle(name):
    """A short readable form of a Rust v0 symbol (its path idents)."""
    if not name.startswith("_R"):
        return name
    idents = re.findall(r"\d+([A-Za-z_][A-Za-z0-9_]*)", name)
    return "::".join(i for i in idents if not i.startswith("Cs"))[-70:]


class Symbols:
    def __init__(self, system_map, module, base):
        table = []
        self.etext = 0
        for line in open(system_map):
            addr, kind, name = line.split()[:3]
            if kind in "tTwW":
                table.append((int(addr, 16), name))
            if name == "_etext":
                self.etext = int(addr, 16)
        elf = subprocess.run(["readelf", "-sW", "-SW", module], capture_output=True, text=True).stdout
        text_index = None
        for line in elf.splitlines():
            m = re.match(r"\s*\[\s*(\d+)\]\s+\.text\s", line)
            if m:
                text_index = m.group(1)
        for line in elf.splitlines():
            f = line.split()
            if len(f) >= 8 and f[3] in ("FUNC", "NOTYPE") and f[6] == text_index and not f[7].startswith((".L", "$")):
                table.append((base + int(f[1], 16), "[m]" + demangle(f[7])))
        table.sort()
        self.addrs = [a for a, _ in table]
        self.names = [n for _, n in table]

    def name(self, addr):
        if addr < 0x800000000000:
            return "[user]"
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            return "?"
        name = self.names[i]
        return "[jit code]" if name == "[m]cervus_jit_arena" else name

    def is_text(self, addr):
        return addr < self.etext or addr >= 0xFFFFFFFFA0000000


def kind(name):
    if name in ("pv_native_safe_halt", "default_idle"):
        return "idle"
    if name == "[user]":
        return "user"
    if name.startswith("[m]") or name == "[jit code]":
        return "module"
    return "kernel"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("system_map")
    p.add_argument("module")
    p.add_argument("base")
    p.add_argument("samples")
    p.add_argument("phases", nargs="+")
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--callers")
    a = p.parse_args()
    syms = Symbols(a.system_map, a.module, int(a.base, 16))
    counts = collections.defaultdict(collections.Counter)
    callers = collections.defaultdict(collections.Counter)
    for line in open(a.samples):
        phase, _cpu, rip, chain = line.split()
        if phase not in a.phases:
            continue
        name = syms.name(int(rip, 16))
        counts[phase][name] += 1
        if a.callers and name == a.callers and chain != "-":
            seq = []
            for word in chain.split(","):
                addr = int(word, 16)
                caller = syms.name(addr) if syms.is_text(addr) else None
                if caller and caller not in seq:
                    seq.append(caller)
            callers[phase][" < ".join(seq[:5])] += 1
    for phase in a.phases:
        total = sum(counts[phase].values()) or 1
        classes = collections.Counter()
        for name, n in counts[phase].items():
            classes[kind(name)] += n
        shares = ", ".join("%s %.0f%%" % (k, 100 * classes[k] / total) for k in ("idle", "user", "kernel", "module"))
        print("== %s: %d samples (%s)" % (phase, total, shares))
        for name, n in counts[phase].most_common(a.top):
            print("%6d %5.1f%%  %s" % (n, 100 * n / total, name))
        if a.callers:
            print("-- callers of %s" % a.callers)
            for chain, n in callers[phase].most_common(8):
                print("%6d  %s" % (n, chain))
        print()
    if len(a.phases) == 2:
        first, second = (counts[ph] for ph in a.phases)
        print("== largest differences (%s, %s)" % tuple(a.phases))
        names = sorted(set(first) | set(second), key=lambda n: abs(second[n] - first[n]), reverse=True)
        for name in names[:a.top]:
            print("%6d %6d  %s" % (first[name], second[name], name))


if __name__ == "__main__":
    main()
