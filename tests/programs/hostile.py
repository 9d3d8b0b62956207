#!/usr/bin/env python3
"""A program that misbehaves on purpose, for the harness's reliability tests and soak:
    hostile.py MODE [N]
    hostile.py gate FIFO
    hostile.py escape_gate FIFO
Each mode does what its name says; checkpoint lines follow docs/DESIGN.md "Checkpoint line format". `gate`
waits until someone opens FIFO for writing, then ends flat: a cell that lasts until the test
lets it go (tests/integration/procs.py release()). `escape_gate` leaves a grandchild in a
session of its own (setsid), hanging, first.
"""
import os
import sys
import time

MIB = 1 << 20


def cp(done, rss, **extra):
    fields = " ".join(f"{k}={v}" for k, v in extra.items())
    print(f"TLSLEAK/1 cp done={done} t_ns={time.monotonic_ns()} rss={rss} {fields}".rstrip(),
          flush=True)


def start(threads):
    print(f"TLSLEAK/1 start scenario=hostile tls=none threads={threads} concurrency=1 size=1024 "
          f"interval=1 pid={os.getpid()} os=linux", flush=True)


def checkpoints(n, value_of):
    start(n)
    for i in range(n + 1):
        cp(i, value_of(i))
    print(f"TLSLEAK/1 end done={n} status=ok", flush=True)


def hang_forever():
    while True:
        time.sleep(3600)


MODES = {
    # One value of 400 digits: a valid integer token no 64-bit figure can hold.
    "bigint": lambda n: checkpoints(n, lambda i: "9" * 400 if i == n // 2 else 4 * MIB),
    # Values no memory figure can take.
    "negative": lambda n: checkpoints(n, lambda i: -4096 if i % 7 == 3 else 4 * MIB),
    "nan": lambda n: checkpoints(n, lambda i: "nan" if i % 5 == 1 else 4 * MIB),
    "inf": lambda n: checkpoints(n, lambda i: "1e309" if i % 5 == 1 else 4 * MIB),
    # n MiB on one line without a newline, then nothing.
    "long_line": lambda n: (sys.stdout.write("x" * (n * MIB)), sys.stdout.flush()),
    # n MiB of stderr.
    "stderr_flood": lambda n: [sys.stderr.write("e" * 1023 + "\n") for _ in range(n * 1024)],
    # n checkpoints, flat.
    "many_checkpoints": lambda n: checkpoints(n, lambda i: 4 * MIB),
    # Holds n MiB, flat, printing checkpoints for a few seconds: a big program, no leak.
    "flat_big": lambda n: _flat_big(n),
    # Leaves a grandchild in its own session (setsid), hanging, then hangs itself.
    "setsid_escape": lambda n: _setsid_escape(),
    "hang": lambda n: hang_forever(),
}


def _flat_big(mib):
    block = bytearray(mib * MIB)
    for i in range(0, len(block), 4096):
        block[i] = 1
    start(200)
    rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    for i in range(201):
        cp(i, rss)
        time.sleep(0.01)
    print("TLSLEAK/1 end done=200 status=ok", flush=True)


def _escaped():
    os.setsid()
    print(f"hostile: escaped pid {os.getpid()}", file=sys.stderr, flush=True)
    hang_forever()


def _setsid_escape():
    if os.fork() == 0:
        _escaped()
    hang_forever()


def _gate(fifo, escape=False):
    if escape and os.fork() == 0:
        _escaped()
    with open(fifo, "rb") as gate:  # blocks until a writer opens it
        gate.read()
    checkpoints(200, lambda i: 4 * MIB)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode in ("gate", "escape_gate"):
        sys.exit(_gate(sys.argv[2], escape=mode == "escape_gate"))
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    MODES[mode](n)
