"""test_tokens - bearer tokens as ops manages them (issue 14 "Tokens",
issue 17 "No self-lockout"):

- a merchant token needs an existing merchant (422 otherwise);
- optional expiry (expires_at, RFC 3339): refused at creation in the
  past, 401 once passed;
- GET /v1/tokens lists ids, roles, bindings, creation, last use, expiry,
  never a secret;
- DELETE refuses the caller's own token without ?self=true and the last
  live ops token (409), and logs who revoked;
- recovery on the box: `tashanctl token create --role ops` writes into the
  store of a stopped gateway (refused while it runs).

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_tokens.py
"""
import datetime
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def rfc3339(seconds_from_now):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def test_merchant_binding_is_checked(h):
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'merchant',
                                                       'merchant_id': 'm999999'})
    assert status == 422 and 'm999999' in body['error']['message'], (status, body)
    m = h.call('POST', '/v1/merchants', {'name': '塔山便民超市', 'kind': 'enterprise',
                                         'category': 'grocery', 'services': ['delivery']})
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'merchant',
                                                       'merchant_id': m['id']})
    assert status == 201 and body['merchant_id'] == m['id'], (status, body)
    # The merchants daemon down: 503, nothing made.
    h.kill('merchants')
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'merchant',
                                                       'merchant_id': m['id']})
    assert status == 503, (status, body)
    h.start('merchants')


def _token_count(h):
    return len(h.call('GET', '/v1/tokens?page_size=1000')['tokens'])


def test_school_binding_is_checked(h):
    """A school token names a school the community knows: one that a
    current pupil's school_id names (residents.GetSchool)."""
    school = 'S9-%d' % os.getpid()
    before = _token_count(h)
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'school', 'school_id': school})
    assert status == 422, (status, body)
    assert body['error']['message'] == ('no school %s in the community (no pupil has this '
                                         'school_id)' % school), body
    # Bad input is still a 400, before any daemon is asked.
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'school', 'school_id': 'x' * 65})
    assert status == 400, (status, body)
    assert _token_count(h) == before
    # A pupil of that school makes it known; a prefix of its id is not it.
    h.make_school(school)
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'school', 'school_id': school})
    assert status == 201 and body['school_id'] == school, (status, body)
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'school',
                                                       'school_id': school[:-1]})
    assert status == 422, (status, body)
    assert _token_count(h) == before + 1
    # The residents daemon down: 503, nothing made.
    h.kill('residents')
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'school', 'school_id': school})
    assert status == 503 and 'school' in body['error']['message'], (status, body)
    h.start('residents')
    assert _token_count(h) == before + 1


def test_expiry(h):
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'panel',
                                                       'expires_at': '2020-01-01T00:00:00Z'})
    assert status == 400 and 'expires_at' in body['error']['message'], body
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'panel', 'expires_at': 'soon'})
    assert status == 400, body
    tok = h.call('POST', '/v1/tokens', {'role': 'panel', 'expires_at': rfc3339(2)})
    assert tok['expires_at'], tok
    assert h.request('GET', '/v1/session', token=tok['token'])[0] == 200
    time.sleep(3)
    status, _, headers = h.request('GET', '/v1/session', token=tok['token'])
    assert status == 401 and 'invalid_token' in headers['WWW-Authenticate'], status
    listed = {t['id']: t for t in h.call('GET', '/v1/tokens?page_size=1000')['tokens']}
    assert listed[tok['id']]['expired'] is True


def test_list_tokens(h):
    h.make_school('S1')
    tok = h.call('POST', '/v1/tokens', {'role': 'school', 'school_id': 'S1', 'note': 'S1 portal'})
    h.call('GET', '/v1/session', token=tok['token'])
    body = h.call('GET', '/v1/tokens?page_size=1000')
    assert body['next_page_token'] == ''
    listed = {t['id']: t for t in body['tokens']}
    mine = listed[tok['id']]
    assert mine['role'] == 'school' and mine['binding'] == 'S1', mine
    assert mine['note'] == 'S1 portal' and mine['created_at'] and mine['created_by'] == 't1'
    assert mine['last_used_at'], mine               # from memory, before any flush
    assert listed['t1']['role'] == 'ops' and listed['t1']['created_by'] == 'bootstrap'
    text = str(body)
    assert tok['token'] not in text and h.ops_token not in text
    assert all('token' not in t and 'hash' not in t for t in body['tokens'])
    # Pages.
    first = h.call('GET', '/v1/tokens?page_size=1')
    assert len(first['tokens']) == 1 and first['next_page_token'] == first['tokens'][0]['id']
    status, _, _ = h.request('GET', '/v1/tokens?page_size=5000')
    assert status == 400
    status, _, _ = h.request('GET', '/v1/tokens?bogus=1')
    assert status == 400
    # Ops only.
    status, _, _ = h.request('GET', '/v1/tokens', token=tok['token'])
    assert status == 403


