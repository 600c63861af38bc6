"""test_offers - card offers and their redemption across two daemons
(SPEC section 4 "Card offers"): the merchants daemon owns the stock, the
ledger the card; a redemption moves both or neither, exactly once, even
with the ledger down when it is asked.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_offers.py
"""

import itertools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

_seq = itertools.count(1)
WAIT_S = 15


def unique(prefix):
    return '%s%d-%d' % (prefix, os.getpid(), next(_seq))


def shop(h, name='社区小超市'):
    return h.call('POST', '/v1/merchants', {'name': name, 'kind': 'enterprise',
                                            'category': 'shop', 'services': ['groceries']},
                  expect=201)


def pupil_with_points(h, points):
    """A resident whose card holds at least `points` (civil conduct, 3 a time)."""
    number = unique('B')
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G1'}, expect=201)
    hh = h.call('POST', '/v1/households', {'building': number, 'room': '101', 'members': [
        {'name': '小明', 'birth_year': 2015, 'tags': ['pupil'], 'school_id': 'S1',
         'pupil_no': unique('N')}]}, expect=201)
    pid = hh['members'][0]['id']
    deadline = time.monotonic() + WAIT_S
    while h.request('GET', '/v1/credit/persons/' + pid)[0] != 200:
        assert time.monotonic() < deadline, 'the ledger never heard of ' + pid
        time.sleep(0.05)
    for i in range((points + 2) // 3):
        h.call('POST', '/v1/credit/evaluations', {'person_id': pid, 'rule': 'civil_conduct.good',
                                                   'idempotency_key': unique('ev')}, expect=201)
    assert card(h, pid) >= points
    return pid


def card(h, pid):
    return h.call('GET', '/v1/credit/persons/' + pid)['card']


def offer(h, merchant_id, points=3, stock=5, kind='item', **extra):
    body = {'merchant_id': merchant_id, 'title': unique('练习本'), 'kind': kind,
            'points': points, 'stock': stock}
    body.update(extra)
    return h.call('POST', '/v1/offers', body, expect=201)


def redeem(h, offer_id, body, token=harness.OPS):
    return h.request('POST', '/v1/offers/%s/redemptions' % offer_id, body, token=token)


def get_offer(h, offer_id):
    return h.call('GET', '/v1/offers/' + offer_id)


# ----------------------------------------------------------------------

def test_offers_crud_and_roles(h):
    m, other = shop(h), shop(h, '琴行')
    tok = h.make_token('merchant', merchant_id=m['id'])
    o = offer(h, m['id'])
    assert o['id'].startswith('f') and o['stock_left'] == 5 and o['kind'] == 'item', o
    seat = offer(h, m['id'], kind='course_seat', points=20, stock=12, course='暑期手工课',
                 sessions=['周六 9:00-10:30'], starts_on='2026-07-10', ends_on='2026-08-20')
    assert seat['course'] == '暑期手工课' and seat['sessions'] == ['周六 9:00-10:30']
    #  A merchant manages its own offers only.
    own = h.call('POST', '/v1/offers', {'merchant_id': m['id'], 'title': 'pen', 'kind': 'item',
                                        'points': 1, 'stock': 1}, token=tok, expect=201)
    assert h.request('POST', '/v1/offers', {'merchant_id': other['id'], 'title': 'x',
                                            'kind': 'item', 'points': 1, 'stock': 1},
                     token=tok)[0] == 403
    listed = h.call('GET', '/v1/offers?merchant_id=' + m['id'])
    assert {o['id'], seat['id'], own['id']} <= {x['id'] for x in listed['offers']}, listed
    assert all('stock_left' in x for x in listed['offers']) and listed['next_page_token'] == ''
    mine = h.call('GET', '/v1/offers', token=tok)
    assert {x['merchant_id'] for x in mine['offers']} == {m['id']}
    assert h.request('GET', '/v1/offers?merchant_id=' + other['id'], token=tok)[0] == 403
    assert h.call('GET', '/v1/offers/' + o['id'], token=tok)['title'] == o['title']
    patched = h.call('PATCH', '/v1/offers/' + o['id'], {'add_stock': 3, 'points': 4})
    assert patched['stock'] == 8 and patched['stock_left'] == 8 and patched['points'] == 4
    panel = h.make_token('panel')
    assert h.request('GET', '/v1/offers', token=panel)[0] == 403
    assert h.request('GET', '/v1/offers', token=None)[0] == 401
    assert h.request('GET', '/v1/offers/f999999')[0] == 404
    assert h.request('PATCH', '/v1/offers/f999999', {'add_stock': 1})[0] == 404
    for bad in ({'title': 'x', 'kind': 'item', 'points': 1, 'stock': 1},
                {'merchant_id': m['id'], 'kind': 'item', 'points': 1, 'stock': 1},
                {'merchant_id': m['id'], 'title': 'x', 'kind': 'toy', 'points': 1, 'stock': 1},
                {'merchant_id': m['id'], 'title': 'x', 'kind': 'item', 'points': 0, 'stock': 1},
                {'merchant_id': m['id'], 'title': 'x', 'kind': 'item', 'points': 1,
                 'stock': -1},
                {'merchant_id': m['id'], 'title': 'x' * 201, 'kind': 'item', 'points': 1,
                 'stock': 1},
                {'merchant_id': m['id'], 'title': 'x', 'kind': 'item', 'points': 1, 'stock': 1,
                 'course': 'not for items'},
                {'merchant_id': m['id'], 'title': 'x', 'kind': 'course_seat', 'points': 1,
                 'stock': 1},
                {'merchant_id': m['id'], 'title': 'x', 'kind': 'course_seat', 'points': 1,
                 'stock': 1, 'course': 'c', 'starts_on': '2026-08-02', 'ends_on': '2026-08-01'},
                {'merchant_id': m['id'], 'title': 'x', 'kind': 'item', 'points': 1, 'stock': 1,
                 'colour': 'red'}):
        status, body, _ = h.request('POST', '/v1/offers', bad)
        assert status == 400, (bad, status, body)
    assert h.request('POST', '/v1/offers', {'merchant_id': 'm999999', 'title': 'x',
                                            'kind': 'item', 'points': 1, 'stock': 1})[0] == 422


def test_redeem_moves_both_exactly_once(h):
    m = shop(h)
    pid = pupil_with_points(h, 6)
    o = offer(h, m['id'], points=3, stock=2)
    before = card(h, pid)
    key = unique('r')
    status, body, _ = redeem(h, o['id'], {'person_id': pid, 'idempotency_key': key})
    assert status == 201, body
    assert set(body) >= {'id', 'points', 'card_after'} and body['points'] == 3, body
    assert body['card_after'] == before - 3 == card(h, pid)
    assert get_offer(h, o['id'])['stock_left'] == 1
    #  The same key again: 200, the same body, no second effect.
    status, again, _ = redeem(h, o['id'], {'person_id': pid, 'idempotency_key': key})
    assert status == 200 and again == body, (status, again)
    assert card(h, pid) == before - 3 and get_offer(h, o['id'])['stock_left'] == 1
    #  The statement says what was bought where.
    entries = h.call('GET', '/v1/credit/persons/%s/entries' % pid)['entries']
    spent = [e for e in entries if e['kind'] == 'redemption']
    assert len(spent) == 1 and o['title'] in spent[0]['note'] and m['name'] in spent[0]['note']
    assert spent[0]['points'] in (3, -3), spent
    got = h.call('GET', '/v1/redemptions/' + body['id'])
    assert got['state'] == 'completed' and got['person_id'] == pid and got['offer_id'] == o['id']
    #  The merchant's month, for settlement with the community.
    month = got['month']
    tok = h.make_token('merchant', merchant_id=m['id'])
    settle = h.call('GET', '/v1/merchants/%s/redemptions?month=%s' % (m['id'], month),
                    token=tok)
    assert settle['completed'] == 1 and settle['points'] == 3, settle
    assert [r['id'] for r in settle['redemptions']] == [body['id']]
    assert h.request('GET', '/v1/merchants/%s/redemptions' % shop(h)['id'], token=tok)[0] == 403
    assert h.request('GET', '/v1/redemptions/' + body['id'],
                     token=h.make_token('merchant', merchant_id=shop(h)['id']))[0] == 403
    assert h.request('GET', '/v1/redemptions/i999999')[0] == 404


def test_card_short_and_stock_out(h):
    m = shop(h)
    pid = pupil_with_points(h, 3)
    rich = pupil_with_points(h, 9)
    #  Card short: 409, and the unit is back on offer.
    dear = offer(h, m['id'], points=card(h, pid) + 1, stock=1)
    status, body, _ = redeem(h, dear['id'], {'person_id': pid, 'idempotency_key': unique('r')})
    assert status == 409 and 'card balance' in body['error']['message'], body
    after = get_offer(h, dear['id'])
    assert after['stock_left'] == 1 and after['reserved'] == 0 and after['taken'] == 0, after
    #  Stock 0: 409, and the card untouched.
    scarce = offer(h, m['id'], points=1, stock=1)
    assert redeem(h, scarce['id'], {'person_id': rich, 'idempotency_key': unique('r')})[0] == 201
    before = card(h, rich)
    status, body, _ = redeem(h, scarce['id'], {'person_id': rich, 'idempotency_key': unique('r')})
    assert status == 409 and 'out of stock' in body['error']['message'], body
    assert card(h, rich) == before
    #  A retired offer stays readable and redeems no more.
    h.call('PATCH', '/v1/offers/' + dear['id'], {'retire': True})
    assert get_offer(h, dear['id'])['retired']
    assert redeem(h, dear['id'], {'person_id': rich, 'idempotency_key': unique('r')})[0] == 409
    assert dear['id'] not in {x['id'] for x in h.call('GET', '/v1/offers?merchant_id=%s'
                                                       % m['id'])['offers']}
    assert dear['id'] in {x['id'] for x in h.call('GET', '/v1/offers?include_retired=true&'
                                                   'merchant_id=%s' % m['id'])['offers']}


def test_redeem_bad_input_and_roles(h):
    m, other = shop(h), shop(h)
    pid = pupil_with_points(h, 3)
    o = offer(h, m['id'], points=1)
    tok = h.make_token('merchant', merchant_id=m['id'])
    tok_other = h.make_token('merchant', merchant_id=other['id'])
    for bad in ({'person_id': pid}, {'idempotency_key': 'k'},
                {'person_id': pid, 'idempotency_key': 'k', 'resident_code': 'TC1.x'},
                {'person_id': pid, 'idempotency_key': 'k' * 1001},
                {'person_id': pid, 'idempotency_key': 'k', 'extra': 1}):
        status, body, _ = redeem(h, o['id'], bad)
        assert status == 400, (bad, status, body)
    assert redeem(h, o['id'], {'person_id': 'p999999', 'idempotency_key': 'k'})[0] == 422
    assert redeem(h, 'f999999', {'person_id': pid, 'idempotency_key': 'k'})[0] == 404
    #  A merchant's till: the resident's card code, its own offers only.
    code = h.card_code(pid)['code']
    assert redeem(h, o['id'], {'person_id': pid, 'idempotency_key': 'k'}, token=tok)[0] == 400
    assert redeem(h, o['id'], {'resident_code': code, 'idempotency_key': 'k'},
                  token=tok_other)[0] == 403
    assert redeem(h, o['id'], {'resident_code': code[:-4] + 'AAAA', 'idempotency_key': 'k'},
                  token=tok)[0] in (403, 422)
    status, body, _ = redeem(h, o['id'], {'resident_code': code, 'idempotency_key': 'k'},
                             token=tok)
    assert status == 201, body
    #  The same key for another offer: 409.
    o2 = offer(h, m['id'], points=1)
    assert redeem(h, o2['id'], {'resident_code': code, 'idempotency_key': 'k'},
                  token=tok)[0] == 409
    panel = h.make_token('panel')
    assert redeem(h, o['id'], {'person_id': pid, 'idempotency_key': 'p'}, token=panel)[0] == 403
    assert redeem(h, o['id'], {'person_id': pid, 'idempotency_key': 'p'}, token=None)[0] == 401


def test_ledger_down_503_then_retry_finishes(h):
    m = shop(h)
    pid = pupil_with_points(h, 3)
    o = offer(h, m['id'], points=2, stock=3)
    before = card(h, pid)
    h.kill('ledger')
    key = unique('r')
    t0 = time.monotonic()
    status, body, _ = redeem(h, o['id'], {'person_id': pid, 'idempotency_key': key})
    assert status == 503, body
    assert time.monotonic() - t0 < 2.5, 'the redemption hung'
    #  The unit is held for it meanwhile.
    assert get_offer(h, o['id'])['reserved'] == 1
    h.start('ledger')
    deadline = time.monotonic() + WAIT_S
    while True:
        status, body, _ = redeem(h, o['id'], {'person_id': pid, 'idempotency_key': key})
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status in (200, 201), body
    assert body['card_after'] == before - 2 == card(h, pid)
    o_after = get_offer(h, o['id'])
    assert o_after['taken'] == 1 and o_after['reserved'] == 0 and o_after['stock_left'] == 2
    #  Restarts replay nothing.
    h.restart('merchants')
    h.restart('ledger')
    time.sleep(0.5)
    assert card(h, pid) == before - 2 and get_offer(h, o['id'])['taken'] == 1


if __name__ == '__main__':
    harness.main(globals())
