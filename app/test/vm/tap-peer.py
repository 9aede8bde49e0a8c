#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Traffic peer on the host side of the device under test's tap netdev.

run.sh starts it inside the test's network namespace when the device under
test sits on a multi-queue tap (VV_DUT_NETDEV=tap). It sends every frame the
device transmits back to it with the MAC addresses swapped, so the flows
(and with them the tap queue and the device's Rx queue) are kept, and
counts them. The guest reads the counts from STATS (shared work dir) and
chooses the mode by writing MODE there: "reflect" (default) or "sink".

Usage: tap-peer.py IFNAME STATS MODE
"""
import os
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23


def write_stats(path, counts):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(" ".join("%s %d" % kv for kv in counts.items()) + "\n")
    os.replace(tmp, path)


def read_mode(path, current):
    try:
        with open(path) as f:
            mode = f.read().strip()
    except OSError:
        return current
    return mode if mode in ("reflect", "sink") else current


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ifname, stats, mode_file = sys.argv[1:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    # Our own reflections would otherwise come back to us as outgoing frames.
    s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.bind((ifname, 0))
    s.setblocking(False)
    counts = {"rx": 0, "tx": 0, "tx_err": 0}
    mode = "reflect"
    next_report = 0.0
    poller = select.poll()
    poller.register(s, select.POLLIN)
    while True:
        now = time.monotonic()
        if now >= next_report:
            mode = read_mode(mode_file, mode)
            write_stats(stats, counts)
            next_report = now + 0.1
        if not poller.poll(100):
            continue
        while True:
            try:
                frame = s.recv(65536)
            except BlockingIOError:
                break
            counts["rx"] += 1
            if mode != "reflect" or len(frame) < 14:
                continue
            try:
                s.send(frame[6:12] + frame[0:6] + frame[12:])
                counts["tx"] += 1
            except OSError:
                counts["tx_err"] += 1
            if counts["rx"] % 256 == 0:
                break


if __name__ == "__main__":
    main()
