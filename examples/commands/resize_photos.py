#!/usr/bin/env python3
"""Pretends to resize photos, showing a tqdm bar on stderr as any Python script does.

Headway reads the bar (the command says `progress = "tqdm"`): nothing here knows of it.
"""
import argparse
import sys
import time

try:
    from tqdm import tqdm
except ImportError:  # The same bar, drawn by hand, where tqdm is not installed.
    class tqdm:  # noqa: N801 - as tqdm names it
        def __init__(self, iterable, desc="", unit="it"):
            self.items, self.desc, self.unit = list(iterable), desc, unit

        def __iter__(self):
            total, start = len(self.items), time.monotonic()
            for n, item in enumerate(self.items):
                self._draw(n, total, start)
                yield item
            self._draw(total, total, start)
            sys.stderr.write("\n")

        def _draw(self, n, total, start):
            pct = n * 100 // max(total, 1)
            bar = "#" * (pct // 10)
            rate = n / max(time.monotonic() - start, 1e-6)
            sys.stderr.write(f"\r{self.desc}: {pct:3d}%|{bar:<10}| {n}/{total} [00:00<00:00, {rate:.2f}{self.unit}/s]")
            sys.stderr.flush()

parser = argparse.ArgumentParser()
parser.add_argument("--count", type=int, default=40)
parser.add_argument("--size", default="medium")
args = parser.parse_args()

pixels = {"small": 640, "medium": 1280, "large": 2560}[args.size]
for i in tqdm(range(args.count), desc="Resizing", unit="photos"):
    time.sleep(0.05)
    if (i + 1) % 10 == 0:
        print(f"photo {i + 1} resized to {pixels} px", flush=True)
print(f"resized {args.count} photos to {pixels} px")
