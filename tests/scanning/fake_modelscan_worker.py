"""Stands in for budgraph.scanning.modelscan_worker to test the runner's failure paths.

FAKE_MODELSCAN_WORKER: "hang" (ready, then never answers), "exit" (ready, then dies),
"broken" (dies before it is ready), "garbage" (ready, then prints something that is not JSON).
"""

from __future__ import annotations

import os
import sys
import time

mode = os.environ.get("FAKE_MODELSCAN_WORKER", "hang")
sys.stdin.read()
if mode == "broken":
    print("ImportError: no modelscan here", file=sys.stderr)
    sys.exit(2)
print('{"ready": true, "modelscan_version": "fake"}', flush=True)
if mode == "exit":
    os._exit(3)
if mode == "garbage":
    print("this is not json", flush=True)
time.sleep(3600)
