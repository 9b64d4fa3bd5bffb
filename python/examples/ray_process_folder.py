"""Every audio file of a folder through a pipeline on Ray: python ray_process_folder.py FOLDER MANIFEST"""

import json
import sys

import ray

from remotemedia.ray import process_files

ray.init()  # a local Ray, or the cluster of RAY_ADDRESS
for row in process_files(sys.argv[1], sys.argv[2]).iter_rows():  # one row per file, as they finish
    outcome = {"error": row["error"]} if row["error"] else {"outputs": json.loads(row["outputs"])}
    print(json.dumps({"file": row["path"], **outcome}))
