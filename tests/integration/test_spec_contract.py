"""test_spec_contract - SPEC section 4 (the external contract) as an outside
test would check it: the conventions (error shape, camelCase input, limits,
paging, idempotency) and every call in the table, with its exact JSON
shape and status codes.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_spec_contract.py
"""
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
STATE = {}


def id_number(body17):
    total = sum(int(c) * w for c, w in zip(body17, WEIGHTS))
    return body17 + '10X98765432'[total % 11]


def this_month():
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).strftime('%Y-%m')


def error_shape(body, code):
    assert set(body) == {'error'} and set(body['error']) == {'code', 'message'}, body
    assert body['error']['code'] == code and body['error']['message'], body


def wait_ledger_knows(h, person_id):
    deadline = time.time() + 10
    while time.time() < deadline:
        status, _, _ = h.request('GET', '/v1/credit/persons/' + person_id)
        if status == 200:
            return
        time.sleep(0.05)
    raise AssertionError('ledger never learned of ' + person_id)


def test_01_setup_community(h):
    status, b, _ = h.request('POST', '/v1/buildings', {'number': 'C12', 'grid': 'G3'})
    assert status == 201 and b['id'] and b['number'] == 'C12', (status, b)
    status, b2, _ = h.request('POST', '/v1/buildings', {'number': 'C12', 'grid': 'G4'})
    assert status == 409, b2
    error_shape(b2, 'conflict')
    idn = id_number('37100219800101123')
    status, hh, _ = h.request('POST', '/v1/households', {
        'building': 'C12', 'room': '301',
        'members': [
            {'name': '王小明', 'birthYear': 2014, 'tags': ['pupil'], 'schoolId': 'S1',
             'pupilNo': 'P-1'},
            {'name': '王大明', 'birth_year': 1980, 'id_number': idn, 'phone': '13812341234'}]})
    assert status == 201, hh
    assert hh['id'] and all(m['id'] for m in hh['members'])
    text = repr(hh)
    assert idn not in text and 'id_number' not in hh['members'][1], hh
    STATE.update(household=hh['id'], pupil=hh['members'][0]['id'],
                 adult=hh['members'][1]['id'], idn=idn)
    # the same ID number in another household: 409; bad check digit: 400
    bad = idn[:-1] + ('0' if idn[-1] != '0' else '1')
    status, body, _ = h.request('POST', '/v1/households', {
        'building': 'C12', 'room': '302', 'members': [{'name': 'X', 'id_number': bad}]})
    assert status == 400, body
    error_shape(body, 'bad_request')
    status, body, _ = h.request('POST', '/v1/households', {
        'building': 'C12', 'room': '302', 'members': [{'name': 'X', 'id_number': idn}]})
    assert status == 409, body
    status, body, _ = h.request('POST', '/v1/households', {
        'building': 'nowhere', 'room': '1', 'members': []})
    assert status in (404, 422), body


def test_02_household_file_and_history(h):
    status, hh, _ = h.request('GET', '/v1/households/' + STATE['household'])
    assert status == 200 and hh['id'] == STATE['household'], hh
    assert STATE['idn'] not in repr(hh)
    status, hist, _ = h.request('GET', '/v1/households/%s/history' % STATE['household'])
    assert status == 200, hist
    status, body, _ = h.request('GET', '/v1/households/h999999')
    assert status == 404, body
    error_shape(body, 'not_found')


def test_03_evaluation_idempotent(h):
    wait_ledger_knows(h, STATE['adult'])
    panel = h.make_token('panel')
    req = {'person_id': STATE['adult'], 'rule': 'garbage_sorting.good', 'note': 'sorted',
           'idempotency_key': 'eval-1'}
    status, first, _ = h.request('POST', '/v1/credit/evaluations', req, token=panel)
    assert status == 201, first
    for key in ('id', 'kind', 'rule', 'points', 'effective_points', 'note', 'source',
                'month', 'created_at'):
        assert key in first, (key, first)
    assert first['kind'] == 'earning' and first['month'] == this_month()
    status, again, _ = h.request('POST', '/v1/credit/evaluations', req, token=panel)
    assert status == 200 and again == first, (status, again)
    status, person, _ = h.request('GET', '/v1/credit/persons/' + STATE['adult'])
    assert status == 200, person
    assert set(person) >= {'person_id', 'index', 'tier', 'card', 'month_points'}, person
    assert int(person['index']) == 1000 + first['effective_points']
    assert int(person['card']) == first['effective_points']
    assert int(person['month_points']) == first['effective_points']
    # camelCase is accepted too
    status, body, _ = h.request('POST', '/v1/credit/evaluations', {
        'personId': STATE['adult'], 'rule': 'parking.bad', 'idempotencyKey': 'eval-2'},
        token=panel)
    assert status == 201 and body['kind'] == 'penalty', body


