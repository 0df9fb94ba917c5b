#!/usr/bin/python3
"""pandas side of `npm run bench -- loaders`: loads the given CSV files the way an analyst would (pandas.read_csv
with default options, one DataFrame per file, concatenated) and prints one JSON object with the load seconds (wall and CPU),
rows, columns and the bytes of the loaded numeric data. One load per process, so the caller's /usr/bin/time peak RSS
belongs to that load.
Usage: /usr/bin/python3 bench/py/loaders.py headerless|header <file>..."""
import json
import sys
import time

import pandas as pd

mode, files = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
cpu = time.process_time()
frames = [pd.read_csv(f, header=None if mode == "headerless" else "infer") for f in files]
df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu
numeric = df.select_dtypes("number")
print(json.dumps({"seconds": seconds, "cpuSeconds": cpu, "rows": len(df), "cols": df.shape[1],
                  "numericBytes": int(numeric.memory_usage(index=False).sum())}))
