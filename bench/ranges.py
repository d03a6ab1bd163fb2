#!/usr/bin/env python3
"""Prints docs/performance.md's tables "on a CPU shared with the driver" from
several `vgpio-bench --compare-only --peer ... --json` reports: each figure
as a range over them (runs on different machines or days), so a claim holds
on every one.

    python3 bench/ranges.py [--before BEFORE.json] [--interrupts N] REPORT.json...

--before adds a column of that report's ratios (the code before a change).
--interrupts N: only the last N reports carry the current interrupt figures
(the others are older builds whose request path is the same).
"""
import argparse
import json

PLACEMENTS = [("one_cpu", "both on one CPU"), ("cpu_each", "one CPU each")]
LEVELS = ["1", "2", "4", "8", "16", "32", "64"]


def span(values, fmt="{:.2f}", unit=""):
    lo, hi = min(values), max(values)
    a, b = fmt.format(lo), fmt.format(hi)
    return f"{a}{unit}" if a == b else f"{a}–{b}{unit}"


def table(reports, before, placement, irq_reports):
    runs = [r[placement] for r in reports]
    floors = [p["floor"]["p50_us"] for p in runs]
    print(f"**{dict(PLACEMENTS)[placement]}** (floor p50 {span(floors, '{:.1f}')} µs)\n")
    head = "| in flight | throughput, vgpio / peer |"
    head += " before |" if before else ""
    head += " CPU per request, vgpio / peer |" + (" before |" if before else "")
    head += " wake-ups per request: vgpio | peer |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for lvl in LEVELS:
        row = f"| {lvl} | {span([p['ratios']['throughput'][lvl] for p in runs], unit='×')} |"
        if before:
            row += f" {before[placement]['ratios']['throughput'][lvl]:.2f}× |"
        row += f" {span([p['ratios']['backend_cpu_per_request'][lvl] for p in runs], unit='×')} |"
        if before:
            row += f" {before[placement]['ratios']['backend_cpu_per_request'][lvl]:.2f}× |"
        wv = [p["vgpio"]["throughput"][lvl]["backend_wakeups_per_request"] for p in runs]
        wp = [p["peer"]["throughput"][lvl]["backend_wakeups_per_request"] for p in runs]
        row += f" {span(wv, '{:.3f}')} | {span(wp, '{:.3f}')} |"
        print(row)
    get_floor = [p["vgpio"]["latency"]["get_value"]["p50_us"] / p["floor"]["p50_us"] for p in runs]
    get_peer = [p["ratios"]["get_value_latency"]["p50_us"] for p in runs]
    line = f"\nGET_VALUE p50: {span(get_floor, unit='×')} the floor, {span(get_peer, unit='×')} the peer's."
    irq = [r[placement] for r in irq_reports]
    edge = [p["vgpio"]["interrupts"]["latency"]["p50_us"] / p["floor"]["p50_us"] for p in irq]
    ctl = [p["vgpio"]["interrupts"]["via_ctl_latency"]["p50_us"] for p in irq]
    line += f" Interrupt edge → eventq p50: {span(edge, unit='×')} the floor; `ctl set` → eventq p50"
    line += f" {span(ctl, '{:.0f}', ' µs')}."
    print(line + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before")
    ap.add_argument("--interrupts", type=int, default=0)
    ap.add_argument("reports", nargs="+")
    a = ap.parse_args()
    reports = [json.load(open(f)) for f in a.reports]
    before = json.load(open(a.before)) if a.before else None
    irq_reports = reports[-a.interrupts:] if a.interrupts else reports
    for placement, _ in PLACEMENTS:
        table(reports, before, placement, irq_reports)


if __name__ == "__main__":
    main()
