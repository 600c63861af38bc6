#!/usr/bin/env python3
"""test_dredd - dredd checks docs/openapi.json against the running system.

Starts the real daemons and gateway (tests/integration/harness.py), makes
the records every operation needs (dredd_plan.py: a compound to archive,
an order in each state, a tender past its deadline...), and runs dredd
over a copy of the document cut down to the operations planned (every
one of the document's), each with the success response it answers (201
for a create, 200 for a read or a change). dredd sends each request
(hooks.js supplies the token, the ids and the bodies) and checks the
answer's status, headers and body against the document: an undocumented
status, a missing or extra field, a value outside its enum all fail.
Operations left out, and why, are in SKIPPED.

Skips (77) when tests/contract/node_modules is missing, unless
TASHAN_CONTRACT_REQUIRED=1 (deploy/test.sh installs it)."""
import copy
import json
import os
import subprocess
import sys

import contractlib
import dredd_plan
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get('TASHAN_SOURCE_DIR') or os.path.join(HERE, '..', '..')
sys.path.insert(0, os.path.join(SOURCE, 'tests', 'integration'))
import harness  # noqa: E402

DREDD = contractlib.npm_tool('dredd')
DREDD_TIMEOUT_S = 240

#  Reads without an id that need query parameters (the others need none).
QUERIES = {
    'volunteers.ListNotifications': '?person_id=p1',
    'gateway.QrSvg': '?text=hello',
    'residents.Lookup': '?building={number}&room=101',
    'residents.ListHouseholds': '?building={number}',
}
#  Operations left out, and why (none so far: dredd_plan.py makes what
#  each one needs).
SKIPPED = {}


def plan_for(doc, seeded):
    """{operationId: {path, body?, token?, public?}} for the operations
    tested: every read without an id, and dredd_plan's steps."""
    plan = {}
    for path, item in doc['paths'].items():
        for method, op in item.items():
            oid = op['operationId']
            if method == 'get' and '{' not in path and oid not in SKIPPED:
                plan[oid] = {'path': path + QUERIES.get(oid, '').format(**seeded.ids)}
    for oid, step in dredd_plan.steps(seeded).items():
        plan[oid] = {'path': step[0]}
        if step[1] is not None:
            plan[oid]['body'] = step[1]
        if len(step) > 2 and step[2] is None:
            plan[oid]['public'] = True
        elif len(step) > 2:
            plan[oid]['token'] = step[2]
    plan['gateway.Health'] = {'path': '/healthz', 'public': True}
    return plan


def inline(node, schemas, depth=0):
    """node with every $ref replaced by its schema: dredd's OpenAPI 3
    reader checks bodies only against schemas without references."""
    assert depth < 32, 'schema nesting too deep'
    if isinstance(node, list):
        return [inline(v, schemas, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get('$ref')
    if ref:
        return inline(schemas[ref.rsplit('/', 1)[1]], schemas, depth + 1)
    return {k: inline(v, schemas, depth + 1) for k, v in node.items()}


def cut(doc, plan):
    """The document with only the planned operations and their success
    (the first 2xx documented: 201 for a create)."""
    out = copy.deepcopy(doc)
    found = set()
    for path in list(out['paths']):
        item = out['paths'][path]
        for method in list(item):
            op = item[method]
            if op['operationId'] not in plan:
                del item[method]
                continue
            found.add(op['operationId'])
            op['summary'] = op['operationId']      # dredd names transactions by it
            ok = sorted(s for s in op['responses'] if s.startswith('2'))[-1:]
            if method == 'post' or op['operationId'] == 'ledger.RevokeMedal':
                ok = ['201']
            if op['operationId'] in dredd_plan.ANSWERS_200:
                ok = ['200']
            op['responses'] = inline({s: op['responses'][s] for s in ok},
                                     doc['components']['schemas'])
        if not item:
            del out['paths'][path]
    missing = set(plan) - found
    assert not missing, 'planned operations not in the document: %s' % sorted(missing)
    return out


def plain(node):
    """node without format (the int64 of protobuf is no JSON Schema draft 4
    format: dredd's validator fails on it without a word)."""
    if isinstance(node, list):
        return [plain(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {k: plain(v) for k, v in node.items() if k != 'format'}


def swagger2(doc):
    """The cut document as Swagger 2.0: dredd checks bodies against JSON
    Schema for OpenAPI 2 only (its OpenAPI 3 reader ignores the schemas,
    apiaryio/dredd#1281). The schemas are inlined already."""
    paths = {}
    for path, item in doc['paths'].items():
        for method, op in item.items():
            params = []
            for p in op.get('parameters', []):
                if '$ref' in p:
                    continue        # the shared headers (X-Request-Id...): optional
                schema = p['schema']
                param = {k: p[k] for k in ('name', 'in', 'required') if k in p}
                param.update({k: schema[k] for k in ('type', 'format', 'enum', 'minimum')
                              if k in schema})
                if 'example' in p:
                    param['x-example'] = p['example']
                params.append(param)
            body = op.get('requestBody')
            if body:
                params.append({'name': 'body', 'in': 'body', 'required': True,
                               'schema': inline(body['content']['application/json']['schema'],
                                                doc['components']['schemas'])})
            responses = {}
            produces = []
            for status, resp in op['responses'].items():
                content = resp.get('content', {})
                out = {'description': resp['description']}
                for ctype, media in content.items():
                    produces.append(ctype)
                    if ctype == 'application/json':
                        out['schema'] = media['schema']
                responses[status] = out
            paths.setdefault(path, {})[method] = {
                'summary': op['summary'], 'operationId': op['operationId'],
                'parameters': params, 'responses': responses,
                'produces': produces or ['application/json'],
                'consumes': ['application/json']}
    return plain({'swagger': '2.0', 'info': doc['info'], 'paths': paths})


def main():
    rc = contractlib.missing(DREDD, 'npm ci in tests/contract')
    if rc is not None:
        return rc
    with open(os.path.join(SOURCE, 'docs', 'openapi.json')) as f:
        doc = json.load(f)
    with harness.Harness() as h, tempfile.TemporaryDirectory() as tmp:
        plan = plan_for(doc, dredd_plan.seed(h))
        spec = os.path.join(tmp, 'openapi.json')
        with open(spec, 'w') as f:
            json.dump(swagger2(cut(doc, plan)), f)
        env = dict(os.environ, TASHAN_DREDD_PLAN=json.dumps(plan),
                   TASHAN_DREDD_TOKEN=h.ops_token)
        t0 = time.monotonic()
        run = subprocess.run([DREDD, spec, h.base_url, '--hookfiles',
                              os.path.join(HERE, 'hooks.js'), '--loglevel', 'warning',
                              '--reporter', 'dot', '--language', 'nodejs'],
                             env=env, cwd=HERE, capture_output=True,
                             timeout=DREDD_TIMEOUT_S)
        out = (run.stdout + run.stderr).decode(errors='replace')
    print(out if os.environ.get("TASHAN_DREDD_FULL") else out[-6000:])
    print('dredd: %d of %d operations in %.0f s, exit %d (left out on purpose: %s)'
          % (len(plan), sum(len(item) for item in doc['paths'].values()),
             time.monotonic() - t0, run.returncode,
             ', '.join('%s (%s)' % kv for kv in sorted(SKIPPED.items())) or 'none'))
    if run.returncode != 0 or ' 0 failing' not in out.replace('\x1b[39m', ''):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
