#!/usr/bin/env python3
"""test_redocly - @redocly/cli lint of docs/openapi.json (recommended rules).

Fails on any error, and on any warning whose rule redocly.yaml does not
list with its reason. Skips (77) when tests/contract/node_modules is
missing, unless TASHAN_CONTRACT_REQUIRED=1 (deploy/test.sh installs it)."""
import json
import os
import re
import subprocess
import sys

import contractlib

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get('TASHAN_SOURCE_DIR') or os.path.join(HERE, '..', '..')
CLI = contractlib.npm_tool('redocly')


def documented_warnings():
    """The rules redocly.yaml explains (its comment's first column)."""
    with open(os.path.join(HERE, 'redocly.yaml')) as f:
        return set(re.findall(r'^#   ([a-z0-9-]+) ', f.read(), re.M))


def main():
    rc = contractlib.missing(CLI, 'npm ci in tests/contract')
    if rc is not None:
        return rc
    spec = os.path.join(SOURCE, 'docs', 'openapi.json')
    run = subprocess.run([CLI, 'lint', '--config', os.path.join(HERE, 'redocly.yaml'),
                          '--format', 'json', spec], capture_output=True, timeout=240)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        print('redocly lint printed no report (exit %d):\n%s%s'
              % (run.returncode, run.stdout.decode(errors='replace')[-3000:],
                 run.stderr.decode(errors='replace')[-3000:]))
        return 1
    allowed = documented_warnings()
    bad = [p for p in report['problems']
           if p['severity'] == 'error' or p['ruleId'] not in allowed]
    for p in bad:
        where = p['location'][0]['pointer'] if p.get('location') else ''
        print('%s %s: %s (%s)' % (p['severity'], p['ruleId'], p['message'], where))
    totals = report.get('totals', {})
    print('redocly lint: %d errors, %d warnings (documented: %s)'
          % (totals.get('errors', -1), totals.get('warnings', -1), ', '.join(sorted(allowed))))
    return 1 if bad or totals.get('errors') != 0 else 0


if __name__ == '__main__':
    sys.exit(main())
