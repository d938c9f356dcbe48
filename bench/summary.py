#!/usr/bin/env python3
"""Summarises bench/run.sh's load generator reports in the results directory as Markdown tables:
the Rust generator's (rust-<server>-C-D-E-I-<run>.json, rust-connect-ours-*.json, ...) and the JS
generator's (js-<server>-C-D-E-I-<run>.json): medians over the runs of each server and scenario,
and ours (and ours with the relay path, #23) against the JS reference and samod."""
import glob
import json
import os
import re
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "."
SERVERS = ("ours", "ours-relay", "ours-tls", "ref", "samod")
NAMES = {"ours": "ours", "ours-relay": "ours, relay on", "ours-tls": "ours over TLS", "ref": "JS reference",
         "samod": "samod"}
PATTERN = r"-(ours-tls|ours-relay|ours|ref|samod)-(\d+)-(\d+)-(\d+)-(\d+)(s?)-(\d+)\.json$"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0, unit=""):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}{unit}"


def figures_of(r):
    """(edits/s, p50, p99, CPU ms per edit, peak RSS MiB, total edits, verified, error) of one report of
    either generator."""
    process = r.get("serverProcess") or {}
    lat = r.get("latencyMs") or {}
    if "edit" not in r:  # load.mjs (its edit phase is under "phases")
        edit = r["phases"].get("edit") or {}
        total = edit.get("totalEdits")
        cpu = edit.get("serverCpuSecondsUntilAck")
        cpu_ms = 1000 * cpu / total if cpu is not None and total else None
        return (edit.get("editsPerSecToServer"), lat.get("p50"), lat.get("p99"), cpu_ms,
                process.get("vmHWM_MiB"), total, bool(r.get("ok")), r.get("error"))
    edit = r.get("edit") or {}
    return (edit.get("editsPerSecToServer"), lat.get("p50"), lat.get("p99"), edit.get("serverCpuMsPerEdit"),
            process.get("vmHWM_MiB"), edit.get("totalEdits"), bool(r.get("verified")), r.get("error"))