def test_04_entries_paged(h):
    status, page, _ = h.request('GET', '/v1/credit/persons/%s/entries?month=%s&page_size=1'
                                % (STATE['adult'], this_month()))
    assert status == 200 and len(page['entries']) == 1 and page['next_page_token'], page
    status, page2, _ = h.request('GET', '/v1/credit/persons/%s/entries?page_size=1&page_token=%s'
                                 % (STATE['adult'], page['next_page_token']))
    assert status == 200 and len(page2['entries']) == 1, page2
    assert page2['entries'][0]['id'] != page['entries'][0]['id']
    status, body, _ = h.request('GET', '/v1/credit/persons/%s/entries?page_size=1001'
                                % STATE['adult'])
    assert status == 400, body


def test_05_honor_board(h):
    status, board, _ = h.request('GET', '/v1/credit/honor-board?month=' + this_month())
    assert status == 200 and board['month'] == this_month(), board
    for row in board['red'] + board['grey']:
        assert {'person_id', 'name', 'month_points', 'index'} <= set(row), row
    status, body, _ = h.request('GET', '/v1/credit/honor-board?month=2026-13')
    assert status == 400, body


def test_06_redemption(h):
    req = {'person_id': STATE['adult'], 'points': 1, 'item': 'notebook',
           'idempotency_key': 'redeem-1'}
    status, body, _ = h.request('POST', '/v1/credit/redemptions', req)
    assert status == 201 and body['kind'] == 'redemption', body
    status, again, _ = h.request('POST', '/v1/credit/redemptions', req)
    assert status == 200 and again == body
    status, body, _ = h.request('POST', '/v1/credit/redemptions', {
        'person_id': STATE['adult'], 'points': 100000, 'item': 'bike',
        'idempotency_key': 'redeem-2'})
    assert status == 409, body
    error_shape(body, 'conflict')


def test_07_school_medals_and_credit(h):
    wait_ledger_knows(h, STATE['pupil'])
    s1 = h.make_token('school', school_id='S1')
    s2 = h.make_token('school', school_id=h.make_school('S2'))
    month = this_month()
    status, body, _ = h.request('POST', '/v1/school/medals', {'events': [
        {'event_id': 'm1', 'pupil_no': 'P-1', 'month': month, 'medal': '信用小奖章'},
        {'event_id': 'm2', 'pupil_no': 'P-404', 'month': month, 'medal': 'gold'},
        {'event_id': 'm3', 'pupil_no': 'P-1', 'month': '2099-01', 'medal': 'gold'}]},
        token=s1)
    assert status == 200, body
    assert body['accepted'] == 1 and body['duplicates'] == 0, body
    assert sorted(r['event_id'] for r in body['rejected']) == ['m2', 'm3'], body
    assert all(r['reason'] for r in body['rejected'])
    status, body, _ = h.request('POST', '/v1/school/medals', {'events': [
        {'event_id': 'm1', 'pupil_no': 'P-1', 'month': month, 'medal': '信用小奖章'}]},
        token=s1)
    assert status == 200 and body['accepted'] == 0 and body['duplicates'] == 1, body
    # another school's pupil is rejected in its batch, and unreadable
    status, body, _ = h.request('POST', '/v1/school/medals', {'events': [
        {'event_id': 'x1', 'pupil_no': 'P-1', 'month': month, 'medal': 'gold'}]}, token=s2)
    assert status == 200 and body['accepted'] == 0 and len(body['rejected']) == 1, body
    status, body, _ = h.request('GET', '/v1/school/pupils/P-1/credit?month=' + month, token=s2)
    assert status in (403, 404), body
    status, credit, _ = h.request('GET', '/v1/school/pupils/P-1/credit?month=' + month, token=s1)
    assert status == 200, credit
    assert set(credit) >= {'pupil_no', 'month', 'month_points', 'index', 'tier'}, credit
    assert credit['pupil_no'] == 'P-1' and int(credit['month_points']) > 0
    status, body, _ = h.request('POST', '/v1/school/medals', {'events': [
        {'event_id': 'big', 'pupil_no': 'P-1', 'month': month, 'medal': 'x' * 65}]}, token=s1)
    assert status == 400 or body['rejected'], body
    status, body, _ = h.request('POST', '/v1/school/medals', {'events': [
        {'event_id': 'e%d' % i, 'pupil_no': 'P-1', 'month': month, 'medal': 'm'}
        for i in range(1001)]}, token=s1)
    assert status == 400, body
    # roles: a school token cannot evaluate; a merchant cannot either
    status, body, _ = h.request('POST', '/v1/credit/evaluations', {
        'person_id': STATE['adult'], 'rule': 'parking.good', 'idempotency_key': 'z'}, token=s1)
    assert status == 403, body
    error_shape(body, 'forbidden')


