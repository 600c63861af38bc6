"""test_merchants - the merchants daemon through the gateway: registry,
the public code and its QR symbol, complaints and standing, the market,
check-ins (roles, bad input, idempotency, a check-in while the ledger is
down), notices and the standing rules. Every route, every role.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_merchants.py
"""

import itertools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

_seq = itertools.count(1)
EVENT_WAIT_S = 15           # events cross daemons within this


def unique(prefix):
    return '%s%d-%d' % (prefix, os.getpid(), next(_seq))


def merchant(h, name='Wang barber', **extra):
    body = {'name': name, 'kind': 'individual', 'category': 'beauty',
            'services': ['haircut', 'repair'],
            'free_services': ['free haircut'],
            'contact': '13812345678', 'address': 'Building 12, shop 3'}
    body.update(extra)
    return h.call('POST', '/v1/merchants', body, expect=201)


def merchant_token(h, merchant_id):
    return h.make_token('merchant', merchant_id=merchant_id)


def person(h):
    """A new resident (through the residents daemon); returns its id."""
    number = unique('B')
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G3'},
           expect=201)
    household = h.call('POST', '/v1/households',
                       {'building': number, 'room': '301',
                        'members': [{'name': 'Li Hua', 'birth_year': 1970}]},
                       expect=201)
    return household['members'][0]['id']


def error_code(body):
    assert isinstance(body, dict) and 'error' in body, body
    return body['error']['code']


_codes = {}


def card_code(h, person_id, fresh=False, **options):
    """The resident's card code text (cached per person unless fresh), or
    with options the whole reply of a new code."""
    if options:
        return h.card_code(person_id, **options)
    if person_id not in _codes or fresh:
        _codes[person_id] = h.card_code(person_id)['code']
    return _codes[person_id]


def checkin(h, token, merchant_id, person_id, service='haircut',
            market_id=None, checkin_id=None, code=None, served_at=None):
    body = {'checkin_id': checkin_id or unique('c'),
            'merchant_id': merchant_id,
            'resident_code': code or card_code(h, person_id),
            'service': service}
    if market_id:
        body['market_id'] = market_id
    if served_at:
        body['served_at'] = served_at
    return h.request('POST', '/v1/checkins', body, token=token)


def wait_checkin(h, token, merchant_id, person_id, **kw):
    """Post a check-in, retrying while the person is not yet known to the
    merchants daemon (the residents event is on its way)."""
    deadline = time.monotonic() + EVENT_WAIT_S
    while True:
        status, body, _ = checkin(h, token, merchant_id, person_id, **kw)
        if status != 422 or time.monotonic() > deadline:
            return status, body
        time.sleep(0.1)


def market_with(h, merchant_id, date='2026-06-06'):
    market = h.call('POST', '/v1/markets',
                    {'date': date, 'place': 'Tashan square',
                     'title': 'Convenience market'}, expect=201)
    h.call('POST', '/v1/markets/%s/merchants' % market['id'],
           {'merchant_id': merchant_id}, expect=201)
    return market


# ----------------------------------------------------------------------
#  Registry

def test_register_get_list_patch(h):
    m = merchant(h, licence_no=unique('L'))
    assert m['id'].startswith('m') and len(m['code']) == 26, m
    assert m['standing'] == 'good' and m['contact'] == '13812345678', m
    got = h.call('GET', '/v1/merchants/' + m['id'])
    assert got['name'] == 'Wang barber' and got['free_services'] == ['free haircut']
    listed = h.call('GET', '/v1/merchants?page_size=1000')
    assert m['id'] in [x['id'] for x in listed['merchants']]
    assert listed['next_page_token'] == ''
    patched = h.call('PATCH', '/v1/merchants/' + m['id'],
                     {'suspended': True, 'category': 'repair'})
    assert patched['suspended'] and patched['standing'] == 'suspended'
    assert patched['version'] == 2 and patched['category'] == 'repair'
    history = h.call('GET', '/v1/merchants/%s/history' % m['id'])
    assert [v['version'] for v in history['versions']] == [1, 2]
    assert h.request('GET', '/v1/merchants/m999999')[0] == 404
    assert h.request('PATCH', '/v1/merchants/m999999', {'name': 'x'})[0] == 404


