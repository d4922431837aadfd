"""A serve-test app that answers with how many objects the worker's collector never walks (frozen) and how
many it walks in the oldest generation."""

import gc
import json

from tests.api.common.pid_app import answering

app = answering(lambda: json.dumps({"frozen": gc.get_freeze_count(), "oldest": len(gc.get_objects(2))}).encode())
