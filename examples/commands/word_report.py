#!/usr/bin/env python3
"""Counts the words of an uploaded text file and writes the most common ones as a CSV output.

Progress goes to file descriptor 3 in Headway's protocol; the output is a file written to
HEADWAY_OUTPUT_DIR. An API key, if one was given, arrives in HEADWAY_PARAM_API_KEY only.
"""
import argparse
import collections
import csv
import os
import re
import sys

report = os.fdopen(3, "w", buffering=1)  # line-buffered: each line arrives as written
parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("--top", type=int, default=20)
args = parser.parse_args()
ignore_case = os.environ.get("HEADWAY_PARAM_MATCH_CASE") != "true"

size = os.path.getsize(args.path)
print(f"progress 0 {size} bytes", file=report)
print("message Counting words", file=report)
counts = collections.Counter()
done = 0
with open(args.path, "rb") as f:
    for raw in f:
        done += len(raw)
        line = raw.decode("utf-8", errors="replace")
        counts.update(w.lower() if ignore_case else w for w in re.findall(r"[^\W\d_]+", line))
        print(f"progress {done}", file=report)

if os.environ.get("HEADWAY_PARAM_API_KEY"):
    print("an API key was given (it is not shown)")
out = os.path.join(os.environ["HEADWAY_OUTPUT_DIR"], "words.csv")
with open(out, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["word", "count"])
    for word, n in counts.most_common(args.top):
        writer.writerow([word, n])
print(f"{sum(counts.values())} words, {len(counts)} different", flush=True)
if not counts:
    print("level warning", file=report)
    print("log warn The file has no words", file=report)
print(f'result {{"words": {sum(counts.values())}, "different": {len(counts)}}}', file=report)
sys.exit(0)