def test_register_bad_input(h):
    before = h.call('GET', '/v1/merchants?page_size=1000')['merchants']
    cases = [
        ({'kind': 'individual', 'category': 'food'}, 'name'),
        ({'name': 'x', 'kind': 'shop', 'category': 'food'}, 'kind'),
        ({'name': 'x' * 65, 'kind': 'individual', 'category': 'food'}, 'name'),
        ({'name': 'x', 'kind': 'individual', 'category': 'food',
          'services': ['a', 'a']}, 'services'),
        ({'name': 'x', 'kind': 'individual', 'category': 'food',
          'address': 'a' * 1001}, 'address'),
        ({'name': 'x', 'kind': 'individual', 'category': 'food',
          'colour': 'red'}, 'colour'),
        ({'name': 7, 'kind': 'individual', 'category': 'food'}, 'name'),
        ({'name': 'x', 'kind': 'individual', 'category': 'food',
          'discounts': [{'tier': 'AAA', 'discount_percent': 101}]},
         'discount_percent'),
    ]
    for body, field in cases:
        status, reply, _ = h.request('POST', '/v1/merchants', body)
        assert status == 400, (body, status, reply)
        assert field in reply['error']['message'], (field, reply)
    status, reply, _ = h.request('POST', '/v1/merchants', raw_body='{"name":')
    assert status == 400, reply
    licence = unique('L')
    merchant(h, licence_no=licence)
    status, reply, _ = h.request('POST', '/v1/merchants',
                                 {'name': 'y', 'kind': 'enterprise',
                                  'category': 'food', 'licence_no': licence})
    assert status == 409 and error_code(reply) == 'conflict', reply
    after = h.call('GET', '/v1/merchants?page_size=1000')['merchants']
    assert len(after) == len(before) + 1


def test_registry_roles(h):
    a, b = merchant(h), merchant(h)
    token_a = merchant_token(h, a['id'])
    status, own, _ = h.request('GET', '/v1/merchants/' + a['id'], token=token_a)
    assert status == 200 and own['contact'] == '138****5678', own
    assert h.request('GET', '/v1/merchants/' + b['id'], token=token_a)[0] == 403
    assert h.request('GET', '/v1/merchants', token=token_a)[0] == 403
    assert h.request('PATCH', '/v1/merchants/' + a['id'], {'name': 'z'},
                     token=token_a)[0] == 403
    panel = h.make_token('panel')
    assert h.request('POST', '/v1/merchants',
                     {'name': 'x', 'kind': 'individual', 'category': 'food'},
                     token=panel)[0] == 403
    school = h.make_token('school', school_id=h.make_school())
    assert h.request('GET', '/v1/merchants/' + a['id'], token=school)[0] == 403
    assert h.request('GET', '/v1/merchants/' + a['id'], token=None)[0] == 401
    assert h.request('GET', '/v1/merchants/' + a['id'],
                     token='not-a-token')[0] == 401


# ----------------------------------------------------------------------
#  The code

def test_code_disclosure_public(h):
    m = merchant(h, licence_no=unique('L'), co_building=True)
    status, page, _ = h.request('GET', '/v1/codes/' + m['code'], token=None)
    assert status == 200, page
    assert page['merchant_id'] == m['id'] and page['name'] == 'Wang barber'
    assert page['standing'] == 'good' and page['complaint_count'] == 0
    assert page['co_building'] is True and page['licence_no'] == m['licence_no']
    assert 'contact' not in page and 'address' not in page, page
    code = m['code']
    flipped = code[:5] + ('A' if code[5] != 'A' else 'B') + code[6:]
    for bad in (flipped, code[:-1], code + 'A', code.lower(),
                'AAAAAAAAAAAAAAAAAAAAAAAAAA', 'x'):
        status, body, _ = h.request('GET', '/v1/codes/' + bad, token=None)
        assert status == 404, (bad, status, body)


