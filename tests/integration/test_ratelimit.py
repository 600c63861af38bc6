"""test_ratelimit - the gateway's per-caller rate limits: over its rate a
token (or, without a token, a client address) gets 429 with Retry-After
and the SPEC error shape; other callers are not affected; the bucket
refills; /healthz is never limited.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_ratelimit.py
"""
import atexit
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CONF_DIR = tempfile.mkdtemp(prefix='tashan-rate-')
atexit.register(shutil.rmtree, CONF_DIR, True)
CONF = os.path.join(CONF_DIR, 'tashan.conf')
with open(CONF, 'w') as f:
    f.write('rate_limit.token_per_s = 5\nrate_limit.public_per_s = 3\n')


def burst(h, path, token, n):
    return [h.request('GET', path, token=token) for _ in range(n)]


def test_token_over_its_rate_gets_429(h):
    token = h.make_token('panel')
    time.sleep(1.1)                             # a full bucket
    answers = burst(h, '/v1/credit/rules', token, 8)
    statuses = [a[0] for a in answers]
    assert statuses[:5] == [200] * 5, statuses
    assert 429 in statuses[5:], statuses
    status, body, headers = next(a for a in answers if a[0] == 429)
    assert body == {'error': {'code': 'too_many_requests',
                              'message': body['error']['message']}}, body
    assert headers['Retry-After'] == '1'
    # Another token is not affected; the first refills after a second.
    other = h.make_token('panel')
    assert h.request('GET', '/v1/credit/rules', token=other)[0] == 200
    time.sleep(1.1)
    assert h.request('GET', '/v1/credit/rules', token=token)[0] == 200


def test_public_calls_limited_per_address(h):
    time.sleep(1.1)
    statuses = [s for s, _, _ in burst(h, '/v1/codes/AAAAAAAAAAAAAAAAAAAAAAAAAA', None, 6)]
    assert statuses[:3] == [404] * 3, statuses
    assert 429 in statuses[3:], statuses


def test_healthz_is_never_limited(h):
    statuses = [h.request('GET', '/healthz', token=None)[0] for _ in range(20)]
    assert statuses == [200] * 20, statuses


def test_metrics_count_429(h):
    status, text, _ = h.request('GET', '/metrics', token=None)
    assert status == 200 and 'status="429"' in text, text[:400]


if __name__ == '__main__':
    harness.main(globals(), extra_args={'*': ['--config', CONF]})
