"""A worker process for the tracking tests: ``python -m tests.tracking.worker_process [--pause-before-ack]``.

It prints ``ready`` once set up, ``paused`` when it stops at a pause (the test kills it there with SIGKILL, or
lets it go on with ``--resume``), and the drain's stats as JSON when done.

With ``--until FILE`` it is a long-running worker, as Celery beat makes one: it drains again and again (every
``--every`` seconds) until FILE exists, printing one JSON line per drain (``{"stats": ...}`` or, when the drain
raised, ``{"error": ...}``: it goes on, as a Celery worker does after a failed task), then a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import django


def wait_for_file(path: str) -> None:
    while not os.path.exists(path):
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause-before-commit", action="store_true", help="stop inside the transaction")
    parser.add_argument("--pause-before-ack", action="store_true", help="stop after the commit, before XACK")
    parser.add_argument("--resume", help="pause once, and go on when this file exists (else: sleep until killed)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--go", help="after printing ready, wait until this file exists (to start workers together)")
    parser.add_argument("--until", help="drain repeatedly until this file exists")
    parser.add_argument("--every", type=float, default=0.2, help="with --until: seconds between drains")
    args = parser.parse_args()
    django.setup()
    from tailored_cms.tracking import drain

    paused = False

    def pause() -> None:
        nonlocal paused
        if paused and args.resume:
            return
        paused = True
        print("paused", flush=True)
        if args.resume:
            wait_for_file(args.resume)
        else:
            time.sleep(600)

    hooks = {
        "before_commit": pause if args.pause_before_commit else None,
        "before_ack": pause if args.pause_before_ack else None,
    }
    print("ready", flush=True)
    if args.go:
        wait_for_file(args.go)
    if not args.until:
        print(json.dumps(drain(args.seconds, **hooks).as_dict()), flush=True)
        return
    summary = {"drains": 0, "errors": 0, "new": 0, "duplicates": 0, "read": 0}
    while not os.path.exists(args.until):
        summary["drains"] += 1
        try:
            stats = drain(args.seconds, **hooks).as_dict()
        except Exception as exc:  # what a Celery worker does with a failed task: log it, take the next one
            summary["errors"] += 1
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}".strip()}), flush=True)
        else:
            for name in ("new", "duplicates", "read"):
                summary[name] += stats[name]
            print(json.dumps({"stats": stats}), flush=True)
        time.sleep(args.every)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