def test_code_svg(h):
    m = merchant(h)
    status, svg, headers = h.request('GET', '/v1/merchants/%s/code.svg' % m['id'])
    assert status == 200, svg
    assert headers['Content-Type'].startswith('image/svg+xml'), headers
    assert '<svg' in svg and '</svg>' in svg
    token = merchant_token(h, m['id'])
    assert h.request('GET', '/v1/merchants/%s/code.svg' % m['id'],
                     token=token)[0] == 200
    other = merchant(h)
    assert h.request('GET', '/v1/merchants/%s/code.svg' % other['id'],
                     token=token)[0] == 403
    assert h.request('GET', '/v1/merchants/%s/code.svg' % m['id'],
                     token=None)[0] == 401


# ----------------------------------------------------------------------
#  Complaints, standing, rules

def test_complaints_standing_and_enrolment(h):
    m = merchant(h)
    market = h.call('POST', '/v1/markets',
                    {'date': '2026-07-04', 'place': 'square', 'title': 'July'},
                    expect=201)
    c1 = h.call('POST', '/v1/merchants/%s/complaints' % m['id'],
                {'summary': 'overcharged', 'category': 'price'}, expect=201)
    assert c1['status'] == 'open'
    h.call('POST', '/v1/merchants/%s/complaints' % m['id'],
           {'summary': 'rude'}, expect=201)
    assert h.call('GET', '/v1/merchants/' + m['id'])['standing'] == 'watch'
    status, body, _ = h.request('POST', '/v1/markets/%s/merchants' % market['id'],
                                {'merchant_id': m['id']})
    assert status == 409 and 'good standing' in body['error']['message'], body
    resolved = h.call('PATCH', '/v1/merchants/%s/complaints/%s' % (m['id'], c1['id']),
                      {'status': 'dismissed', 'resolution_note': 'not us'})
    assert resolved['status'] == 'dismissed'
    assert h.call('GET', '/v1/merchants/' + m['id'])['standing'] == 'good'
    h.call('POST', '/v1/markets/%s/merchants' % market['id'],
           {'merchant_id': m['id']}, expect=201)
    h.call('POST', '/v1/markets/%s/merchants' % market['id'],
           {'merchant_id': m['id']}, expect=200)
    page = h.call('GET', '/v1/codes/' + m['code'], token=None)
    assert page['complaint_count'] == 1
    token = merchant_token(h, m['id'])
    listed = h.call('GET', '/v1/merchants/%s/complaints' % m['id'], token=token)
    assert len(listed['complaints']) == 2
    assert h.request('POST', '/v1/merchants/%s/complaints' % m['id'],
                     {'summary': 'x'}, token=token)[0] == 403
    assert h.request('POST', '/v1/merchants/%s/complaints' % m['id'],
                     {'summary': ''})[0] == 400
    assert h.request('PATCH', '/v1/merchants/%s/complaints/q999999' % m['id'],
                     {'status': 'upheld'})[0] == 404


def test_rules_are_data(h):
    rules = h.call('GET', '/v1/merchant-rules')
    assert rules['watch_complaints'] >= 1 and rules['discounts'], rules
    changed = dict(rules, watch_complaints=rules['watch_complaints'] + 1)
    assert h.call('PUT', '/v1/merchant-rules', changed) == changed
    bad = dict(rules, watch_complaints=0)
    status, body, _ = h.request('PUT', '/v1/merchant-rules', bad)
    assert status == 400 and 'watch_complaints' in body['error']['message']
    assert h.call('GET', '/v1/merchant-rules') == changed
    token = merchant_token(h, merchant(h)['id'])
    assert h.request('GET', '/v1/merchant-rules', token=token)[0] == 403
    h.call('PUT', '/v1/merchant-rules', rules)


# ----------------------------------------------------------------------
#  Market and check-ins

def test_checkin_contract(h):
    m = merchant(h)
    token = merchant_token(h, m['id'])
    pid = person(h)
    cid = unique('c')
    status, body = wait_checkin(h, token, m['id'], pid, checkin_id=cid)
    assert status == 201, body
    assert set(body) == {'discount_percent', 'tier'}, body
    assert 0 <= body['discount_percent'] <= 100 and body['tier'], body
    #  Same checkin_id, same request: 200, same body.
    status2, body2, _ = checkin(h, token, m['id'], pid, checkin_id=cid)
    assert status2 == 200 and body2 == body, (status2, body2)
    #  Same checkin_id, another request: 409.
    status3, body3, _ = checkin(h, token, m['id'], pid, service='repair',
                                checkin_id=cid)
    assert status3 == 409, body3
    assert h.call('GET', '/v1/codes/' + m['code'], token=None)['services_given'] == 1


