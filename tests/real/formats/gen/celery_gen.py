"""A Celery worker's own log lines through python-json-logger: two tasks run by a worker in
this process (an in-memory broker, nothing listening), one returning, one raising. Needs
celery and python-json-logger: `python gen/celery_gen.py > celery.ndjson`."""

import contextlib
import logging
import sys

from celery import Celery
from celery.contrib.testing.worker import start_worker
from pythonjsonlogger.json import JsonFormatter

handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
root = logging.getLogger()
root.handlers[:] = [handler]
root.setLevel(logging.INFO)

app = Celery("gen", broker="memory://", backend="cache+memory://")
app.conf.worker_hijack_root_logger = False


class RateLimitError(Exception):
    pass


@app.task(name="tasks.generate_image")
def generate_image(prompt):
    return {"image": f"img-{len(prompt)}"}


@app.task(name="tasks.moderate")
def moderate(text):
    raise RateLimitError("429 from provider")


with start_worker(app, perform_ping_check=False, loglevel="INFO"):
    a = generate_image.delay("a cat in a hat")
    b = moderate.delay("hello")
    a.get(timeout=10)
    # The failure is what is logged; the result raises it again, rebuilt from its JSON.
    with contextlib.suppress(Exception):
        b.get(timeout=10)
