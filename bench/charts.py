#!/usr/bin/env python3
"""Draws the charts of docs/performance.md from `vgpio-bench --peer ... --json`.

    python3 bench/charts.py [--check] REPORT.json OUTDIR

Writes OUTDIR/latency_cdf.svg (GET_VALUE round trips of vgpio and the peer,
and the floor, per CPU placement) and OUTDIR/throughput.svg (requests per
second and the backend's CPU per request, by requests in flight). With
--check it writes nothing and fails when the charts in OUTDIR are not what
REPORT.json draws (the test suite checks docs/perf this way).
"""
import json
import pathlib
import sys
import tempfile

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)

PLACEMENTS = [("one_cpu", "bench and backend on one CPU"), ("cpu_each", "one CPU each")]
SERIES = [("vgpio", "vgpio", "tab:blue"), ("peer", "peer (vhost-device-gpio)", "tab:orange")]


def save(fig, path):
    plt.rcParams["svg.hashsalt"] = "vgpio"  # the same input draws the same file
    fig.savefig(path, metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)


def latency_cdf(report, out):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, (key, title) in zip(axes, PLACEMENTS):
        r = report[key]
        for name, label, colour in SERIES:
            cdf = r[name]["latency"]["get_value"]["cdf"]
            ax.plot(cdf["us"], cdf["quantile"], color=colour, label=label)
        floor = r["floor"]["cdf"]
        ax.plot(floor["us"], floor["quantile"], color="grey", linestyle="--", label="floor: eventfd ping-pong")
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("GET_VALUE round trip (µs, log scale)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("fraction of requests at or below")
    axes[0].legend(loc="lower right")
    fig.suptitle(f"Latency CDF, medians of {report['one_cpu']['runs']} runs each")
    save(fig, out / "latency_cdf.svg")


def throughput(report, out):
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for col, (key, title) in enumerate(PLACEMENTS):
        r = report[key]
        levels = sorted(int(k) for k in r["vgpio"]["throughput"])
        for name, label, colour in SERIES:
            t = r[name]["throughput"]
            axes[0][col].plot(levels, [t[str(n)]["per_s"] / 1e6 for n in levels], "o-", color=colour, label=label)
            axes[1][col].plot(levels, [t[str(n)]["backend_cpu_us_per_request"] for n in levels], "o-", color=colour,
                              label=label)
        axes[0][col].set_title(title)
        axes[1][col].set_xlabel("requests in flight")
        axes[1][col].set_yscale("log")
        for ax in (axes[0][col], axes[1][col]):
            ax.set_xscale("log", base=2)
            ax.set_xticks(levels, [str(n) for n in levels])
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("million requests per second")
    axes[1][0].set_ylabel("backend CPU per request (µs, log scale)")
    axes[0][0].legend(loc="upper left")
    fig.suptitle(f"Throughput and backend CPU, medians of {report['one_cpu']['runs']} runs each")
    save(fig, out / "throughput.svg")


def draw(report, out):
    latency_cdf(report, out)
    throughput(report, out)


def main():
    args = sys.argv[1:]
    check = args[:1] == ["--check"]
    if check:
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__)
    report = json.loads(pathlib.Path(args[0]).read_text())
    missing = [k for k, _ in PLACEMENTS if k not in report or "peer" not in report[k]]
    if missing:
        sys.exit(f"{args[0]}: no side-by-side figures for {', '.join(missing)}; run vgpio-bench with --peer")
    out = pathlib.Path(args[1])
    if not check:
        out.mkdir(parents=True, exist_ok=True)
        draw(report, out)
        print(f"wrote {out / 'latency_cdf.svg'} and {out / 'throughput.svg'}")
        return
    with tempfile.TemporaryDirectory() as fresh:
        draw(report, pathlib.Path(fresh))
        stale = [name for name in ("latency_cdf.svg", "throughput.svg")
                 if not (out / name).exists() or (out / name).read_bytes() != (pathlib.Path(fresh) / name).read_bytes()]
    if stale:
        sys.exit(f"{out}: {', '.join(stale)} not drawn from {args[0]}; run: python3 bench/charts.py {args[0]} {out}")
    print(f"{out}: the charts match {args[0]}")


if __name__ == "__main__":
    main()
