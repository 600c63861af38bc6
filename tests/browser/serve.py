#!/usr/bin/env python3
"""serve - start the whole system (tests/integration/harness.py) on a temp
data dir, print the gateway URL and the ops token, and either run a command
with TASHAN_URL and TASHAN_OPS_TOKEN in its environment (its exit code is
ours), or, without a command, keep running until Ctrl-C (for working on the
console by hand).

usage: serve.py [COMMAND ARGS...]
       serve.py --browser-test   (ctest: the console's browser suite)

--browser-test runs `node console.test.mjs` beside this file. When Debian's
chromium or tests/browser/node_modules (npm ci) is missing it skips (exit
77), unless TASHAN_BROWSER_REQUIRED=1 (deploy/test.sh sets it), then fails.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import harness  # noqa: E402


HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77


def browser_test_command():
    chromium = os.environ.get('CHROMIUM', '/usr/bin/chromium')
    missing = [what for what, ok in (
        (chromium, os.access(chromium, os.X_OK)),
        ('node', any(os.access(os.path.join(d, 'node'), os.X_OK)
                     for d in os.environ.get('PATH', '').split(os.pathsep))),
        ('tests/browser/node_modules (npm ci)',
         os.path.isdir(os.path.join(HERE, 'node_modules', 'playwright-core'))),
    ) if not ok]
    if missing:
        print('browser tests: missing %s' % ', '.join(missing), flush=True)
        if os.environ.get('TASHAN_BROWSER_REQUIRED') == '1':
            sys.exit(1)
        print('skipped (deploy/test.sh installs them)', flush=True)
        sys.exit(SKIP)
    return ['node', os.path.join(HERE, 'console.test.mjs')]


def main():
    if sys.argv[1:] == ['--browser-test']:
        sys.argv[1:] = browser_test_command()
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
