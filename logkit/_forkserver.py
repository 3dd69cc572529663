"""Imported by the forkserver of ingest's worker pool, and by nothing else.

Python starts that server (logkit/ingest.py, `_Runner`) in the terminal's process group, so a
Ctrl-C or a `kill -TERM -PGID` reaches it and every worker it forks alongside logkit itself. A
worker killed while it waits for work dies holding the pool's queue lock, and the main process
then hangs ending the pool. In a process group of its own, the server and its workers are
left to the main process, which stops the run and ends the pool itself; they still die with it
(the workers set PR_SET_PDEATHSIG, and the server exits when the main process's pipe closes).
"""

import contextlib
import os

with contextlib.suppress(OSError):
    os.setpgid(0, 0)
