#!/usr/bin/env python3
"""A/B of process start-up, runs alternating so a shared machine's load hits
each command alike; prints the load average, then per command the median and
minimum wall and CPU (user + sys) milliseconds.

    scripts/startup-ab.py 30 'main=/tmp/vw-main plan -m meta-llama/Llama-3.1-8B-Instruct --gpu H100' \
        'new=./vllm-wizard plan -m meta-llama/Llama-3.1-8B-Instruct --gpu H100'

HF_HUB_OFFLINE=1 keeps the Hub out of it (a cached or catalog model plans offline).
"""
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time


def main():
    n = int(sys.argv[1])
    cases = [a.split("=", 1) for a in sys.argv[2:]]
    wall = {label: [] for label, _ in cases}
    cpu = {label: [] for label, _ in cases}
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    for i in range(n):
        for label, cmd in cases if i % 2 == 0 else cases[::-1]:
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            p = subprocess.run(shlex.split(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env)
            wall[label].append((time.perf_counter() - t) * 1e3)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[label].append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3)
            if p.returncode != 0:
                sys.exit(f"{label}: exit {p.returncode}: {p.stderr[-300:]!r}")
    print(f"load {os.getloadavg()[0]:.2f}, {n} runs each, alternating")
    for label, _ in cases:
        w, c = wall[label], cpu[label]
        print(f"{label:>12}: wall median {statistics.median(w):6.1f} ms  min {min(w):6.1f}"
              f"  | cpu median {statistics.median(c):6.1f} ms  min {min(c):6.1f}")


if __name__ == "__main__":
    main()