def test_checkin_refusals(h):
    m, other = merchant(h), merchant(h)
    token = merchant_token(h, m['id'])
    pid = person(h)
    code = card_code(h, pid)
    assert wait_checkin(h, token, m['id'], pid)[0] == 201
    assert checkin(h, token, other['id'], pid)[0] == 403
    assert checkin(h, None, m['id'], pid)[0] == 401
    assert checkin(h, token, m['id'], pid, market_id='k999999')[0] == 422
    market = h.call('POST', '/v1/markets', {'date': '2026-08-01', 'place': 'p',
                                            'title': 't'}, expect=201)
    status, body, _ = checkin(h, token, m['id'], pid, market_id=market['id'])
    assert status == 409 and 'not enrolled' in body['error']['message'], body
    base = {'checkin_id': 'c', 'merchant_id': m['id'], 'service': 'haircut'}
    for bad in ({'merchant_id': m['id'], 'resident_code': code, 'service': 'haircut'},
                {'checkin_id': 'c', 'merchant_id': m['id'], 'resident_code': code},
                dict(base, resident_code=code, discount=5),
                dict(base, resident_code=code, checkin_id='c' * 65),
                dict(base, resident_code=code, served_at='yesterday'),
                dict(base, resident_code=code, served_at='2099-01-01T00:00:00Z'),
                #  No code: a merchant cannot name a person to learn a tier.
                base,
                dict(base, person_id=pid),
                dict(base, person_id=pid, override_reason='forgot the card'),
                dict(base, person_id=pid, resident_code=code)):
        status, body, _ = h.request('POST', '/v1/checkins', bad, token=token)
        assert status == 400, (bad, status, body)
        assert 'tier' not in body, body
    assert h.call('GET', '/v1/codes/' + m['code'], token=None)['services_given'] == 1


def test_ops_override_is_audited(h):
    m = merchant(h)
    pid = person(h)
    card_code(h, pid)               # the merchants daemon knows the person by now
    base = {'checkin_id': unique('c'), 'merchant_id': m['id'], 'service': 'haircut',
            'person_id': pid}
    status, body, _ = h.request('POST', '/v1/checkins', base)
    assert status == 400 and 'override_reason' in body['error']['message'], body
    body = h.call('POST', '/v1/checkins', dict(base, override_reason='card at home'),
                  expect=201)
    assert body['tier'], body
    assert h.call('GET', '/v1/codes/' + m['code'], token=None)['services_given'] == 1


def _tamper(code):
    """The code with one character of its signature changed."""
    i = len(code) - 10
    return code[:i] + ('A' if code[i] != 'A' else 'B') + code[i + 1:]


def test_card_code_contract(h):
    pid = person(h)
    issued = card_code(h, pid, valid_hours=48)
    assert set(issued) >= {'code', 'expires_at'}, issued
    assert issued['code'].startswith('TC1.') and issued['person_id'] == pid
    assert issued['id'].startswith('g') and issued['tier'], issued
    #  The code carries no name: decode its payload and look.
    import base64
    raw = base64.urlsafe_b64decode(issued['code'][4:] + '=' * (-len(issued['code'][4:]) % 4))
    assert b'Li Hua' not in raw and pid.encode() in raw
    keys = h.call('GET', '/v1/keys/resident-codes', token=None)['keys']
    assert keys and all(k['algorithm'] == 'ed25519' for k in keys), keys
    assert len(base64.b64decode(keys[-1]['public_key'])) == 32
    assert keys[-1]['key_id'] == issued['key_id'] and keys[-1]['current']
    _verify_offline(issued['code'], keys[-1]['public_key'])
    for bad in ({'valid_hours': 0.5}, {'valid_hours': 9001}, {'valid_hours': -1},
                {'colour': 1}, {'replace': True}):
        status, body, _ = h.request('POST', '/v1/persons/%s/card-code' % pid, bad)
        assert status == 400, (bad, status, body)
    assert h.request('POST', '/v1/persons/p999999/card-code', {})[0] == 404
    assert h.request('POST', '/v1/persons/zz/card-code', {})[0] == 404
    panel = h.make_token('panel')
    assert h.request('POST', '/v1/persons/%s/card-code' % pid, {}, token=panel)[0] == 403
    assert h.request('POST', '/v1/persons/%s/card-code' % pid, {}, token=None)[0] == 401
    listed = h.call('GET', '/v1/persons/%s/card-codes' % pid)
    assert [c['id'] for c in listed['codes']] == [issued['id']], listed
    assert listed['codes'][0]['code'] == '' and listed['next_page_token'] == ''


