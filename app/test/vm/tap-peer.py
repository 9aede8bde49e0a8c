#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Traffic peer on the host side of the device under test's tap netdev.

run.sh starts it inside the test's network namespace when the device under
test sits on a multi-queue tap (VV_DUT_NETDEV=tap). It sends every frame the
device transmits back to it with the MAC addresses swapped, so the flows
(and with them the tap queue and the device's Rx queue) are kept, and
counts them, the RARP frames among them (link announcements), and the frames
lost on the way: in our socket's queue, and in the tap's queue toward QEMU. The guest reads the counts from STATS (shared work dir) and
chooses the mode by writing MODE there: "reflect" (default), "sink",
"tag VID": reflect with an 802.1Q tag of VLAN VID inserted, or "flows N":
send N UDP/IPv4 frames to the device, each of a flow of its own, once,
and sink; STATS.flows then lists the Toeplitz hash of each flow's IPv4
addresses under the default RSS key, as the device must report it; or
"loop N": send those N frames once and reflect (a closed loop).

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
    if len(parts) == 2 and parts[0] in ("flows", "loop") and parts[1].isdigit() and int(parts[1]) <= 4096:
        return mode
    return current


DUT_MAC = bytes.fromhex("525400000101")
PEER_MAC = bytes.fromhex("02000000aa01")


def ip_checksum(hdr):
    total = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# The Toeplitz key of Microsoft's RSS verification suite: the driver's default.
RSS_KEY = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da3"
                        "8030f20c6a42b73bbeac01fa")


def toeplitz(key, data):
    k = int.from_bytes(key, "big")
    shift = len(key) * 8 - 32
    h = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                h ^= (k >> (shift - i * 8 - b)) & 0xFFFFFFFF
    return h


def flow_src(i):
    return bytes([10, 1, (i >> 8) & 0xFF, i & 0xFF])


FLOW_DST = bytes([10, 0, 0, 1])


def flow_frame(i):
    """A 60-byte UDP/IPv4 frame of flow i: 10.1.x.y:(1024 + i) to 10.0.0.1:4789."""
    payload = b"\x00" * 18
    udp = struct.pack("!HHHH", 1024 + i, 4789, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                     flow_src(i), FLOW_DST)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return DUT_MAC + PEER_MAC + b"\x08\x00" + ip + udp


def send_flows(s, n, expect_path, counts):
    with open(expect_path + ".tmp", "w") as f:
        for i in range(n):
            f.write("%d 0x%x\n" % (i, toeplitz(RSS_KEY, flow_src(i) + FLOW_DST)))
    os.replace(expect_path + ".tmp", expect_path)
    for i in range(n):
        try:
            s.send(flow_frame(i))
            counts["tx"] += 1
        except OSError:
            counts["tx_err"] += 1


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
            new_mode = read_mode(mode_file, mode)
            if new_mode != mode and new_mode.split()[0] in ("flows", "loop"):
                send_flows(s, int(new_mode.split()[1]), stats + ".flows", counts)
            mode = new_mode
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
            if (mode == "reflect" or mode.split()[0] in ("tag", "loop")) and len(frame) >= 14:
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
