#!/usr/bin/env python3
"""hardening: the before/after figures of the hardening issue's items.

Runs each probe against two myriad binaries (--before, --after) on
loopback, alternating them within each run, and prints one markdown row
per figure: the median of the runs and, where they differ, the spread
(min-max). Every process it starts is stopped by its PID; every wait is
bounded. Take figures worth quoting under the exclusive host lock.

  bench/hardening/hardening.py --before /work/bin-base --after bin \\
      --loadgen bin/myriad-loadgen --runs 3 --items 1,2,3

Numeric items (1 to 6) run --runs times; the behavioural ones (7 to 12)
once, as their answer does not vary.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from proc import Child, Ports, Server  # noqa: E402
import probes_input  # noqa: E402
import probes_load  # noqa: E402
import probes_mem  # noqa: E402
import probes_truth  # noqa: E402

ITEMS = {
    "1": ("descriptors (RLIMIT_NOFILE 512, flood of 1,500)", probes_load.p1_descriptors, True),
    "2": ("publish amplification (POST under 1 MiB)", probes_load.p2_amplification, True),
    "3": ("memory: real bytes of each limit", probes_mem.p3_memory, True),
    "4": ("presence flapping (1,000 subscribers, --presence-events)", probes_load.p4_presence, True),
    "5": ("1 MiB publish to 1,000 slow readers", probes_load.p5_big_fanout, True),
    "6a": ("publish retried with one id", probes_truth.p6_dedup, False),
    "6b": ("SIGTERM drain with slow readers", probes_truth.p6_drain, True),
    "7": ("API driven from a browser page", probes_input.p7_api_browser, False),
    "8": ("invalid UTF-8 through the API", probes_input.p8_utf8, False),
    "9": ("lenient HTTP (answer to each upgrade request)", probes_input.p9_http, False),
    "10": ("JWT claims", probes_input.p10_jwt, False),
    "11": ("unfinished messages and interleaved errors", probes_input.p11_messages, False),
    "12": ("log lines, API key order, /presence paging", probes_input.p12_misc, False),
}


class Ctx:
    """Ctx is what a probe may use: one binary, its kind, fresh ports."""

    def __init__(self, kind, bindir, loadgen, ports, logdir):
        self.kind = kind
        self.binary = os.path.join(bindir, "myriad")
        self.loadgen_bin = loadgen
        self.ports = ports
        self.logdir = logdir
        self.children = []

    def after_only(self, flags):
        """after_only passes flags the old binary does not have."""
        return list(flags) if self.kind == "after" else []

    def server(self, flags, nofile=None, key=None):
        # A short drain, so that stopping each server does not wait out
        # the 30 s default; the drain probe sets its own.
        if "--drain-timeout" not in flags:
            flags = list(flags) + ["--drain-timeout", "2s"]
        return Server(self.binary, self.ports, flags, nofile=nofile, key=key,
                      logdir=self.logdir, name=self.kind)

    def loadgen(self, scenario, port, path, conns, duration, report):
        args = [self.loadgen_bin, scenario, "--url", f"ws://127.0.0.1:{port}{path}",
                "--conns", str(conns), "--duration", duration, "--quiet"]
        if report:
            args += ["--json", report]
        return Child(args, os.path.join(self.logdir, f"loadgen-{scenario}-{port}.log"))


def aggregate(values):
    """aggregate is the median (min-max) of numbers, or the distinct
    answers of anything else."""
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if values and len(nums) == len(values):
        med = statistics.median(nums)
        lo, hi = min(nums), max(nums)
        if lo == hi:
            return f"{med:g}"
        return f"{med:g} ({lo:g}-{hi:g})"
    seen = []
    for v in values:
        s = "n/a" if v is None else str(v)
        if s not in seen:
            seen.append(s)
    return " / ".join(seen)


def run(args):
    ports = Ports(args.port)
    logdir = args.logdir or tempfile.mkdtemp(prefix="hardening-")
    os.makedirs(logdir, exist_ok=True)
    results = {}
    for item in args.items.split(","):
        title, probe, numeric = ITEMS[item]
        runs = args.runs if numeric else 1
        res = {"before": [], "after": []}
        for r in range(runs):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for kind in order:
                bindir = args.before if kind == "before" else args.after
                ctx = Ctx(kind, bindir, args.loadgen, ports, logdir)
                t0 = time.monotonic()
                try:
                    figs = probe(ctx)
                except Exception as e:  # a probe that broke says so in its row
                    figs = {"probe error": f"{type(e).__name__}: {e}"}
                res[kind].append(figs)
                print(f"# item {item} run {r + 1} {kind}: {time.monotonic() - t0:.1f}s {json.dumps(figs)}",
                      file=sys.stderr, flush=True)
        results[item] = (title, res)
    return results, logdir


def table(results):
    lines = ["| # | Figure | Before | After |", "|---|---|---|---|"]
    for item, (title, res) in results.items():
        keys = []
        for kind in ("before", "after"):
            for figs in res[kind]:
                for k in figs:
                    if k not in keys:
                        keys.append(k)
        first = True
        for k in keys:
            b = aggregate([f.get(k) for f in res["before"]])
            a = aggregate([f.get(k) for f in res["after"]])
            label = f"{item}" if first else ""
            name = f"{title}: {k}" if first else k
            lines.append(f"| {label} | {name} | {b} | {a} |")
            first = False
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="directory with the old myriad binary")
    ap.add_argument("--after", required=True, help="directory with the new myriad binary")
    ap.add_argument("--loadgen", required=True, help="myriad-loadgen binary (the attack tools)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--items", default=",".join(ITEMS))
    ap.add_argument("--port", type=int, default=19600, help="first port; each server takes two fresh ones")
    ap.add_argument("--logdir", help="server and load generator logs (default: a new temp dir)")
    ap.add_argument("--json", help="also write every run's figures here")
    args = ap.parse_args()
    results, logdir = run(args)
    print(table(results))
    print(f"\nlogs: {logdir}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: {"title": t, "runs": r} for k, (t, r) in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
