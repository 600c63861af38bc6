"""test_gateway - the foundation end to end: every daemon and the gateway
on a temp data dir; /healthz, tokens, auth errors, routing errors, body
limits, JSON errors, 503 within 2 s when a daemon is down, /metrics,
tashanctl status/backup/restore.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_gateway.py
"""

import os
import signal
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def test_healthz_lists_every_service_up(h):
    #  The gateway and every daemon of services/services.list.
    status, body, _ = h.request('GET', '/healthz', token=None)
    assert status == 200, (status, body)
    assert body['status'] == 'ok'
    names = [s['name'] for s in body['services']]
    assert sorted(names) == sorted(harness.SERVICES), names
    for s in body['services']:
        assert s['up'] is True and s['version'], s
        assert s['uptime_ms'] >= 0


def test_ops_token_file_is_private(h):
    path = os.path.join(h.data_dir, 'gateway', 'ops.token')
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, oct(mode)
    assert open(path).read().strip().startswith('tsn_')


def test_token_round_trip_and_revoke(h):
    h.make_school('S1')
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'school', 'school_id': 'S1'})
    assert status == 201, body
    assert body['role'] == 'school' and body['school_id'] == 'S1' and body['token']
    token, token_id = body['token'], body['id']
    # The new token authenticates (the daemon then decides the role: 403).
    status, body, _ = h.request('GET', '/v1/credit/rules', token=token)
    assert status in (200, 403), (status, body)
    assert status != 401
    status, body, _ = h.request('DELETE', '/v1/tokens/' + token_id)
    assert status == 200 and body == {'id': token_id, 'revoked': True}, body
    status, body, _ = h.request('GET', '/v1/credit/rules', token=token)
    assert status == 401, (status, body)
    status, body, _ = h.request('DELETE', '/v1/tokens/t999999')
    assert status == 404 and body['error']['code'] == 'not_found', body


def test_token_validation(h):
    for bad in ({'role': 'king'}, {'role': 'school'}, {'role': 'merchant'},
                {'role': 'panel', 'school_id': 'S1'}, {'role': 'school', 'school_id': 'x' * 65},
                {'role': 'panel', 'colour': 'red'}, {'role': 7}):
        status, body, _ = h.request('POST', '/v1/tokens', bad)
        assert status == 400, (bad, status, body)
        assert body['error']['code'] == 'bad_request' and body['error']['message'], body


def test_only_ops_manage_tokens(h):
    panel = h.make_token('panel')
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'ops'}, token=panel)
    assert status == 403 and body['error']['code'] == 'forbidden', body


def test_bad_or_missing_token_is_401(h):
    for token in (None, 'nonsense', 'tsn_' + 'A' * 43):
        status, body, _ = h.request('GET', '/v1/credit/rules', token=token)
        assert status == 401, (token, status, body)
        assert body == {'error': {'code': 'unauthorized',
                                  'message': body['error']['message']}}, body
    status, body, _ = h.request('GET', '/v1/credit/rules', token=None,
                                headers={'Authorization': 'Basic Zm9vOmJhcg=='})
    assert status == 401, body


def test_unknown_route_is_404_json(h):
    status, body, headers = h.request('GET', '/v1/no/such/thing')
    assert status == 404 and body['error']['code'] == 'not_found', body
    assert 'json' in headers['Content-Type']
    status, body, _ = h.request('GET', '/nothing', token=None)
    assert status == 404, body


def test_wrong_method_is_405(h):
    status, body, _ = h.request('DELETE', '/v1/credit/rules')
    assert status == 405 and body['error']['code'] == 'method_not_allowed', body


def test_malformed_json_and_unknown_fields_are_400(h):
    status, body, _ = h.request('POST', '/v1/buildings', raw_body='{"number": "1",')
    assert status == 400 and 'JSON' in body['error']['message'], body
    status, body, _ = h.request('POST', '/v1/buildings', {'number': '1', 'grid': 'G1',
                                                           'height': 3})
    assert status == 400 and 'height' in body['error']['message'], body
    status, body, _ = h.request('POST', '/v1/buildings', {'number': 12, 'grid': 'G1'})
    assert status == 400 and 'number' in body['error']['message'], body
    status, body, _ = h.request('POST', '/v1/buildings', raw_body='[1,2]')
    assert status == 400, body


def test_body_over_1_mib_is_413(h):
    big = '{"number":"' + 'x' * (1024 * 1024 + 10) + '"}'
    status, body, _ = h.request('POST', '/v1/buildings', raw_body=big)
    assert status == 413 and body['error']['code'] == 'too_large', (status, body)


def test_bad_query_parameter_is_400(h):
    status, body, _ = h.request('GET', '/v1/credit/rules?colour=red')
    assert status == 400 and 'colour' in body['error']['message'], body


