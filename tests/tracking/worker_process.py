"""A worker process for the tracking tests: ``python -m tests.tracking.worker_process [--pause-before-ack]``.

It prints ``ready`` once set up, ``paused`` when it stops at a pause (the test kills it there with SIGKILL), and
the drain's stats as JSON when done.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import django


def pause() -> None:
    print("paused", flush=True)
    time.sleep(600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause-before-commit", action="store_true", help="stop inside the transaction")
    parser.add_argument("--pause-before-ack", action="store_true", help="stop after the commit, before XACK")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--go", help="after printing ready, wait until this file exists (to start workers together)")
    args = parser.parse_args()
    django.setup()
    from tailored_cms.tracking import drain

    print("ready", flush=True)
    while args.go and not os.path.exists(args.go):
        time.sleep(0.01)
    stats = drain(
        args.seconds,
        before_commit=pause if args.pause_before_commit else None,
        before_ack=pause if args.pause_before_ack else None,
    )
    print(json.dumps(stats.as_dict()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
