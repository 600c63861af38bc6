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


def checkin(h, token, merchant_id, person_id, service='haircut',
            market_id=None, checkin_id=None):
    body = {'checkin_id': checkin_id or unique('c'),
            'merchant_id': merchant_id, 'person_id': person_id,
            'service': service}
    if market_id:
        body['market_id'] = market_id
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
    school = h.make_token('school', school_id='S1')
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
    assert wait_checkin(h, token, m['id'], pid)[0] == 201
    status, body, _ = checkin(h, token, m['id'], 'p999999')
    assert status in (404, 422), body
    assert checkin(h, token, other['id'], pid)[0] == 403
    assert checkin(h, h.ops_token, m['id'], pid)[0] == 403
    assert checkin(h, None, m['id'], pid)[0] == 401
    assert checkin(h, token, m['id'], pid, market_id='k999999')[0] == 422
    market = h.call('POST', '/v1/markets', {'date': '2026-08-01', 'place': 'p',
                                            'title': 't'}, expect=201)
    status, body, _ = checkin(h, token, m['id'], pid, market_id=market['id'])
    assert status == 409 and 'not enrolled' in body['error']['message'], body
    for bad in ({'merchant_id': m['id'], 'person_id': pid, 'service': 'haircut'},
                {'checkin_id': 'c', 'merchant_id': m['id'], 'person_id': pid},
                {'checkin_id': 'c', 'merchant_id': m['id'], 'person_id': pid,
                 'service': 'haircut', 'discount': 5},
                {'checkin_id': 'c' * 65, 'merchant_id': m['id'],
                 'person_id': pid, 'service': 'haircut'}):
        status, body, _ = h.request('POST', '/v1/checkins', bad, token=token)
        assert status == 400, (bad, status, body)
    assert h.call('GET', '/v1/codes/' + m['code'], token=None)['services_given'] == 1


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
    #  The person is known before the ledger goes away.
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