def test_08_merchants_codes_checkins(h):
    status, m, _ = h.request('POST', '/v1/merchants', {
        'name': '老王理发', 'kind': 'individual', 'category': 'haircut',
        'services': ['haircut']})
    assert status == 201 and m['id'] and m['code'], m
    status, page, _ = h.request('GET', '/v1/codes/' + m['code'], token=None)
    assert status == 200 and page['name'] == '老王理发', page
    for forged in (m['code'][:-1], m['code'][:-1] + ('A' if m['code'][-1] != 'A' else 'B'),
                   'AAAAAAAAAAAAAAAAAAAAAAAAAA'):
        status, body, _ = h.request('GET', '/v1/codes/' + forged, token=None)
        assert status == 404, (forged, body)
    tok = h.make_token('merchant', merchant_id=m['id'])
    other = h.make_token('merchant', merchant_id=h.make_merchant())
    issued = h.card_code(STATE['adult'])
    assert set(issued) >= {'code', 'expires_at'}, issued
    keys = h.call('GET', '/v1/keys/resident-codes', token=None)['keys']
    assert keys and {'key_id', 'algorithm', 'public_key'} <= set(keys[0]), keys
    assert keys[0]['algorithm'] == 'ed25519'
    req = {'checkin_id': 'c-1', 'merchant_id': m['id'], 'resident_code': issued['code'],
           'service': 'haircut'}
    deadline = time.time() + 10
    while True:
        status, body, _ = h.request('POST', '/v1/checkins', req, token=tok)
        if status != 422 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert status == 201, body
    assert set(body) == {'discount_percent', 'tier'} and 0 <= body['discount_percent'] <= 100
    status, again, _ = h.request('POST', '/v1/checkins', req, token=tok)
    assert status == 200 and again == body
    status, body, _ = h.request('POST', '/v1/checkins', req, token=other)
    assert status == 403, body
    forged = issued['code'][:-3] + ('AAA' if issued['code'][-3:] != 'AAA' else 'BBB')
    status, body, _ = h.request('POST', '/v1/checkins', dict(req, checkin_id='c-2',
                                                             resident_code=forged), token=tok)
    assert status in (403, 422), body
    status, body, _ = h.request('POST', '/v1/checkins', {
        'checkin_id': 'c-3', 'merchant_id': m['id'], 'service': 'haircut'}, token=tok)
    assert status == 400 and 'tier' not in body, body


def test_09_conventions(h):
    status, body, _ = h.request('POST', '/v1/buildings', {'number': 'N' * 65, 'grid': 'G'})
    assert status == 400, body
    status, body, _ = h.request('POST', '/v1/credit/evaluations', {
        'person_id': STATE['adult'], 'rule': 'parking.good', 'note': 'n' * 1001,
        'idempotency_key': 'long'})
    assert status == 400, body
    status, body, _ = h.request('POST', '/v1/buildings', raw_body='{"number": }')
    assert status == 400, body
    error_shape(body, 'bad_request')
    status, body, _ = h.request('GET', '/v1/buildings?page_size=1001')
    assert status == 400, body
    status, body, _ = h.request('GET', '/v1/buildings', token='wrong')
    assert status == 401, body
    error_shape(body, 'unauthorized')


if __name__ == '__main__':
    harness.main(globals())
