#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Traffic peer on the host side of the device under test's tap netdev.

run.sh starts it inside the test's network namespace when the device under
test sits on a multi-queue tap (VV_DUT_NETDEV=tap). It sends every frame the
device transmits back to it with the MAC addresses swapped, so the flows
(and with them the tap queue and the device's Rx queue) are kept, and
counts them, the RARP frames among them (link announcements), and the frames
lost on the way: in our socket's queue, and in the tap's queue toward QEMU. The guest reads the counts from STATS (shared work dir) and
chooses the mode by writing MODE there: "reflect" (default), "sink", or
"tag VID": reflect with an 802.1Q tag of VLAN VID inserted.

Usage: tap-peer.py IFNAME STATS MODE
"""
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_IGNORE_OUTGOING = 23


def socket_drops(s):
    """Frames the kernel dropped for want of room in our socket (since the last call)."""
    packets, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    return drops


def tap_tx_dropped(ifname):
    """Frames the tap dropped on their way to QEMU (its queue toward a slower reader was full)."""
    try:
        with open("/sys/class/net/%s/statistics/tx_dropped" % ifname) as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0


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
    if mode in ("reflect", "sink"):
        return mode
    parts = mode.split()
    if len(parts) == 2 and parts[0] == "tag" and parts[1].isdigit() and int(parts[1]) < 4096:
        return mode
    return current


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
    # rx_drop: lost before we read them; tap_drop: reflected, lost before QEMU.
    counts = {"rx": 0, "tx": 0, "tx_err": 0, "rarp": 0, "rx_drop": 0, "tap_drop": 0}
    tap_drop0 = tap_tx_dropped(ifname)
    mode = "reflect"
    tag = b""
    next_report = 0.0
    poller = select.poll()
    poller.register(s, select.POLLIN)
    while True:
        now = time.monotonic()
        if now >= next_report:
            mode = read_mode(mode_file, mode)
            counts["rx_drop"] += socket_drops(s)
            counts["tap_drop"] = tap_tx_dropped(ifname) - tap_drop0
            tag = b""
            if mode.startswith("tag "):
                tag = b"\x81\x00" + int(mode.split()[1]).to_bytes(2, "big")
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
            if frame[12:14] == b"\x80\x35":
                counts["rarp"] += 1
            if mode != "sink" and len(frame) >= 14:
                try:
                    s.send(frame[6:12] + frame[0:6] + tag + frame[12:])
                    counts["tx"] += 1
                except OSError:
                    counts["tx_err"] += 1
            # Back to the stats and the mode file now and then, even in a flood.
            if counts["rx"] % 256 == 0:
                break


if __name__ == "__main__":
    main()