def _verify_offline(code, public_key_b64):
    """Verify a code as a merchant app would, with openssl and the
    published key only (skipped where openssl is missing)."""
    import base64
    import shutil
    import subprocess
    import tempfile
    if not shutil.which('openssl'):
        print('skip: no openssl for the offline check')
        return
    raw = base64.urlsafe_b64decode(code[4:] + '=' * (-len(code[4:]) % 4))
    der = bytes.fromhex('302a300506032b6570032100') + base64.b64decode(public_key_b64)
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ('key.der', 'msg', 'sig', 'bad')}
        for name, data in (('key.der', der), ('msg', raw[:-64]), ('sig', raw[-64:]),
                           ('bad', raw[:-65] + bytes([raw[-65] ^ 1]))):
            with open(paths[name], 'wb') as f:
                f.write(data)
        cmd = ['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', paths['key.der'],
               '-keyform', 'DER', '-rawin', '-sigfile', paths['sig'], '-in']
        ok = subprocess.run(cmd + [paths['msg']], capture_output=True)
        assert ok.returncode == 0, ok.stderr
        bad = subprocess.run(cmd + [paths['bad']], capture_output=True)
        assert bad.returncode != 0


def test_checkin_codes_refused(h):
    m = merchant(h)
    token = merchant_token(h, m['id'])
    pid = person(h)
    code = card_code(h, pid)
    status, body = wait_checkin(h, token, m['id'], pid)
    assert status == 201, body
    issued_tier = body['tier']
    refusals = [
        'TC1.' + 'A' * 150,                      # forged: not a code at all
        _tamper(code),                           # altered signature
        code[:-20],                              # truncated
        code.replace('TC1.', 'TC2.'),            # wrong version
    ]
    for bad in refusals:
        status, body, _ = checkin(h, token, m['id'], pid, code=bad)
        assert status in (403, 422), (bad, status, body)
        assert 'tier' not in body
    #  Served before the code existed.
    status, body, _ = checkin(h, token, m['id'], pid, code=code,
                              served_at='2020-01-01T08:00:00+08:00')
    assert status == 422 and 'not valid at the time' in body['error']['message'], body
    #  A revoked printed card: refused from its revocation on.
    printed = card_code(h, pid, printed=True, valid_hours=9000)
    assert printed['printed']
    assert wait_checkin(h, token, m['id'], pid, code=printed['code'])[0] == 201
    revoked = h.call('POST', '/v1/card-codes/%s/revoke' % printed['id'],
                     {'reason': 'lost card'})
    assert revoked['revoked_at'] and revoked['revoke_reason'] == 'lost card', revoked
    assert h.request('POST', '/v1/card-codes/%s/revoke' % printed['id'],
                     {'reason': 'again'})[0] == 409
    assert h.request('POST', '/v1/card-codes/%s/revoke' % printed['id'], {})[0] == 400
    assert h.request('POST', '/v1/card-codes/g999999/revoke', {'reason': 'x'})[0] == 404
    deadline = time.monotonic() + EVENT_WAIT_S
    while True:
        status, body, _ = checkin(h, token, m['id'], pid, code=printed['code'])
        if status != 201 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 422 and 'revoked' in body['error']['message'], body
    #  A replacement card revokes the earlier printed ones.
    second = card_code(h, pid, printed=True, valid_hours=9000)
    third = card_code(h, pid, printed=True, replace=True, valid_hours=9000)
    listed = {c['id']: c for c in h.call('GET', '/v1/persons/%s/card-codes' % pid)['codes']}
    assert listed[second['id']]['revoked_at'] and not listed[third['id']]['revoked_at']
    assert wait_checkin(h, token, m['id'], pid, code=third['code'])[0] == 201
    #  The tier comes from the code (the same as the ledger gave at issue).
    assert checkin(h, token, m['id'], pid)[1]['tier'] == issued_tier


