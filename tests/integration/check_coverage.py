#!/usr/bin/env python3
"""check_coverage - runs after every integration test (a ctest fixture
cleanup). Two promises of the project:

1. docs/openapi.json is exactly what `tashan-gateway --openapi` prints
   (the document is generated from the route tables, never hand-edited);
2. every route it lists was exercised by the integration suite with at
   least one answer below 500 (the harness records each request's route).

usage: check_coverage.py GATEWAY_BINARY SOURCE_DIR COVERAGE_DIR
"""
import json
import os
import subprocess
import sys

gateway, source, cov_dir = sys.argv[1:4]
passed = failed = 0

generated = json.loads(subprocess.run([gateway, '--openapi'], capture_output=True,
                                      text=True, check=True).stdout)
with open(os.path.join(source, 'docs', 'openapi.json')) as f:
    committed = json.load(f)
if generated == committed:
    passed += 1
    print('ok   docs/openapi.json matches tashan-gateway --openapi')
else:
    failed += 1
    print('FAIL docs/openapi.json is stale: run\n'
          '     build/tashan-gateway --openapi > docs/openapi.json')

hits = {}
for name in os.listdir(cov_dir) if os.path.isdir(cov_dir) else []:
    with open(os.path.join(cov_dir, name)) as f:
        for line in f:
            method, pattern, status = line.split()
            hits.setdefault((method, pattern), set()).add(int(status))
routes = sorted((m.upper(), p) for p, item in generated['paths'].items() for m in item)
missing = [r for r in routes if not any(s < 500 for s in hits.get(r, ()))]
if missing:
    failed += 1
    print('FAIL %d of %d documented routes never exercised by an integration test:'
          % (len(missing), len(routes)))
    for m, p in missing:
        print('       %s %s %s' % (m, p, sorted(hits.get((m, p), ())) or ''))
else:
    passed += 1
    print('ok   all %d documented routes exercised' % len(routes))
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
