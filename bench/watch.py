"""Timestamps text as it reaches a terminal, for bench/run's latency cases.

Usage (as a `tmux pipe-pane` command): python3 watch.py MARKERS LOG READY

Reads what the pane's program writes (the stream tmux parses for the screen) from
stdin. MARKERS is a file of UTF-8 markers, one a line; each time one appears in the
stream, a line `TIME INDEX` (time.time(), the marker's line number from 0) is appended
to LOG. READY is created once it listens. Markers that straddle two reads are found
too (the tail of the previous read is kept).
"""

import os
import sys
import time


def main():
    markers = [m.encode() for m in open(sys.argv[1], encoding="utf-8").read().split("\n") if m]
    log = open(sys.argv[2], "a")
    open(sys.argv[3], "w").close()
    keep = max(len(m) for m in markers) - 1
    tail = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return
        now = time.time()
        data = tail + chunk
        hits = []
        for i, m in enumerate(markers):
            # An occurrence wholly inside the kept tail was counted with the last read.
            start = max(len(tail) - len(m) + 1, 0)
            if data.find(m, start) >= 0:
                hits.append(f"{now:.6f} {i}\n")
        if hits:
            log.write("".join(hits))
            log.flush()
        tail = data[-keep:] if keep else b""


if __name__ == "__main__":
    main()
