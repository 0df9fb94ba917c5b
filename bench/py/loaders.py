#!/usr/bin/python3
"""pandas side of `npm run bench -- loaders`: loads the given CSV files the way an analyst would (pandas.read_csv
with default options, one DataFrame per file, concatenated) and prints one JSON object with the load seconds (wall and CPU),
rows, columns, the bytes of the loaded numeric data, and memory measured as on the Node side: RSS after importing
pandas (the baseline) and the high-water mark during the load (VmHWM, reset to the baseline through
/proc/self/clear_refs), read right after the load.
With --skip-columns, the named columns are not read (usecols), as our loader skips identifier columns.
Mode jsonl reads JSON lines with pandas.read_json(lines=True); a nested `features` object (the flow lines of
`flowsentry extract`) is flattened into columns with pandas.json_normalize, as our loader reads it.
Usage: /usr/bin/python3 bench/py/loaders.py headerless|header|jsonl [--skip-columns a,b,...] <file>..."""
import json
import sys
import time

import pandas as pd


def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(field)


mode, files = sys.argv[1], sys.argv[2:]
skip = set()
if files[0] == "--skip-columns":
    skip, files = set(files[1].split(",")), files[2:]
usecols = (lambda c: c not in skip) if skip else None
base_rss = status_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
start = time.perf_counter()
cpu = time.process_time()
def read_jsonl(f):
    df = pd.read_json(f, lines=True)
    if "features" in df.columns:
        df = pd.concat([df.drop(columns="features"), pd.json_normalize(df["features"].tolist())], axis=1)
    return df


if mode == "jsonl":
    frames = [read_jsonl(f) for f in files]
else:
    frames = [pd.read_csv(f, header=None if mode == "headerless" else "infer", usecols=usecols) for f in files]
df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu
peak_rss = status_mb("VmHWM")
numeric = df.select_dtypes("number")
print(json.dumps({"seconds": seconds, "cpuSeconds": cpu, "rows": len(df), "cols": df.shape[1],
                  "numericBytes": int(numeric.memory_usage(index=False).sum()), "baseRssMb": base_rss,
                  "peakRssMb": peak_rss}))
