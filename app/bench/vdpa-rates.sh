#!/bin/sh
# Packet rates of our driver and DPDK 22.11's net_virtio_user on the same
# real vhost-vdpa device (the test VM's VDUSE device; qemu TCG, so absolute
# numbers are far below hardware). Interleaved and repeated; prints the
# median, min and max of each and the ratio ours/ref, and writes JSON.
#
#   app/bench/vdpa-rates.sh [--reps N] [--secs S] [--json FILE] [--build-dir DIR]
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
reps=5
secs=3
json=
build=$SRC/build
while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=$2; shift 2 ;;
	--secs) secs=$2; shift 2 ;;
	--json) json=$2; shift 2 ;;
	--build-dir) build=$2; shift 2 ;;
	*) echo "usage: $0 [--reps N] [--secs S] [--json FILE] [--build-dir DIR]" >&2; exit 2 ;;
	esac
done
work=$(mktemp -d "${TMPDIR:-/tmp}/vv-rates.XXXXXX")
VV_REPS=$reps VV_SECS=$secs VV_PLUGIN="$build/drivers/librte_net_virtio_vdpa.so" \
	"$SRC/app/test/vm/run.sh" --quiet --build-dir "$build" \
	--timeout $((reps * 4 * (secs + 25) + 120)) --work-dir "$work" \
	"$SRC/app/bench/vdpa-rates-guest.sh"
python3 - "$work/rates.txt" "${json:-$work/rates.json}" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
data = {}
for case, drv, rep, n, secs in rows:
    data.setdefault(case, {}).setdefault(drv, []).append(int(n) / float(secs))
out = {}
print(f"{'case':<34}{'ours Mpps (min-max)':>26}{'ref Mpps (min-max)':>26}{'ours/ref':>10}")
names = {"tx": "driver txonly -> device rxonly", "rx": "device txonly -> driver rxonly"}
for case in ("tx", "rx"):
    d = data.get(case, {})
    res = {}
    for drv in ("ours", "ref"):
        v = d.get(drv, [])
        res[drv] = {"runs": len(v), "median_mpps": statistics.median(v) / 1e6 if v else None,
                    "min_mpps": min(v) / 1e6 if v else None, "max_mpps": max(v) / 1e6 if v else None}
    o, r = res["ours"]["median_mpps"], res["ref"]["median_mpps"]
    ratio = o / r if o and r else None
    res["ratio"] = ratio
    out[case] = res
    fmt = lambda x: f"{x['median_mpps']:.3f} ({x['min_mpps']:.3f}-{x['max_mpps']:.3f})" if x["median_mpps"] else "n/a"
    print(f"{names[case]:<34}{fmt(res['ours']):>26}{fmt(res['ref']):>26}{(f'{ratio:.2f}' if ratio else 'n/a'):>10}")
json.dump(out, open(sys.argv[2], "w"), indent=2)
print(f"json: {sys.argv[2]}")
PY