def table(prefix, title):
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, f"{prefix}-*.json"))):
        m = re.match(prefix + PATTERN, os.path.basename(path))
        if not m:
            continue
        server, c, d, e, i, stagger, _ = m.groups()
        with open(path) as f:
            runs.setdefault((int(c), int(d), int(e), int(i), stagger), {}).setdefault(server, []).append(json.load(f))
    if not runs:
        return
    print(f"{title}\n")
    print("| scenario | server | runs | edits/s | latency p50 / p99 (ms) | server CPU per edit | peak RSS "
          "| dropped / stale / unacked | verified |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ratios = []
    for (c, d, e, i, stagger), by_server in sorted(runs.items(), key=lambda kv: (kv[0][3] > 0, kv[0])):
        scenario = f"{c}×{d}×{e}, " + ("flat out" if i == 0 else f"paced {i} ms" + (" staggered" if stagger else ""))
        figures = {}
        for server in SERVERS:
            reports = by_server.get(server)
            if not reports:
                continue
            each = [figures_of(r) for r in reports]
            failed = [f[7] for f in each if f[7]]
            if failed:
                print(f"| {scenario} | {NAMES[server]} | {len(reports)} | failed: {failed[0]} | | | | | 0 of {len(reports)} |")
                continue
            eps, p50, p99, cpu, rss = (med([f[k] for f in each]) for k in range(5))
            cpu_text = fmt(cpu, 3, " ms")
            if cpu is None:
                # The server never held every change: its CPU over the whole run per edit is a floor.
                whole = med([(r.get("serverProcess") or {}).get("cpuSeconds") for r in reports])
                if whole is not None and each[0][5]:
                    cpu_text = f"≥ {whole * 1000 / each[0][5]:.3f} ms (not finished)"
            dropped = sum(r.get("dropped", 0) for r in reports)
            stale = sum(r.get("stale", 0) for r in reports)
            unacked = sum(r.get("unackedDocs", 0) if isinstance(r.get("unackedDocs", 0), int)
                          else r["unackedDocs"].get("count", 0) for r in reports)
            verified = sum(1 for f in each if f[6])
            figures[server] = (cpu, rss)
            print(f"| {scenario} | {NAMES[server]} | {len(reports)} | {fmt(eps)} | {fmt(p50, 1)} / {fmt(p99, 1)} "
                  f"| {cpu_text} | {fmt(rss, 1, ' MiB')} | {dropped} / {stale} / {unacked} | {verified} of {len(reports)} |")
        for mine in ("ours", "ours-relay"):
            ours = figures.get(mine)
            for other in ("ours", "ref", "samod"):
                theirs = figures.get(other)
                if other == mine or not (ours and theirs):
                    continue
                cpu_ratio = theirs[0] / ours[0] if ours[0] and theirs[0] else None
                rss_ratio = theirs[1] / ours[1] if ours[1] and theirs[1] else None
                ratios.append(f"- {scenario}: {NAMES[other]} / {NAMES[mine]}: server CPU per edit "
                              f"{fmt(cpu_ratio, 2, '×')}, peak RSS {fmt(rss_ratio, 1, '×')}")
    if ratios:
        print()
        print("\n".join(ratios))
    print()


table("js", "JS load generator (../shared/bench/load.mjs)")
table("rust", "Rust load generator (kooperacja-load)")

for path in sorted(glob.glob(os.path.join(out, "rust-connect-ours-*.json"))):
    with open(path) as f:
        r = json.load(f)
    p, s = r["params"], r.get("serverProcess") or {}
    print()
    print(f"- ours, {p['clients']} connected tablets × {p['docs']} docs, {p['edits']} edits each every {p['intervalMs']} ms: "
          f"RSS idle {fmt(s.get('rssIdle_MiB'), 1, ' MiB')} (start {fmt(s.get('rssAtStart_MiB'), 1, ' MiB')}), "
          f"{fmt(s.get('rssPerIdleConnection_KiB'), 1, ' KiB')} per idle connection with its documents, "
          f"peak {fmt(s.get('vmHWM_MiB'), 1, ' MiB')}; latency p50 / p99 {fmt(r['latencyMs'].get('p50'), 1)} / "
          f"{fmt(r['latencyMs'].get('p99'), 1)} ms; server CPU {fmt(r['edit'].get('serverCpuMsPerEdit'), 3, ' ms')} per edit; "
          f"dropped {r.get('dropped')}, stale {r.get('stale')}, verified {r.get('verified')}")

failed = []


def finished(pattern):
    """The reports matching `pattern` that finished; the others are listed in `failed`."""
    for path in sorted(glob.glob(os.path.join(out, pattern))):
        with open(path) as f:
            r = json.load(f)
        if "error" in r:
            failed.append(f"- {os.path.basename(path)}: did not finish: {r['error']}")
            continue
        yield r


durable = {}
for r in finished("durable-ours-*.json"):
    p = r["params"]
    durable.setdefault((p["clients"], p["docs"], p["edits"], p["batch"]), []).append(r)
if durable:
    print()
    print("| acknowledged-durable | runs | changes | changes/s | automerge in-process, same changes | ratio | server CPU per change | peak RSS | verified |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (c, d, e, b), reports in sorted(durable.items()):
        print(f"| {c}×{d}×{e}, frames of {b} | {len(reports)} | {reports[0]['changes']:,} "
              f"| {fmt(med([r['acknowledgedChangesPerSec'] for r in reports]))} "
              f"| {fmt(med([r['automergeBulkChangesPerSec'] for r in reports]))} "
              f"| {fmt(100 * med([r['ratioToAutomergeBulk'] for r in reports]), 0, ' %')} "
              f"| {fmt(med([r.get('serverCpuMsPerChange') for r in reports]), 4, ' ms')} "
              f"| {fmt(med([r.get('serverVmHWM_MiB') for r in reports]), 1, ' MiB')} "
              f"| {sum(1 for r in reports if r.get('verified'))} of {len(reports)} |")

for r in finished("stored-ours-*.json"):
    p, pop, rd, s = r["params"], r["populate"], r["reads"], r.get("serverProcess") or {}
    lat = rd["latency"]
    curve = pop.get("rssCurve_MiB") or []
    step = max(1, len(curve) // 8)
    points = ", ".join(f"{n:,}: {m:.0f}" for n, m in curve[::step])
    print()
    print(f"- ours, {pop['documents']:,} stored documents ({p['docText']:,} characters each) at {fmt(pop['docsPerSec'])}/s "
          f"(server CPU {fmt(pop.get('serverCpuSeconds'), 1, ' s')}); {lat['samples']:,} random reads by {p['readers']}: "
          f"p50 / p90 / p99 / max {lat['p50']} / {lat['p90']} / {lat['p99']} / {lat['max']} ms, "
          f"{rd['unavailable']} unavailable, server CPU {fmt(rd.get('serverCpuMsPerRead'), 2, ' ms')} per read; "
          f"server RSS after storing {fmt(s.get('rssAfterPopulate_MiB'), 1, ' MiB')}, "
          f"max during reads {fmt(s.get('maxSampledRssDuringReads_MiB'), 1, ' MiB')}; RSS (MiB) by documents stored: {points}; "
          f"verified {r.get('verified')}")
if failed:
    print()
    print("\n".join(failed))