def test_offline_sync_applies_once(h):
    m = merchant(h)
    token = merchant_token(h, m['id'])
    pid = person(h)
    date = '2032-04-0%d' % (os.getpid() % 9 + 1)
    market = market_with(h, m['id'], date=date)
    code = card_code(h, pid)
    assert wait_checkin(h, token, m['id'], pid)[0] == 201
    #  The app served the resident offline a moment ago, then syncs.
    time.sleep(1.2)
    t = time.time() - 0.5
    served = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t)) + '.%03dZ' % (t % 1 * 1000)
    batch = [unique('off') for _ in range(3)]
    first = [checkin(h, token, m['id'], pid, market_id=market['id'], checkin_id=c,
                     code=code, served_at=served) for c in batch]
    assert [s for s, _, _ in first] == [201] * 3, first
    again = [checkin(h, token, m['id'], pid, market_id=market['id'], checkin_id=c,
                     code=code, served_at=served) for c in batch]
    assert [s for s, _, _ in again] == [200] * 3, again
    stats = h.call('GET', '/v1/markets/%s/stats' % market['id'])
    assert stats['checkins'] == 3 and stats['residents_served'] == 1, stats


def test_key_rotation_keeps_old_codes(h):
    m = merchant(h)
    token = merchant_token(h, m['id'])
    pid = person(h)
    old = card_code(h, pid, fresh=True)
    assert wait_checkin(h, token, m['id'], pid, code=old)[0] == 201
    panel = h.make_token('panel')
    assert h.request('POST', '/v1/keys/resident-codes/rotate', {}, token=panel)[0] == 403
    rotated = h.call('POST', '/v1/keys/resident-codes/rotate', {}, expect=201)
    keys = h.call('GET', '/v1/keys/resident-codes', token=None)['keys']
    assert keys[-1]['key_id'] == rotated['key_id'] and keys[-1]['current']
    assert sum(1 for k in keys if k['current']) == 1
    new = card_code(h, pid, fresh=True)
    status, body = wait_checkin(h, token, m['id'], pid, code=new)
    assert status == 201, body
    assert checkin(h, token, m['id'], pid, code=old)[0] == 201


def test_refused_codes_are_rate_limited(h):
    m = merchant(h)
    token = merchant_token(h, m['id'])
    pid = person(h)
    code = card_code(h, pid)
    assert wait_checkin(h, token, m['id'], pid)[0] == 201
    statuses = [checkin(h, token, m['id'], pid, code=_tamper(code))[0] for _ in range(25)]
    assert statuses.count(422) >= 1 and statuses[-1] == 429, statuses
    #  Another merchant is not held back by it.
    m2 = merchant(h)
    assert wait_checkin(h, merchant_token(h, m2['id']), m2['id'], pid)[0] == 201