def test_own_token_needs_self_true(h):
    ops2 = h.call('POST', '/v1/tokens', {'role': 'ops', 'note': 'second desk'})
    status, body, _ = h.request('DELETE', '/v1/tokens/' + ops2['id'], token=ops2['token'])
    assert status == 409 and 'self=true' in body['error']['message'], body
    assert h.request('GET', '/v1/session', token=ops2['token'])[0] == 200
    status, _, _ = h.request('DELETE', '/v1/tokens/%s?self=maybe' % ops2['id'],
                             token=ops2['token'])
    assert status == 400
    status, body, _ = h.request('DELETE', '/v1/tokens/%s?self=true' % ops2['id'],
                                token=ops2['token'])
    assert status == 200 and body['revoked'] is True, body
    assert h.request('GET', '/v1/session', token=ops2['token'])[0] == 401
    assert 'event=token_revoked id=%s role=ops by=%s' % (ops2['id'], ops2['id']) \
        in h.read_log('gateway')


def test_last_ops_token_and_recovery_on_the_box(h):
    """Its own system: the bootstrap token is the only ops token there."""
    with harness.Harness() as other:
        ops1 = other.ops_token
        status, body, _ = other.request('DELETE', '/v1/tokens/t1?self=true')
        assert status == 409 and 'last live ops token' in body['error']['message'], body
        assert other.request('GET', '/v1/session')[0] == 200
        # A panel token does not count; revoking it is fine.
        panel = other.call('POST', '/v1/tokens', {'role': 'panel'})
        other.call('DELETE', '/v1/tokens/' + panel['id'])
        assert 'event=token_revoked id=%s role=panel by=t1' % panel['id'] \
            in other.read_log('gateway')
        # tashanctl refuses while the gateway runs (one writer).
        cp = other.tashanctl('token', 'create', '--role', 'ops')
        assert cp.returncode == 1 and 'gateway.lock' in cp.stderr, cp
        school = other.make_school()
        other.kill('gateway', signal.SIGTERM)
        # A school binding is checked as the gateway checks it.
        cp = other.tashanctl('token', 'create', '--role', 'school', '--binding', school + 'x')
        assert cp.returncode == 1 and 'no school %sx' % school in cp.stderr, cp
        cp = other.tashanctl('token', 'create', '--role', 'school', '--binding', school)
        assert cp.returncode == 0 and cp.stdout.startswith('tsn_'), cp
        cp = other.tashanctl('token', 'create', '--role', 'bogus')
        assert cp.returncode == 2 and 'role must be' in cp.stderr, cp
        cp = other.tashanctl('token', 'create', '--role', 'ops', '--note', 'recovery')
        assert cp.returncode == 0, cp.stderr
        recovered = cp.stdout.strip()
        assert recovered.startswith('tsn_') and 'shown only this once' in cp.stderr
        cp = other.tashanctl('token', 'create', '--help')
        assert cp.returncode == 0 and '--role' in cp.stdout
        other.start('gateway')
        status, body, _ = other.request('GET', '/v1/session', token=recovered)
        assert status == 200 and body['role'] == 'ops', body
        # With a second ops token, the first may go.
        status, _, _ = other.request('DELETE', '/v1/tokens/t1', token=recovered)
        assert status == 200
        assert other.request('GET', '/v1/session', token=ops1)[0] == 401
        listed = {t['id']: t for t in other.call('GET', '/v1/tokens', token=recovered)['tokens']}
        assert listed['t1']['revoked'] and listed['t1']['revoked_by'] == body['token_id']
        assert listed[body['token_id']]['created_by'] == 'tashanctl'


if __name__ == '__main__':
    harness.main(globals())
