"""Entry point of a query worker process: ``python -m maillage.api.worker_main FD``.

Reads job frames from the socket ``FD`` (given by the parent), runs them, writes the answers.
Exits at end of stream, or with its parent (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys

from .jobs import WorkerContext, run_job
from .workers import die_with_parent, read_frame, send_frame, settings_from_env


def main(argv: list[str]) -> int:
    """Serve jobs on the inherited socket until the parent closes it."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent shuts us down
    logging.basicConfig(level=logging.INFO, format="%(levelname)s worker %(process)d %(message)s")
    sock = socket.socket(fileno=int(argv[1]))
    stream = sock.makefile("rb")
    context = WorkerContext(settings_from_env())
    context.warm_up()
    send_frame(sock, ("ready", os.getpid()))
    while (frame := read_frame(stream)) is not None:
        job, kwargs = frame
        send_frame(sock, run_job(context, job, kwargs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