def test_market_stats_and_totals(h):
    m = merchant(h)
    token = merchant_token(h, m['id'])
    p1, p2 = person(h), person(h)
    date = '2031-03-0%d' % (os.getpid() % 9 + 1)
    market = market_with(h, m['id'], date=date)
    assert wait_checkin(h, token, m['id'], p1, market_id=market['id'],
                        service='free haircut')[0] == 201
    assert wait_checkin(h, token, m['id'], p2, market_id=market['id'])[0] == 201
    assert checkin(h, token, m['id'], p2, market_id=market['id'],
                   service='repair')[0] == 201
    stats = h.call('GET', '/v1/markets/%s/stats' % market['id'])
    assert stats['checkins'] == 3 and stats['residents_served'] == 2, stats
    assert stats['merchants'] == 1 and stats['free_services_given'] == 1, stats
    kinds = {s['service']: s['count'] for s in stats['services']}
    assert kinds == {'free haircut': 1, 'haircut': 1, 'repair': 1}, stats
    listed = h.call('GET', '/v1/markets?from=%s&to=%s' % (date, date))
    assert listed['totals']['markets'] == 1, listed
    assert listed['totals']['checkins'] == 3
    assert listed['totals']['resident_visits'] == 2
    assert h.call('GET', '/v1/markets/' + market['id'])['date'] == date
    assert h.request('GET', '/v1/markets?from=2031-13-01')[0] == 400
    assert h.request('GET', '/v1/markets?from=2031-03-02&to=2031-03-01')[0] == 400
    assert h.request('GET', '/v1/markets/%s/stats' % 'k999999')[0] == 404
    assert h.request('GET', '/v1/markets', token=token)[0] == 403
    assert h.request('POST', '/v1/markets', {'date': '2031-02-30', 'place': 'p',
                                             'title': 't'})[0] == 400
    assert h.request('POST', '/v1/markets', {'date': '2031-02-03', 'place': 'p',
                                             'title': 't'}, token=token)[0] == 403
    page = h.call('GET', '/v1/codes/' + m['code'], token=None)
    assert page['markets_attended'] == 1 and page['services_given'] == 3


def ledger_entries(h, subject):
    status, body, _ = h.request('GET', '/v1/credit/persons/%s/entries' % subject)
    if status != 200:
        return None
    return [e for e in body.get('entries', []) if e.get('rule') == 'market.service']


def test_checkin_while_ledger_down(h):
    m = merchant(h)
    token = merchant_token(h, m['id'])
    pid = person(h)
    market = market_with(h, m['id'])
    #  The person is known, and has a code, before the ledger goes away.
    assert wait_checkin(h, token, m['id'], pid)[0] == 201
    h.kill('ledger')
    t0 = time.monotonic()
    status, body = wait_checkin(h, token, m['id'], pid, market_id=market['id'],
                                service='free haircut')
    assert status == 201, body
    assert time.monotonic() - t0 < 2, 'the check-in waited on the ledger'
    h.start('ledger')
    deadline = time.monotonic() + EVENT_WAIT_S
    entries = None
    while time.monotonic() < deadline:
        entries = ledger_entries(h, m['id'])
        if entries:
            break
        time.sleep(0.2)
    assert entries and len(entries) == 1, entries
    #  Restart both: the credit is not applied a second time.
    h.restart('merchants')
    h.restart('ledger')
    time.sleep(1.0)
    assert len(ledger_entries(h, m['id'])) == 1


# ----------------------------------------------------------------------
#  Notices

def test_notices(h):
    plain, unit = merchant(h), merchant(h, co_building=True)
    t_plain, t_unit = merchant_token(h, plain['id']), merchant_token(h, unit['id'])
    start = h.call('GET', '/v1/notices', token=t_plain)['last_seq']
    n1 = h.call('POST', '/v1/notices', {'title': 'Market Saturday',
                                        'body': 'Enrol by Thursday'}, expect=201)
    h.call('POST', '/v1/notices', {'title': 'Units meeting', 'body': 'Room 2',
                                   'audience': 'co_building'}, expect=201)
    got = h.call('GET', '/v1/notices?since=%d' % start, token=t_plain)
    assert [n['title'] for n in got['notices']] == ['Market Saturday'], got
    assert got['last_seq'] == n1['seq'] + 1
    got_unit = h.call('GET', '/v1/notices?since=%d' % start, token=t_unit)
    assert len(got_unit['notices']) == 2
    again = h.call('GET', '/v1/notices?since=%d' % got['last_seq'], token=t_plain)
    assert again['notices'] == [] and again['last_seq'] == got['last_seq']
    assert h.request('POST', '/v1/notices', {'title': 'x', 'body': 'y'},
                     token=t_plain)[0] == 403
    assert h.request('POST', '/v1/notices', {'title': 'x', 'body': ''})[0] == 400
    assert h.request('POST', '/v1/notices', {'title': 'x', 'body': 'y',
                                             'audience': 'all merchants'})[0] == 400
    assert h.request('GET', '/v1/notices?since=abc', token=t_plain)[0] == 400


if __name__ == '__main__':
    harness.main(globals())
