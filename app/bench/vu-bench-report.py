#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Summaries for vu-bench.sh: terminal table, JSON and an SVG bar chart.

Standard library only: the benchmark must run on a bare Debian machine.

  vu-bench-report.py --runs runs.tsv --params params.json --json OUT --svg OUT
  vu-bench-report.py --ir CALLGRIND-FILE "vu-cost: ..." "using ... path;..."
"""
import argparse
import json
import statistics
import sys
from xml.sax.saxutils import escape

CASES = {
    "tx": "driver txonly -> peer rxonly",
    "rx": "peer txonly -> driver rxonly",
    "loop": "driver io <-> peer loop",
}
PATHS = {
    "default": "mrg_rxbuf=1,in_order=1",
    "inorder": "mrg_rxbuf=0,in_order=1",
    "nomrg": "mrg_rxbuf=0,in_order=0",
    "mrg": "mrg_rxbuf=1,in_order=0",
    "packed": "packed_vq=1,mrg_rxbuf=1,in_order=1",
    "packed_inorder": "packed_vq=1,mrg_rxbuf=0,in_order=1",
    "packed_nomrg": "packed_vq=1,mrg_rxbuf=0,in_order=0",
}
SLOTS = ("ours", "ref")

# DPDK 22.11's virtio PMD logs which burst function it picked
# (set_rxtx_funcs); its library is stripped, so callgrind only knows an
# address. The log names it.
REF_FUNCS = {
    "inorder Rx": "virtio_recv_pkts_inorder",
    "mergeable buffer Rx": "virtio_recv_mergeable_pkts",
    "standard Rx": "virtio_recv_pkts",
    "vectorized Rx": "virtio_recv_pkts_vec",
    "inorder Tx": "virtio_xmit_pkts_inorder",
    "standard Tx": "virtio_xmit_pkts",
    "packed ring vectorized Rx": "virtio_recv_pkts_packed_vec",
    "packed ring mergeable buffer Rx": "virtio_recv_mergeable_pkts_packed",
    "packed ring standard Rx": "virtio_recv_pkts_packed",
    "packed ring vectorized Tx": "virtio_xmit_pkts_packed_vec",
    "packed ring standard Tx": "virtio_xmit_pkts_packed",
}


def parse_cost_line(line):
    """'vu-cost: mode=rx packets=N ... fn=lib+0x12 (sym)' -> dict."""
    out = {}
    body = line.split("vu-cost:", 1)[-1].strip()
    head, _, fn = body.partition(" fn=")
    for kv in head.split():
        k, _, v = kv.partition("=")
        out[k] = int(v) if v.isdigit() else v
    out["fn"] = fn.strip()
    return out


def parse_callgrind(path):
    """Total Ir collected, and the inclusive Ir of each function the
    vu_cost_* wrappers called, from an uncompressed callgrind file."""
    total = None
    cur_fn = ob = cob = cfn = None
    calls = None
    callees = {}
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if calls is not None:
                # The line after calls= carries the call's inclusive cost.
                cost = int(line.split()[-1]) if line.split() else 0
                if cur_fn and cur_fn.startswith("vu_cost_"):
                    key = (cob or ob or "?", cfn or "?")
                    c = callees.setdefault(key, [0, 0])
                    c[0] += cost
                    c[1] += calls
                calls = None
                cob = None
                continue
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
            elif line.startswith("fn="):
                cur_fn = line[3:]
            elif line.startswith("ob="):
                ob = line[3:]
            elif line.startswith("cob="):
                cob = line[4:]
            elif line.startswith("cfn="):
                cfn = line[4:]
            elif line.startswith("calls="):
                calls = int(line[6:].split()[0])
    return total, callees


def cost_figures(cg_path, line, pathlog):
    c = parse_cost_line(line)
    total, callees = parse_callgrind(cg_path)
    pkts = c.get("packets") or 0
    if not total or not pkts:
        raise ValueError("no Ir collected or no packets")
    # The burst function is the wrapper's one real callee: the call that
    # holds most of the cost (the rest is rte_eth_*_burst's inline glue).
    (obj, name), (incl, ncalls) = max(callees.items(), key=lambda kv: kv[1][0])
    label = name
    if name.startswith("0x"):
        label = "?"
        want = "Rx" if c.get("mode") == "rx" else "Tx"
        for entry in (pathlog or "").split(";"):
            entry = entry.replace("using ", "").replace(" path", "").strip()
            if entry.endswith(want) and entry in REF_FUNCS:
                label = REF_FUNCS[entry]
    return {
        "ir_per_pkt": incl / pkts,
        "ir_per_pkt_with_wrapper": total / pkts,
        "function": label,
        "location": c.get("fn", "?").split(" ")[0],
        "object": obj,
        "pkts_per_call": pkts / c["calls"] if c.get("calls") else None,
        "pause_us": c.get("pause_us"),
        "packets": pkts,
        "calls": c.get("calls"),
        "empty_calls": c.get("empty"),
        "refused": c.get("refused"),
        "burst_calls_seen": ncalls,
    }


def stats(values):
    if not values:
        return {"runs": 0, "median": None, "min": None, "max": None}
    return {"runs": len(values), "median": statistics.median(values),
            "min": min(values), "max": max(values)}


# These 2-vCPU machines run the same driver at about 5 or about 19 Mpps
# from one process start to the next. A run is in the cell's high mode when
# it reaches this share of the cell's best run, either driver's.
MODE_SHARE = 0.6


def modes(values, best):
    hi = sum(1 for v in values if best and v >= MODE_SHARE * best)
    return hi, len(values) - hi


def order_of(keys, table):
    names = list(table)
    return sorted(keys, key=lambda k: names.index(k) if k in names else len(names))


def load_runs(path):
    rates, costs = [], []
    with open(path) as f:
        for raw in f:
            fld = raw.rstrip("\n").split("\t")
            if fld[0] == "rate" and len(fld) >= 13:
                rates.append({"case": fld[1], "path": fld[2], "size": int(fld[3]),
                              "slot": fld[4], "rep": int(fld[5]), "status": fld[6],
                              "pps": float(fld[7] or 0), "packets": int(fld[8] or 0),
                              "window_s": float(fld[9] or 0), "cpu_share": float(fld[10] or 0),
                              "disturbed": fld[11] == "1", "reason": fld[12]})
            elif fld[0] == "cost" and len(fld) >= 11:
                costs.append({"dir": fld[1], "path": fld[2], "size": int(fld[3]),
                              "slot": fld[4], "rep": int(fld[5]), "status": fld[6],
                              "callgrind": fld[7], "line": fld[8], "pathlog": fld[9],
                              "reason": fld[10]})
    return rates, costs


def fmt_mpps(s):
    if s["median"] is None:
        return "n/a"
    return f"{s['median']:.3f} ({s['min']:.3f}-{s['max']:.3f})"


def summarise(rates, costs, outdir):
    groups = {}
    disturbed = {}
    failures = []
    for r in rates:
        key = (r["case"], r["path"], r["size"])
        g = groups.setdefault(key, {s: [] for s in SLOTS})
        d = disturbed.setdefault(key, {s: 0 for s in SLOTS})
        if r["status"] == "ok":
            g[r["slot"]].append(r["pps"] / 1e6)
            d[r["slot"]] += r["disturbed"]
        else:
            failures.append({k: r[k] for k in ("case", "path", "size", "slot", "rep", "reason")})
    rate_rows = []
    for key in sorted(groups, key=lambda k: (list(CASES).index(k[0]), list(PATHS).index(k[1]), k[2])):
        case, path, size = key
        row = {"case": case, "case_desc": CASES[case], "path": path, "devargs": PATHS[path],
               "size": size}
        for s in SLOTS:
            st = stats(groups[key][s])
            row[s] = {"runs": st["runs"], "median_mpps": st["median"], "min_mpps": st["min"],
                      "max_mpps": st["max"], "samples_mpps": groups[key][s],
                      "disturbed_runs": disturbed[key][s]}
        o, r = row["ours"]["median_mpps"], row["ref"]["median_mpps"]
        row["ratio"] = o / r if o and r else None
        bo, br = row["ours"]["max_mpps"], row["ref"]["max_mpps"]
        row["best_ratio"] = bo / br if bo and br else None
        best = max([v for s in SLOTS for v in groups[key][s]], default=None)
        for s in SLOTS:
            hi, lo = modes(groups[key][s], best)
            row[s]["high_mode_runs"], row[s]["low_mode_runs"] = hi, lo
        rate_rows.append(row)

    cgroups = {}
    for c in costs:
        key = (c["dir"], c["path"], c["size"])
        g = cgroups.setdefault(key, {s: [] for s in SLOTS})
        if c["status"] != "ok":
            failures.append({"cost": c["dir"], "path": c["path"], "size": c["size"],
                             "slot": c["slot"], "rep": c["rep"], "reason": c["reason"]})
            continue
        try:
            fig = cost_figures(f"{outdir}/{c['callgrind']}", c["line"], c["pathlog"])
        except (OSError, ValueError) as e:
            failures.append({"cost": c["dir"], "path": c["path"], "size": c["size"],
                             "slot": c["slot"], "rep": c["rep"], "reason": f"unparsable: {e}"})
            continue
        fig["callgrind"] = c["callgrind"]
        g[c["slot"]].append(fig)
    cost_rows = []
    for key in sorted(cgroups, key=lambda k: (k[0] != "rx", list(PATHS).index(k[1]), k[2])):
        d, path, size = key
        row = {"dir": d, "path": path, "devargs": PATHS[path], "size": size}
        for s in SLOTS:
            figs = cgroups[key][s]
            vals = [f["ir_per_pkt"] for f in figs]
            st = stats(vals)
            row[s] = {"runs": st["runs"], "ir_per_pkt": st["median"], "min": st["min"],
                      "max": st["max"], "function": figs[0]["function"] if figs else None,
                      "samples": figs}
        o, r = row["ours"]["ir_per_pkt"], row["ref"]["ir_per_pkt"]
        row["ratio"] = o / r if o and r else None
        cost_rows.append(row)
    return rate_rows, cost_rows, failures


def print_tables(rate_rows, cost_rows, params):
    print()
    print(f"Packet rates, Mpps at the receiver: median (min-max) of {params.get('reps')} runs, "
          f"{params.get('secs')} s each; ours = {params.get('ours_vdev')}, ref = {params.get('ref_vdev')}")
    hdr = (f"{'case':<30}{'path':<15}{'size':>5}{'ours Mpps (min-max)':>26}{'hi/lo':>6}"
           f"{'ref Mpps (min-max)':>26}{'hi/lo':>6}{'ours/ref':>9}{'best':>6}")
    print(hdr)
    print("-" * len(hdr))
    marked = False
    for row in rate_rows:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] else "n/a"
        cells = []
        for s in SLOTS:
            x = row[s]
            cell = fmt_mpps({"median": x["median_mpps"], "min": x["min_mpps"], "max": x["max_mpps"]})
            if x["disturbed_runs"]:
                cell += "*"
                marked = True
            cells.append(cell)
            cells.append(f"{x['high_mode_runs']}/{x['low_mode_runs']}")
        best = f"{row['best_ratio']:.2f}" if row["best_ratio"] else "n/a"
        print(f"{row['case_desc']:<30}{row['path']:<15}{row['size']:>5}{cells[0]:>26}{cells[1]:>6}"
              f"{cells[2]:>26}{cells[3]:>6}{ratio:>9}{best:>6}")
    print(f"hi/lo: runs at or above / below {MODE_SHARE:.0%} of the cell's best run (the machine's "
          f"two modes); best: ours' best run / ref's best run")
    if marked:
        print("* includes runs disturbed by another CPU user (see disturbed_runs in the JSON)")
    if cost_rows:
        print()
        print(f"Instructions per packet in the burst function (callgrind Ir, inclusive of what it "
              f"calls; {params.get('cost_packets')} packets, burst {params.get('burst')})")
        hdr = f"{'dir':<4}{'path':<15}{'size':>5}  {'ours Ir/pkt':>11}  {'function':<34}{'ref Ir/pkt':>11}  {'function':<34}{'ours/ref':>8}"
        print(hdr)
        print("-" * len(hdr))
        for row in cost_rows:
            def cell(s):
                v = row[s]["ir_per_pkt"]
                return (f"{v:11.1f}" if v else f"{'n/a':>11}"), (row[s]["function"] or "-")
            ov, of = cell("ours")
            rv, rf = cell("ref")
            ratio = f"{row['ratio']:.2f}" if row["ratio"] else "n/a"
            print(f"{row['dir']:<4}{row['path']:<15}{row['size']:>5}  {ov}  {of[:33]:<34}{rv}  {rf[:33]:<34}{ratio:>8}")


# ---- SVG -------------------------------------------------------------------------------
COLORS = {"ours": "#2b6cb0", "ref": "#dd6b20"}


def nice_max(v):
    if v <= 0:
        return 1.0
    mag = 10 ** len(str(int(v))) / 10
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= v:
            return m * mag
    return v


def panel(svg, x0, y0, w, h, title, unit, groups):
    """groups: [(label, {slot: (median, min, max) or None}, ratio)]"""
    top = max([v[2] for _, d, _ in groups for v in d.values() if v] + [0])
    ymax = nice_max(top * 1.08)
    plot_x, plot_y, plot_w, plot_h = x0 + 60, y0 + 28, w - 80, h - 80
    svg.append(f'<text x="{x0 + 10}" y="{y0 + 16}" class="t">{escape(title)}</text>')
    for i in range(6):
        v = ymax * i / 5
        y = plot_y + plot_h - plot_h * i / 5
        svg.append(f'<line x1="{plot_x}" y1="{y:.1f}" x2="{plot_x + plot_w}" y2="{y:.1f}" class="g"/>')
        svg.append(f'<text x="{plot_x - 6}" y="{y + 4:.1f}" class="yl">{v:g}</text>')
    svg.append(f'<text x="{x0 + 12}" y="{plot_y + plot_h / 2:.1f}" class="yl" '
               f'transform="rotate(-90 {x0 + 12} {plot_y + plot_h / 2:.1f})" text-anchor="middle">{unit}</text>')
    n = max(len(groups), 1)
    gw = plot_w / n
    bw = min(gw * 0.32, 40)
    for gi, (label, data, ratio) in enumerate(groups):
        cx = plot_x + gw * (gi + 0.5)
        for si, slot in enumerate(SLOTS):
            bx = cx - bw + si * bw
            v = data.get(slot)
            if not v:
                svg.append(f'<text x="{bx + bw / 2:.1f}" y="{plot_y + plot_h - 4:.1f}" class="na">n/a</text>')
                continue
            med, lo, hi = v
            bh = plot_h * med / ymax
            svg.append(f'<rect x="{bx:.1f}" y="{plot_y + plot_h - bh:.1f}" width="{bw - 2:.1f}" '
                       f'height="{bh:.1f}" fill="{COLORS[slot]}"><title>{slot} {escape(label)}: '
                       f'{med:.3f} ({lo:.3f}-{hi:.3f})</title></rect>')
            if hi > lo:
                wx = bx + (bw - 2) / 2
                y_lo = plot_y + plot_h - plot_h * lo / ymax
                y_hi = plot_y + plot_h - plot_h * hi / ymax
                svg.append(f'<line x1="{wx:.1f}" y1="{y_lo:.1f}" x2="{wx:.1f}" y2="{y_hi:.1f}" class="w"/>')
                svg.append(f'<line x1="{wx - 4:.1f}" y1="{y_hi:.1f}" x2="{wx + 4:.1f}" y2="{y_hi:.1f}" class="w"/>')
                svg.append(f'<line x1="{wx - 4:.1f}" y1="{y_lo:.1f}" x2="{wx + 4:.1f}" y2="{y_lo:.1f}" class="w"/>')
            label_y = plot_y + plot_h - plot_h * max(med, hi) / ymax - 3
            svg.append(f'<text x="{bx + (bw - 2) / 2:.1f}" y="{label_y:.1f}" class="v">{med:.3g}</text>')
        for li, part in enumerate(label.split("\n")):
            svg.append(f'<text x="{cx:.1f}" y="{plot_y + plot_h + 14 + 12 * li:.1f}" class="xl">{escape(part)}</text>')
        if ratio:
            svg.append(f'<text x="{cx:.1f}" y="{plot_y + plot_h + 40:.1f}" class="r">x{ratio:.2f}</text>')
    svg.append(f'<line x1="{plot_x}" y1="{plot_y + plot_h}" x2="{plot_x + plot_w}" y2="{plot_y + plot_h}" class="a"/>')


def write_svg(path, rate_rows, cost_rows, params):
    panels = []
    for case in CASES:
        rows = [r for r in rate_rows if r["case"] == case]
        if not rows:
            continue
        groups = []
        for r in rows:
            d = {s: (r[s]["median_mpps"], r[s]["min_mpps"], r[s]["max_mpps"])
                 if r[s]["median_mpps"] is not None else None for s in SLOTS}
            groups.append((f"{r['path']}\n{r['size']} B", d, r["ratio"]))
        panels.append((f"{case}: {CASES[case]}", "Mpps", groups))
    if cost_rows:
        groups = []
        for r in cost_rows:
            d = {s: (r[s]["ir_per_pkt"], r[s]["min"], r[s]["max"])
                 if r[s]["ir_per_pkt"] is not None else None for s in SLOTS}
            groups.append((f"{r['dir']} {r['path']}\n{r['size']} B", d, r["ratio"]))
        panels.append(("cost: instructions per packet in the burst function (lower is better)",
                       "Ir/packet", groups))
    width = max(720, 110 * max([len(g) for _, _, g in panels] + [1]) + 100)
    ph = 260
    head = 78
    height = head + ph * len(panels)
    p = params
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
           '<style>.t{font-size:13px;font-weight:bold}.yl{font-size:10px;text-anchor:end}'
           '.s{font-size:10px;text-anchor:start}'
           '.xl{font-size:10px;text-anchor:middle}.v{font-size:9px;text-anchor:middle}'
           '.r{font-size:10px;text-anchor:middle;fill:#555}.na{font-size:9px;text-anchor:middle;fill:#999}'
           '.g{stroke:#e2e2e2}.a{stroke:#333}.w{stroke:#111;stroke-width:1}</style>',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="20" class="t">vhost-user, side by side against the same DPDK vhost peer</text>',
           f'<text x="10" y="36" class="s">ours = {escape(str(p.get("ours_vdev")))}, '
           f'ref = {escape(str(p.get("ref_vdev")))}; bars: median of {p.get("reps")} runs of '
           f'{p.get("secs")} s, whiskers: min-max, xN: ours/ref</text>',
           f'<text x="10" y="50" class="s">{escape(str(p.get("date")))}, {escape(str(p.get("cpu")))}, '
           f'{p.get("cpus")} CPUs, DPDK {escape(str(p.get("dpdk")))}, git {escape(str(p.get("git")))}, '
           f'ring {p.get("ring")}, burst {p.get("burst")}</text>']
    for k, slot in enumerate(SLOTS):
        lx = 10 + 80 * k
        svg.append(f'<rect x="{lx}" y="57" width="12" height="12" fill="{COLORS[slot]}"/>')
        svg.append(f'<text x="{lx + 16}" y="67" class="s">{slot}</text>')
    for i, (title, unit, groups) in enumerate(panels):
        panel(svg, 0, head + ph * i, width, ph, title, unit, groups)
    svg.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ir", nargs="+", metavar="ARG")
    ap.add_argument("--runs")
    ap.add_argument("--params")
    ap.add_argument("--json")
    ap.add_argument("--svg")
    a = ap.parse_args()
    if a.ir:
        cg, line = a.ir[0], a.ir[1]
        pathlog = a.ir[2] if len(a.ir) > 2 else ""
        try:
            f = cost_figures(cg, line, pathlog)
        except (OSError, ValueError, IndexError) as e:
            print(f"unparsable ({e})")
            return 1
        print(f"{f['ir_per_pkt']:.1f} Ir/pkt in {f['function']} ({f['location']}; "
              f"{f['ir_per_pkt_with_wrapper']:.1f} with rte_eth_*_burst; {f['packets']} pkts, "
              f"{f['calls']} calls, {f['empty_calls']} empty, {f['refused']} refused)")
        return 0
    if not (a.runs and a.params and a.json):
        ap.error("--runs, --params and --json are required")
    with open(a.params) as f:
        params = json.load(f)
    CASES["loop"] = f"driver io <-> peer {params.get('loop_fwd', 'io')}"
    outdir = a.runs.rsplit("/", 1)[0] if "/" in a.runs else "."
    rates, costs = load_runs(a.runs)
    rate_rows, cost_rows, failures = summarise(rates, costs, outdir)
    print_tables(rate_rows, cost_rows, params)
    doc = {"params": params, "rates": rate_rows, "cost": cost_rows, "failures": failures,
           "disturbed_runs": sum(1 for r in rates if r["disturbed"]),
           "runs": rates}
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=2)
    print(f"\njson: {a.json}")
    if a.svg:
        write_svg(a.svg, rate_rows, cost_rows, params)
        print(f"svg:  {a.svg}")
    if failures:
        print(f"{len(failures)} failed runs (reasons in the JSON, logs next to it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