def test_daemon_down_gives_503_within_2s(h):
    h.kill('ledger', signal.SIGKILL)
    try:
        t0 = time.time()
        status, body, _ = h.request('GET', '/v1/credit/rules')
        elapsed = time.time() - t0
        assert status == 503, (status, body)
        assert body['error']['code'] == 'unavailable', body
        assert elapsed < 2.0, elapsed
        status, body, _ = h.request('GET', '/healthz', token=None)
        assert status == 503, body
        down = [s['name'] for s in body['services'] if not s['up']]
        assert down == ['ledger'], body
    finally:
        h.start('ledger')
    h.wait_healthy()
    h.call('GET', '/v1/credit/rules')


def test_metrics_prometheus_text(h):
    h.request('GET', '/v1/no/such/thing')
    status, text, headers = h.request('GET', '/metrics', token=None)
    assert status == 200 and headers['Content-Type'].startswith('text/plain'), status
    assert 'tashan_http_requests_total{route="not_found",status="404"}' in text, text[:500]
    assert ('tashan_http_request_duration_seconds_bucket{route="not_found",le="+Inf"}'
            in text), text[:500]
    for line in text.splitlines():
        if line and not line.startswith('#'):
            name, value = line.rsplit(' ', 1)
            float(value)


def _connections_accepted(h):
    """The gateway's count of accepted TCP connections (/metrics)."""
    status, text, _ = h.request('GET', '/metrics', token=None)
    assert status == 200, status
    for line in text.splitlines():
        if line.startswith('tashan_http_connections_accepted_total '):
            return int(float(line.split()[1]))
    raise AssertionError('no tashan_http_connections_accepted_total in /metrics')


def test_keep_alive_many_requests_one_connection(h):
    #  Proof of reuse from the server's side: a server that closed after
    #  every answer would pass the status checks too (the client
    #  reconnects), but would accept a connection per request.
    before = _connections_accepted(h)
    for _ in range(50):
        status, _, headers = h.request('GET', '/healthz', token=None)
        assert status == 200
        assert headers.get('Connection', '').lower() != 'close', headers
    after = _connections_accepted(h)
    assert after == before, (before, after)


def test_slowloris_headers_are_cut_off(h):
    s = socket.create_connection(('127.0.0.1', h.port))
    s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n')
    s.settimeout(15)
    data = b''
    t0 = time.time()
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert time.time() - t0 < 14 and b'408' in data.split(b'\r\n')[0], data[:200]


def test_console_page(h):
    status, text, headers = h.request('GET', '/', token=None)
    assert status == 200 and headers['Content-Type'].startswith('text/html'), status
    assert '<title>塔山社区工作台</title>' in text and '/console/app.js' in text
    status, _, _ = h.request('GET', '/console', token=None)
    assert status == 200


def test_tashanctl_status(h):
    cp = h.tashanctl('status')
    assert cp.returncode == 0, cp.stderr
    for name in harness.DOMAIN_SERVICES:
        assert name in cp.stdout
    cp = h.tashanctl('frobnicate')
    assert cp.returncode == 2 and 'unknown command' in cp.stderr


def test_backup_and_restore(h):
    # Something to keep: a building in residents, a token in the gateway.
    number = 'bk%d' % os.getpid()
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G9'}, expect=201)
    school = h.make_token('school', school_id=h.make_school('SBK'))
    backup = os.path.join(h.data_dir, 'backups', 'one')
    cp = h.tashanctl('backup', backup)
    assert cp.returncode == 0, cp.stderr
    for svc in harness.SERVICES:
        assert os.path.getsize(os.path.join(backup, svc, 'data.mdb')) > 0, svc
    # A second backup into the same place is refused, not overwritten.
    cp = h.tashanctl('backup', backup)
    assert cp.returncode != 0
    # Restore refuses while daemons run.
    cp = h.tashanctl('restore', backup)
    assert cp.returncode == 1 and 'stop every daemon' in cp.stderr, cp.stderr
    # Change state after the backup, stop, restore, start: the change is gone.
    later = 'late%d' % os.getpid()
    h.call('POST', '/v1/buildings', {'number': later, 'grid': 'G9'}, expect=201)
    h.stop_daemons()
    cp = h.tashanctl('restore', backup)
    assert cp.returncode == 0, cp.stderr
    h.start_all()
    h.wait_healthy()
    listing = h.call('GET', '/v1/buildings?page_size=1000')
    numbers = [b['number'] for b in listing['buildings']]
    assert number in numbers and later not in numbers, numbers
    status, _, _ = h.request('GET', '/v1/credit/rules', token=school)
    assert status != 401


if __name__ == '__main__':
    harness.main(globals())
