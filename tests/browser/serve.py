#!/usr/bin/env python3
"""serve - start the whole system (tests/integration/harness.py) on a temp
data dir, print the gateway URL and the ops token, and either run a command
with TASHAN_URL and TASHAN_OPS_TOKEN in its environment (its exit code is
ours), or, without a command, keep running until Ctrl-C (for working on the
console by hand).

usage: serve.py [COMMAND ARGS...]
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import harness  # noqa: E402


def main():
    with harness.Harness() as h:
        env = dict(os.environ, TASHAN_URL=h.base_url, TASHAN_OPS_TOKEN=h.ops_token)
        print('gateway %s\nops token %s' % (h.base_url, h.ops_token), flush=True)
        if len(sys.argv) == 1:
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        rc = subprocess.run(sys.argv[1:], env=env).returncode
        problems = h.take_problems() if hasattr(h, 'take_problems') else []
        for p in problems:
            print('harness: %s' % p, flush=True)
        return rc or (1 if problems else 0)


if __name__ == '__main__':
    sys.exit(main())
