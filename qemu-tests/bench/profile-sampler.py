#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sampling profiler for a QEMU guest, through QEMU's gdbstub.

    profile-sampler.py PORT MARKERS OUT

Connects to the gdbstub on 127.0.0.1:PORT, then until QEMU exits: stops
the VM every ~10 ms, reads each vCPU's instruction pointer and, for kernel
code, the kernel text addresses found on the top 768 bytes of its stack
(likely return addresses: a cheap stand-in for an unwinder), lets the VM
go on, and writes one line per vCPU:

    PHASE CPU RIP CALLERS

CALLERS is a comma-separated list of hex addresses ("-" if none). PHASE
is the last word the guest wrote after "PROF-PHASE " to the file MARKERS
(a QEMU file chardev behind a second serial port: unbuffered, unlike the
console). Under TCG a sample is where a vCPU's thread spends wall time, so
a vCPU halted in idle shows as the idle function; stopping the VM pauses
its clocks, so the guest sees little of the sampling.
"""

import re
import socket
import sys
import time

# Kernel text ranges that may hold return addresses (bench kernel with
# nokaslr; module text is in the module area).
KERNEL_TEXT = (0xFFFFFFFF81000000, 0xFFFFFFFF83000000)
MODULE_TEXT = (0xFFFFFFFFA0000000, 0xFFFFFFFFC0000000)
# Kernel stacks (vmalloc, with 4- or 5-level paging) are above this.
KERNEL_DATA = 0xFF00000000000000
STACK_BYTES = 768
PERIOD = 0.01


class Stub:
    """A minimal GDB remote-protocol client (acknowledged mode)."""

    def __init__(self, port):
        for _ in range(600):
            try:
                self.sock = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("profile-sampler: no gdbstub on port %d" % port)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        # QEMU stops the VM on connection and may send a stop reply
        # unasked: drop whatever comes first.
        time.sleep(0.5)
        self.sock.setblocking(False)
        try:
            while self.sock.recv(65536):
                pass
        except BlockingIOError:
            pass
        self.sock.setblocking(True)
        self.sock.sendall(b"+")

    def packet(self):
        """The next packet's payload (acknowledged)."""
        while True:
            start = self.buf.find(b"$")
            end = self.buf.find(b"#", start) if start >= 0 else -1
            if end >= 0 and len(self.buf) >= end + 3:
                data = self.buf[start + 1:end]
                self.buf = self.buf[end + 3:]
                self.sock.sendall(b"+")
                return data.decode()
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def send(self, data, reply=True):
        raw = data.encode()
        self.sock.sendall(b"$%s#%02x" % (raw, sum(raw) % 256))
        return self.packet() if reply else None

    def stop_reply(self):
        while True:
            reply = self.packet()
            if reply.startswith(("T", "S")):
                return
            if reply.startswith(("W", "X")):
                raise EOFError

    def registers(self, thread):
        """(rip, rsp) of `thread`."""
        self.send("Hg" + thread)
        regs = self.send("g")
        if len(regs) < 272:
            return 0, 0
        value = lambda i: int.from_bytes(bytes.fromhex(regs[16 * i:16 * i + 16]), "little")
        return value(16), value(7)

    def memory(self, addr, length):
        """Up to `length` bytes at `addr`, stopping at an unreadable page."""
        out = b""
        while len(out) < length:
            n = min(length - len(out), 4096 - (addr & 4095))
            reply = self.send("m%x,%x" % (addr, n))
            if not reply or reply.startswith("E"):
                break
            out += bytes.fromhex(reply)
            addr += n
        return out


def text_address(word):
    return KERNEL_TEXT[0] <= word < KERNEL_TEXT[1] or MODULE_TEXT[0] <= word < MODULE_TEXT[1]


def main():
    port, markers, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    stub = Stub(port)
    stub.send("qSupported")
    stub.send("?", reply=False)
    stub.stop_reply()
    threads = []
    reply = stub.send("qfThreadInfo")
    while reply.startswith("m"):
        threads += reply[1:].split(",")
        reply = stub.send("qsThreadInfo")
    phase, seen, samples = "boot", 0, 0
    with open(out, "w", buffering=1) as sink:
        try:
            while True:
                for cpu, thread in enumerate(threads):
                    rip, rsp = stub.registers(thread)
                    callers = []
                    if rip >= KERNEL_DATA and rsp >= KERNEL_DATA:
                        stack = stub.memory(rsp, STACK_BYTES)
                        for at in range(0, len(stack) - 7, 8):
                            word = int.from_bytes(stack[at:at + 8], "little")
                            if text_address(word):
                                callers.append("%x" % word)
                    sink.write("%s %d %x %s\n" % (phase, cpu, rip, ",".join(callers[:12]) or "-"))
                samples += 1
                stub.send("c", reply=False)
                with open(markers, "rb") as f:
                    f.seek(seen)
                    new = f.read()
                complete = new.rfind(b"\n") + 1
                seen += complete
                for m in re.finditer(rb"PROF-PHASE (\S+)", new[:complete]):
                    phase = m.group(1).decode()
                time.sleep(PERIOD)
                stub.sock.sendall(b"\x03")
                stub.stop_reply()
        except (EOFError, OSError):
            pass
    print("profile-sampler: %d samples of %d vCPUs" % (samples, len(threads)), file=sys.stderr)


if __name__ == "__main__":
    main()
