"""test_reqid - one request id through every process, deadlines that mean
"not applied", and the Idempotency-Key header (issues 15 and 17).

Runs the real daemons and gateway (harness.py). The logs it reads are the
processes' own stderr, one key=value line per event (ts_log)."""

import os
import re
import signal
import subprocess
import tempfile
import time

import harness

_seq = [0]


def unique(prefix):
    _seq[0] += 1
    return '%s%d-%d' % (prefix, os.getpid() % 10000, _seq[0])


def building(h):
    return h.call('POST', '/v1/buildings',
                  {'number': unique('R'), 'grid': 'G1'}, expect=201)['number']


def household_body(number, name='王芳'):
    return {'building': number, 'room': '301',
            'members': [{'name': name, 'birth_year': 1978}]}


def household_count(h, number):
    body = h.call('GET', '/v1/households?building=%s&include_archived=true'
                  % number)
    return len(body['households'])


def log_lines(h, svc, event, request_id, wait_s=3.0):
    """The lines of svc's log for event that name request_id (waiting a
    little: the daemon writes its line as it answers)."""
    pattern = re.compile(r'\bevent=%s\b.*\brequest_id=%s(\s|$)'
                         % (re.escape(event), re.escape(request_id)))
    deadline = time.monotonic() + wait_s
    while True:
        found = [line for line in h.read_log(svc).splitlines()
                 if pattern.search(line)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def fields(line):
    """key=value pairs of a log line (values without blanks)."""
    return dict(kv.split('=', 1) for kv in line.split() if '=' in kv)


# ----------------------------------------------------------------------
#  Request ids

def test_given_request_id_follows_the_request(h):
    number = building(h)
    status, body, headers = h.request(
        'GET', '/v1/households?building=%s' % number,
        headers={'X-Request-Id': 'abc-123'})
    assert status == 200, body
    assert headers['X-Request-Id'] == 'abc-123'
    gw = log_lines(h, 'gateway', 'http_request', 'abc-123')
    assert len(gw) == 1, gw
    line = fields(gw[0])
    assert line['level'] == 'info'
    assert line['method'] == 'GET'
    assert line['route'] == '/v1/households', line
    assert line['status'] == '200'
    assert line['token'] == 't1', line          # the ops token's id
    assert re.fullmatch(r'\d+\.\d', line['duration_ms']), line
    assert int(line['bytes_out']) > 0 and line['bytes_in'] == '0', line
    #  No raw path, query or secret in the line.
    assert number not in gw[0] and h.ops_token not in gw[0], gw[0]
    daemon = log_lines(h, 'residents', 'request', 'abc-123')
    assert len(daemon) == 1, daemon
    line = fields(daemon[0])
    assert line['method'] == 'residents.ListHouseholds', line
    assert line['status'] == '200'
    assert line['principal'] == 't1'
    assert int(line['duration_us']) >= 0


def test_request_id_made_when_missing_or_malformed(h):
    ids = []
    for given in (None, 'has blank', 'x' * 65, 'semi;colon', ''):
        headers = {} if given is None else {'X-Request-Id': given}
        status, body, got = h.request('GET', '/v1/buildings', headers=headers)
        assert status == 200, body
        made = got['X-Request-Id']
        assert re.fullmatch(r'[0-9a-f]{16}', made), (given, made)
        ids.append(made)
        assert log_lines(h, 'gateway', 'http_request', made), made
        assert log_lines(h, 'residents', 'request', made), made
    assert len(set(ids)) == len(ids), ids
    #  The longest accepted id and every allowed character are kept.
    longest = 'A-z.0_9' * 9 + 'x'
    assert len(longest) == 64
    _, _, got = h.request('GET', '/v1/buildings',
                          headers={'X-Request-Id': longest})
    assert got['X-Request-Id'] == longest


def test_every_answer_carries_and_logs_its_id(h):
    cases = [('GET', '/v1/no-such-route', h.ops_token, 404, 'not_found'),
             ('GET', '/v1/buildings', None, 401, '/v1/buildings'),
             ('GET', '/healthz', None, 200, '/healthz'),
             ('GET', '/', None, 200, 'console'),
             ('DELETE', '/v1/buildings', h.ops_token, 405, 'method_not_allowed'),
             ('POST', '/v1/buildings', h.ops_token, 400, '/v1/buildings')]
    for i, (method, path, token, want, route) in enumerate(cases):
        rid = 'every-%d' % i
        status, body, headers = h.request(
            method, path, token=token, raw_body='{' if want == 400 else None,
            headers={'X-Request-Id': rid})
        assert status == want, (path, status, body)
        assert headers['X-Request-Id'] == rid, (path, dict(headers))
        lines = log_lines(h, 'gateway', 'http_request', rid)
        assert len(lines) == 1, (path, lines)
        assert fields(lines[0])['route'] == route, lines[0]
        assert fields(lines[0])['status'] == str(want), lines[0]


# ----------------------------------------------------------------------
#  Idempotency-Key

def test_idempotency_key_replays_and_conflicts(h):
    number = building(h)
    key = unique('create-household-')
    status, first, _ = h.request('POST', '/v1/households', household_body(number),
                                 headers={'Idempotency-Key': key})
    assert status == 201, first
    #  The same key and body: the stored answer (200), no second household.
    status, again, _ = h.request('POST', '/v1/households', household_body(number),
                                 headers={'Idempotency-Key': key})
    assert status == 200, again
    assert again == first
    assert household_count(h, number) == 1
    #  The same key with another body: 409, nothing created.
    status, body, _ = h.request('POST', '/v1/households',
                                household_body(number, name='李强'),
                                headers={'Idempotency-Key': key})
    assert status == 409, body
    assert 'Idempotency-Key' in body['error']['message'], body
    assert household_count(h, number) == 1
    #  A malformed key: 400, nothing created.
    for bad in ('has blank', 'k' * 256):
        status, body, _ = h.request('POST', '/v1/households', household_body(number),
                                    headers={'Idempotency-Key': bad})
        assert status == 400, (bad, body)
    assert household_count(h, number) == 1
    #  Without a key each POST creates.
    h.call('POST', '/v1/households', household_body(number), expect=201)
    assert household_count(h, number) == 2


def test_idempotency_key_is_per_route_and_caller_role(h):
    key = unique('shared-')
    number = building(h)
    status, _, _ = h.request('POST', '/v1/households', household_body(number),
                             headers={'Idempotency-Key': key})
    assert status == 201
    #  The same key on another create is another request (its own scope).
    status, body, _ = h.request('POST', '/v1/buildings',
                                {'number': unique('R'), 'grid': 'G1'},
                                headers={'Idempotency-Key': key})
    assert status == 201, body


# ----------------------------------------------------------------------
#  Deadlines: a 503 means "not applied"

def test_deadline_passed_while_stopped_is_not_applied(h):
    number = building(h)
    h.kill('residents', signal.SIGSTOP)
    try:
        started = time.monotonic()
        status, body, headers = h.request(
            'POST', '/v1/households', household_body(number),
            headers={'X-Request-Id': 'late-create-1'}, timeout_s=10)
        took_s = time.monotonic() - started
        assert status == 503, body
        assert took_s < 2.0, took_s
        time.sleep(0.5)
    finally:
        h.kill('residents', signal.SIGCONT)
    h.wait_healthy()
    #  The daemon found the request past its deadline: answered 504 (to
    #  nobody) and applied nothing.
    lines = log_lines(h, 'residents', 'request', 'late-create-1', wait_s=5)
    assert len(lines) == 1, lines
    assert fields(lines[0])['status'] == '504', lines[0]
    assert household_count(h, number) == 0
    #  The gateway said why at warn, and logged the 503 it gave.
    warn = [line for line in h.read_log('gateway').splitlines()
            if 'event=service_unavailable' in line and 'service=residents' in line]
    assert warn and 'level=warn' in warn[-1], warn
    gw = log_lines(h, 'gateway', 'http_request', 'late-create-1')
    assert fields(gw[0])['status'] == '503', gw
    #  The retry the 503 asked for creates exactly one household.
    h.call('POST', '/v1/households', household_body(number), expect=201)
    assert household_count(h, number) == 1


# ----------------------------------------------------------------------
#  The switch: log.requests = errors

def test_log_requests_errors_only(h):
    del h                           # a system of its own, with the switch set
    with tempfile.NamedTemporaryFile('w', suffix='.conf', delete=False) as f:
        f.write('log.requests = errors\n')
        conf = f.name
    try:
        with harness.Harness(extra_args={'*': ['--config', conf]}) as other:
            status, _, _ = other.request('GET', '/v1/buildings',
                                         headers={'X-Request-Id': 'quiet-ok'})
            assert status == 200
            status, _, _ = other.request('GET', '/v1/buildings/b999999',
                                         headers={'X-Request-Id': 'loud-404'})
            assert status == 404
            assert log_lines(other, 'gateway', 'http_request', 'loud-404')
            assert log_lines(other, 'residents', 'request', 'loud-404')
            time.sleep(0.2)
            assert not log_lines(other, 'gateway', 'http_request', 'quiet-ok', 0)
            assert not log_lines(other, 'residents', 'request', 'quiet-ok', 0)
    finally:
        os.unlink(conf)


def test_bad_log_requests_setting_refuses_to_start(h):
    with tempfile.NamedTemporaryFile('w', suffix='.conf', delete=False) as f:
        f.write('log.requests = some\n')
        conf = f.name
    try:
        out = subprocess.run([os.path.join(h.bin_dir, 'tashan-residents'),
                              '--config', conf, '--data-dir', tempfile.gettempdir()],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 2, out
        assert 'log.requests must be all, errors or off' in out.stderr, out.stderr
    finally:
        os.unlink(conf)


if __name__ == '__main__':
    harness.main(globals())
