"""The Ray Serve peer of the load benchmark (benches/serve_load.rs with REMOTEMEDIA_LOAD_PEER=ray):
the same manifest served by `remotemedia.ray.serve_app` on a local Ray (2 CPUs), one replica that
reserves both, behind Serve's proxy on 127.0.0.1:PORT. Runs until killed.

    .venv-ray/bin/python benches/peer_ray_serve.py PORT MANIFEST
"""

import signal
import sys
import time

import ray
from ray import serve

from remotemedia.ray import serve_app

port, manifest = int(sys.argv[1]), sys.argv[2]
ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
serve.start(http_options={"host": "127.0.0.1", "port": port})
app = serve_app([manifest], num_replicas=1, cpus_per_replica=2, max_ongoing_requests=5000, max_sessions=4096)
serve.run(app, route_prefix="/")
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
try:
    while True:
        time.sleep(3600)
finally:  # stop the Ray processes this script started
    serve.shutdown()
    ray.shutdown()
