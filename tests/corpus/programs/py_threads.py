"""A Python interpreter churning threading.Thread, one thread after another, as Python code
does: each thread builds some objects and ends; nothing here knows about tlsleak.

    python3 py_threads.py THREADS plain|local|local_leak

plain: no thread-local state.
local: each thread keeps its state in a threading.local (a dict per thread that CPython drops
when the thread's state is cleared at its exit): a bytearray and an object whose finaliser
runs then; memory stays flat.
local_leak, the leaking twin: that finaliser allocates a 2 KiB block with the C library's
malloc (through ctypes) and never frees it, so memory grows by about 2 KiB per thread.
"""
import ctypes
import sys
import threading

KEEP = 2048
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
state = threading.local()


class Finalised:
    """Thread-local state with a finaliser: it runs when the thread's locals are dropped."""

    def __init__(self, leak):
        self.leak = leak
        self.payload = [str(i) for i in range(32)]

    def __del__(self):
        if self.leak:
            block = libc.malloc(KEEP)
            ctypes.memset(block, 0x5A, KEEP)  # resident, not just reserved


def body(mode, i):
    words = {f"k{j}": j * i for j in range(32)}
    text = ",".join(map(str, words.values()))
    if mode != "plain":
        state.data = bytearray(text.encode() * 4)
        state.finalised = Finalised(mode == "local_leak")


def main(argv):
    if len(argv) != 3 or argv[2] not in ("plain", "local", "local_leak"):
        sys.stderr.write(f"usage: {argv[0]} THREADS plain|local|local_leak\n")
        return 2
    mode = argv[2]
    for i in range(int(argv[1])):
        t = threading.Thread(target=body, args=(mode, i))
        t.start()
        t.join()
    print(f"py_threads: {argv[1]} threads ({mode})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
