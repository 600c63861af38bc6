"""test_ledger - the ledger daemon through the gateway: evaluations,
persons, statements, redemptions, rules, settings, appeals, the honour
board and rankings, the school calls; every route and role; kill -9 of the
ledger during a stream of evaluations loses no acknowledged entry and
duplicates none.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_ledger.py
"""

import itertools
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

_seq = itertools.count(1)
EVENT_WAIT_S = 15           # residents' events reach the ledger within this
PERSON_KEYS = {'person_id', 'index', 'tier', 'card', 'month_points'}
ENTRY_KEYS = {'id', 'kind', 'rule', 'points', 'effective_points', 'note',
              'source', 'month', 'created_at'}


def unique(prefix):
    return '%s%d-%d' % (prefix, os.getpid(), next(_seq))


def this_month():
    return time.strftime('%Y-%m', time.gmtime(time.time() + 8 * 3600))


def error_code(body):
    assert isinstance(body, dict) and 'error' in body, body
    return body['error']['code']


def household(h, members):
    """A household with members (dicts); returns (household, member ids)
    once the ledger knows every member."""
    number = unique('B')
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G1'},
           expect=201)
    hh = h.call('POST', '/v1/households',
                {'building': number, 'room': '101', 'members': members},
                expect=201)
    ids = [m['id'] for m in hh['members']]
    deadline = time.monotonic() + EVENT_WAIT_S
    for pid in ids:
        while True:
            status, body, _ = h.request('GET', '/v1/credit/persons/' + pid)
            if status == 200:
                break
            assert status == 404, (status, body)
            assert time.monotonic() < deadline, 'ledger never heard of ' + pid
            time.sleep(0.05)
    return hh, ids


def person(h, name='Li Hua', **extra):
    member = {'name': name, 'birth_year': 1980}
    member.update(extra)
    return household(h, [member])[1][0]


def evaluate(h, token, person_id, rule='garbage_sorting.good', key=None,
             note='seen'):
    return h.request('POST', '/v1/credit/evaluations',
                     {'person_id': person_id, 'rule': rule, 'note': note,
                      'idempotency_key': key or unique('k')}, token=token)


def uncapped_rule(h, code):
    h.call('PUT', '/v1/credit/rules/' + code,
           {'points': 1, 'monthly_cap_points': 0, 'roles': ['panel', 'ops'],
            'description': 'test rule'}, expect=200)


# ----------------------------------------------------------------------

def test_evaluation_and_person(h):
    panel = h.make_token('panel')
    pid = person(h)
    credit = h.call('GET', '/v1/credit/persons/' + pid)
    assert set(credit) == PERSON_KEYS, credit
    assert credit['index'] == 1000 and credit['card'] == 0, credit
    key = unique('k')
    status, entry, _ = evaluate(h, panel, pid, key=key)
    assert status == 201, entry
    assert ENTRY_KEYS <= set(entry), entry
    assert entry['kind'] == 'earning' and entry['points'] == 2, entry
    assert entry['effective_points'] == 2 and entry['source'] == 'panel'
    assert entry['month'] == this_month(), entry
    status, again, _ = evaluate(h, panel, pid, key=key)
    assert status == 200 and again == entry, (status, again)
    #  The same key for another request: 409.
    status, body, _ = evaluate(h, panel, pid, rule='parking.good', key=key)
    assert status == 409, body
    credit = h.call('GET', '/v1/credit/persons/' + pid)
    assert credit == {'person_id': pid, 'index': 1002, 'tier': 'A',
                      'card': 2, 'month_points': 2}, credit
    #  ops may evaluate too; the entry says so.
    status, entry, _ = evaluate(h, harness.OPS, pid, rule='parking.bad')
    assert status == 201 and entry['source'] == 'ops', entry
    assert entry['kind'] == 'penalty' and entry['effective_points'] == -5
    page = h.call('GET', '/v1/credit/persons/%s/entries?month=%s'
                  % (pid, this_month()))
    assert set(page) == {'entries', 'next_page_token'}, page
    assert len(page['entries']) == 2 and page['next_page_token'] == ''
    page = h.call('GET', '/v1/credit/persons/%s/entries?page_size=1' % pid)
    assert len(page['entries']) == 1 and page['next_page_token'], page
    page2 = h.call('GET', '/v1/credit/persons/%s/entries?page_size=1&page_token=%s'
                   % (pid, page['next_page_token']))
    assert page2['entries'][0]['id'] != page['entries'][0]['id'], page2
    one = h.call('GET', '/v1/credit/entries/' + entry['id'])
    assert one == entry, one
    consent = h.call('GET', '/v1/credit/persons/%s/consent' % pid)
    assert consent['credit_consent'] is True, consent


def test_roles(h):
    pid = person(h)
    merchant = h.make_token('merchant', merchant_id=h.make_merchant())
    school = h.make_token('school', school_id=h.make_school())
    panel = h.make_token('panel')
    status, body, _ = evaluate(h, merchant, pid)
    assert status == 403 and error_code(body) == 'forbidden', (status, body)
    status, body, _ = evaluate(h, school, pid)
    assert status == 403, body
    status, body, _ = evaluate(h, None, pid)
    assert status == 401, body
    for token in (merchant, school, panel):
        for path in ('/v1/credit/persons/' + pid,
                     '/v1/credit/persons/%s/entries' % pid,
                     '/v1/credit/appeals'):
            status, body, _ = h.request('GET', path, token=token)
            assert status == 403, (path, status, body)
        status, body, _ = h.request('POST', '/v1/credit/redemptions',
                                    {'person_id': pid, 'points': 1,
                                     'item': 'x', 'idempotency_key': 'r'},
                                    token=token)
        assert status == 403, body
        status, body, _ = h.request('PUT', '/v1/credit/rules/x.y',
                                    {'points': 1, 'roles': ['ops']},
                                    token=token)
        assert status == 403, body
    #  The panel may not apply a school's rule.
    status, body, _ = evaluate(h, panel, pid, rule='school.medal')
    assert status == 403, body
    #  School calls are for schools only.
    status, body, _ = h.request('POST', '/v1/school/medals', {'events': []},
                                token=panel)
    assert status == 403, body
    status, body, _ = h.request('GET', '/v1/school/pupils/1/credit',
                                token=harness.OPS)
    assert status == 403, body


def test_bad_input(h):
    panel = h.make_token('panel')
    pid = person(h)
    cases = [
        ({'person_id': pid, 'rule': 'garbage_sorting.good'}, 400),  # no key
        ({'person_id': pid, 'rule': 'garbage_sorting.good',
          'idempotency_key': 'a', 'colour': 'red'}, 400),          # unknown field
        ({'person_id': pid, 'rule': 'garbage_sorting.good',
          'idempotency_key': 'b', 'note': 'x' * 1001}, 400),
        ({'person_id': 7, 'rule': 'garbage_sorting.good',
          'idempotency_key': 'c'}, 400),                           # wrong type
        ({'person_id': 'p999999', 'rule': 'garbage_sorting.good',
          'idempotency_key': 'd'}, (404, 422)),
        ({'person_id': pid, 'rule': 'no.such',
          'idempotency_key': 'e'}, 422),
    ]
    for body, expect in cases:
        status, reply, _ = h.request('POST', '/v1/credit/evaluations', body,
                                     token=panel)
        allowed = expect if isinstance(expect, tuple) else (expect,)
        assert status in allowed, (body, status, reply)
        error_code(reply)
    status, reply, _ = h.request('POST', '/v1/credit/evaluations',
                                 raw_body='{"person_id":', token=panel)
    assert status == 400, reply
    credit = h.call('GET', '/v1/credit/persons/' + pid)
    assert credit['index'] == 1000, credit
    page = h.call('GET', '/v1/credit/persons/%s/entries' % pid)
    assert page['entries'] == [], page
    for path in ('/v1/credit/persons/%s/entries?month=2026-13' % pid,
                 '/v1/credit/persons/%s/entries?page_size=1001' % pid,
                 '/v1/credit/honor-board?month=26-01'):
        status, reply, _ = h.request('GET', path)
        assert status == 400, (path, status, reply)
    status, reply, _ = h.request('GET', '/v1/credit/persons/p999999')
    assert status == 404, reply


def test_evaluation_batch(h):
    panel = h.make_token('panel')
    pid = person(h)
    keys = [unique('b') for _ in range(3)]
    body = {'evaluations': [
        {'person_id': pid, 'rule': 'parking.good', 'idempotency_key': keys[0]},
        {'person_id': pid, 'rule': 'civil_conduct.good', 'idempotency_key': keys[1]},
        {'person_id': 'p999999', 'rule': 'parking.good', 'idempotency_key': keys[2]},
        {'person_id': pid, 'rule': 'parking.good', 'idempotency_key': keys[0]},
    ]}
    reply = h.call('POST', '/v1/credit/evaluations/batch', body, token=panel,
                   expect=200)
    assert reply['accepted'] == 2 and reply['duplicates'] == 1, reply
    assert [r['event_id'] for r in reply['rejected']] == [keys[2]], reply
    again = h.call('POST', '/v1/credit/evaluations/batch', body, token=panel,
                   expect=200)
    assert again['accepted'] == 0 and again['duplicates'] == 3, again
    assert h.call('GET', '/v1/credit/persons/' + pid)['index'] == 1005
    #  A single evaluation with a batch item's key: the same evaluation is
    #  a repeat (200), another one a conflict (409).
    status, entry, _ = h.request('POST', '/v1/credit/evaluations',
                                 body['evaluations'][1], token=panel)
    assert status == 200 and entry['rule'] == 'civil_conduct.good', entry
    status, reply, _ = evaluate(h, panel, pid, rule='civil_conduct.good',
                                key=keys[1])
    assert status == 409 and error_code(reply) == 'conflict', reply
    assert h.call('GET', '/v1/credit/persons/' + pid)['index'] == 1005
    merchant = h.make_token('merchant', merchant_id=h.make_merchant())
    status, reply, _ = h.request('POST', '/v1/credit/evaluations/batch', body,
                                 token=merchant)
    assert status == 403, reply
    status, reply, _ = h.request('POST', '/v1/credit/evaluations/batch',
                                 {'evaluations': [body['evaluations'][0]] * 1001},
                                 token=panel)
    assert status == 400, reply


def test_redemptions(h):
    pid = person(h)
    panel = h.make_token('panel')
    assert evaluate(h, panel, pid, rule='civil_conduct.good')[0] == 201
    body = {'person_id': pid, 'points': 4, 'item': 'holiday course',
            'idempotency_key': unique('r')}
    status, reply, _ = h.request('POST', '/v1/credit/redemptions', body)
    assert status == 409 and error_code(reply) == 'conflict', reply
    assert h.call('GET', '/v1/credit/persons/' + pid)['card'] == 3
    body['points'] = 3
    body['idempotency_key'] = unique('r')
    status, entry, _ = h.request('POST', '/v1/credit/redemptions', body)
    assert status == 201 and entry['kind'] == 'redemption', entry
    status, again, _ = h.request('POST', '/v1/credit/redemptions', body)
    assert status == 200 and again == entry, again
    credit = h.call('GET', '/v1/credit/persons/' + pid)
    assert credit['card'] == 0 and credit['index'] == 1003, credit
    body['points'] = 0
    body['idempotency_key'] = unique('r')
    assert h.request('POST', '/v1/credit/redemptions', body)[0] == 400


def test_rules_and_settings(h):
    rules = h.call('GET', '/v1/credit/rules')['rules']
    codes = {r['code'] for r in rules}
    for code in ('garbage_sorting.good', 'garbage_sorting.bad', 'parking.good',
                 'parking.bad', 'civil_conduct.good', 'civil_conduct.bad',
                 'volunteer.hour', 'school.medal', 'market.service',
                 'proposal.adopted'):
        assert code in codes, code
    panel = h.make_token('panel')
    assert h.request('GET', '/v1/credit/rules', token=panel)[0] == 200
    code = unique('t.rule')
    rule = h.call('PUT', '/v1/credit/rules/' + code,
                  {'points': -3, 'monthly_cap_points': 6,
                   'roles': ['panel']}, expect=200)
    assert rule['code'] == code and rule['points'] == -3, rule
    status, body, _ = h.request('PUT', '/v1/credit/rules/' + code,
                                {'points': 0, 'roles': ['panel']})
    assert status == 400, body
    status, body, _ = h.request('PUT', '/v1/credit/rules/' + code,
                                {'points': 1, 'roles': ['janitor']})
    assert status == 400, body
    pid = person(h)
    effective = [evaluate(h, panel, pid, rule=code)[1]['effective_points']
                 for _ in range(3)]
    assert effective == [-3, -3, 0], effective
    settings = h.call('GET', '/v1/credit/settings')
    assert [t['tier'] for t in settings['tiers']] == ['AAA', 'AA', 'A', 'B', 'C', 'D']
    status, body, _ = h.request('PUT', '/v1/credit/settings',
                                {'tiers': [{'tier': 'A', 'min_index': 1},
                                           {'tier': 'B', 'min_index': 5}],
                                 'red_list_size': 10})
    assert status == 400, body
    settings['red_list_size'] = 12
    assert h.call('PUT', '/v1/credit/settings', settings)['red_list_size'] == 12
    settings['red_list_size'] = 10
    h.call('PUT', '/v1/credit/settings', settings)


def test_appeals(h):
    panel = h.make_token('panel')
    pid = person(h)
    status, penalty, _ = evaluate(h, panel, pid, rule='parking.bad')
    assert status == 201
    appeal = h.call('POST', '/v1/credit/appeals',
                    {'entry_id': penalty['id'], 'reason': 'not my car'},
                    expect=201)
    assert appeal['status'] == 'open', appeal
    status, body, _ = h.request('POST', '/v1/credit/appeals',
                                {'entry_id': penalty['id'], 'reason': 'again'})
    assert status == 409, body
    decided = h.call('POST', '/v1/credit/appeals/%s/decision' % appeal['id'],
                     {'accept': True, 'reason': 'plate checked'}, expect=200)
    assert decided['status'] == 'accepted' and decided['reversal_entry_id']
    assert h.call('GET', '/v1/credit/persons/' + pid)['index'] == 1000
    entries = h.call('GET', '/v1/credit/persons/%s/entries' % pid)['entries']
    assert [e['kind'] for e in entries] == ['penalty', 'reversal'], entries
    assert entries[1]['reverses'] == penalty['id']
    status, earning, _ = evaluate(h, panel, pid)
    appeal = h.call('POST', '/v1/credit/appeals',
                    {'entry_id': earning['id'], 'reason': 'check'}, expect=201)
    status, body, _ = h.request('POST', '/v1/credit/appeals/%s/decision'
                                % appeal['id'], {'accept': False})
    assert status == 400, body          # a rejection needs its reason
    rejected = h.call('POST', '/v1/credit/appeals/%s/decision' % appeal['id'],
                      {'accept': False, 'reason': 'the panel saw it'})
    assert rejected['status'] == 'rejected', rejected
    assert h.call('GET', '/v1/credit/appeals/' + appeal['id']) == rejected
    mine = h.call('GET', '/v1/credit/persons/%s/appeals' % pid)['appeals']
    assert [a['status'] for a in mine] == ['accepted', 'rejected'], mine
    everyone = h.call('GET', '/v1/credit/appeals?status=rejected&page_size=1000')
    assert appeal['id'] in [a['id'] for a in everyone['appeals']], everyone
    assert all(a['status'] == 'rejected' for a in everyone['appeals'])
    status, body, _ = h.request('GET', '/v1/credit/appeals?status=maybe')
    assert status == 400, body
    status, body, _ = h.request('POST', '/v1/credit/appeals',
                                {'entry_id': 'e999999999', 'reason': 'x'})
    assert status in (404, 422), body


def test_honor_board_and_rankings(h):
    panel = h.make_token('panel')
    code = unique('t.bonus')
    h.call('PUT', '/v1/credit/rules/' + code,
           {'points': 500, 'monthly_cap_points': 0, 'roles': ['panel']},
           expect=200)
    _, (top, low) = household(h, [{'name': '王小明', 'birth_year': 1970},
                                  {'name': '李四', 'birth_year': 1972}])
    assert evaluate(h, panel, top, rule=code)[0] == 201
    for _ in range(4):
        assert evaluate(h, panel, low, rule='civil_conduct.bad')[0] == 201
    board = h.call('GET', '/v1/credit/honor-board?month=' + this_month())
    assert set(board) >= {'month', 'red', 'grey'}, board
    assert board['month'] == this_month()
    assert board['red'][0]['person_id'] == top, board['red'][:2]
    row = board['red'][0]
    assert set(row) == {'person_id', 'name', 'month_points', 'index'}, row
    assert row['name'] == '王小明' and row['month_points'] == 500
    assert row['index'] == 1500, row
    assert low in [r['person_id'] for r in board['grey']], board['grey']
    masked = h.call('GET', '/v1/credit/honor-board?month=' + this_month(),
                    token=panel)
    assert masked['red'][0]['name'] == '王*明', masked['red'][0]
    houses = h.call('GET', '/v1/credit/rankings/households?month=' + this_month())
    assert houses['rows'][0]['members'] == 2, houses['rows'][0]
    assert houses['rows'][0]['month_points'] == 480, houses['rows'][0]
    buildings = h.call('GET', '/v1/credit/rankings/buildings?month=' + this_month())
    assert buildings['rows'][0]['month_points'] == 480, buildings['rows'][0]


def test_school(h):
    s1_id, s2_id = unique('S'), unique('S')
    pupil_a, pupil_b = unique('P'), unique('P')
    pid_a = person(h, name='林小雨', school_id=s1_id, pupil_no=pupil_a,
                   tags=['pupil'])
    person(h, name='高小山', school_id=s2_id, pupil_no=pupil_b, tags=['pupil'])
    #  A school token names a school a current pupil is in.
    s1 = h.make_token('school', school_id=s1_id)
    s2 = h.make_token('school', school_id=s2_id)
    month = this_month()
    events = [
        {'event_id': 'e1', 'pupil_no': pupil_a, 'month': month,
         'medal': '阅读之星', 'evidence_url': 'https://school.example/e1'},
        {'event_id': 'e2', 'pupil_no': pupil_b, 'month': month, 'medal': 'x'},
        {'event_id': 'e3', 'pupil_no': 'nobody', 'month': month, 'medal': 'x'},
        {'event_id': 'e4', 'pupil_no': pupil_a, 'month': '2099-01', 'medal': 'x'},
        {'event_id': 'e1', 'pupil_no': pupil_a, 'month': month,
         'medal': '阅读之星', 'evidence_url': 'https://school.example/e1'},
    ]
    reply = h.call('POST', '/v1/school/medals', {'events': events}, token=s1,
                   expect=200)
    assert reply['accepted'] == 1 and reply['duplicates'] == 1, reply
    assert sorted(r['event_id'] for r in reply['rejected']) == ['e2', 'e3', 'e4']
    assert all(r['reason'] for r in reply['rejected'])
    credit = h.call('GET', '/v1/school/pupils/%s/credit?month=%s'
                    % (pupil_a, month), token=s1)
    assert credit == {'pupil_no': pupil_a, 'month': month, 'month_points': 5,
                      'index': 1005, 'tier': 'A'}, credit
    #  Another school's pupil reads as an unknown one (test_privacy.py).
    status, body, _ = h.request('GET', '/v1/school/pupils/%s/credit?month=%s'
                                % (pupil_b, month), token=s1)
    assert status == 404, body
    status, body, _ = h.request('GET', '/v1/school/pupils/%s/credit' % pupil_a,
                                token=s2)
    assert status == 404, body
    status, body, _ = h.request('POST', '/v1/school/medals',
                                {'events': [events[0]] * 1001}, token=s1)
    assert status == 400, body
    revoked = h.call('DELETE', '/v1/school/medals/e1', token=s1, expect=201)
    assert revoked['kind'] == 'reversal' and revoked['effective_points'] == -5
    again = h.call('DELETE', '/v1/school/medals/e1', token=s1, expect=200)
    assert again == revoked
    status, body, _ = h.request('DELETE', '/v1/school/medals/e1', token=s2)
    assert status == 404, body
    credit = h.call('GET', '/v1/school/pupils/%s/credit' % pupil_a, token=s1)
    assert credit['month_points'] == 0, credit
    assert h.call('GET', '/v1/credit/persons/' + pid_a)['index'] == 1000


def test_consent_withdrawn(h):
    """A resident who refuses credit scoring: entries are kept with no
    effect and say why; the person is on no board."""
    panel = h.make_token('panel')
    pid = person(h, name='赵不评', credit_opt_out=True)
    consent = h.call('GET', '/v1/credit/persons/%s/consent' % pid)
    assert consent['credit_consent'] is False and consent['recorded_at'], consent
    status, entry, _ = evaluate(h, panel, pid, rule='civil_conduct.good')
    assert status == 201, entry
    assert entry['effective_points'] == 0 and 'consent' in entry['reason'], entry
    status, entry, _ = evaluate(h, panel, pid, rule='civil_conduct.bad')
    assert entry['effective_points'] == 0, entry
    credit = h.call('GET', '/v1/credit/persons/' + pid)
    assert credit['index'] == 1000 and credit['month_points'] == 0, credit
    board = h.call('GET', '/v1/credit/honor-board?page_size=1000')
    listed = [r['person_id'] for r in board['red'] + board['grey']]
    assert pid not in listed, board


def _local_day(offset_days=0):
    return time.strftime('%Y-%m-%d', time.gmtime(time.time() + 8 * 3600
                                                 + offset_days * 86400))


def _previous_month():
    year, month = map(int, this_month().split('-'))
    return '%04d-%02d' % (year - (month == 1), 12 if month == 1 else month - 1)


def test_observed_on_and_month_close(h):
    pid = person(h, name='王芳')
    panel = h.make_token('panel')
    last = _previous_month()
    day_last = last + '-28'
    body = {'person_id': pid, 'rule': 'civil_conduct.good', 'note': 'helped a neighbour',
            'idempotency_key': unique('k'), 'observed_on': day_last}
    status, entry, _ = h.request('POST', '/v1/credit/evaluations', body, token=panel)
    assert status == 201 and entry['month'] == last, entry
    for bad in ('tomorrow', '2026-02-30', _local_day(2)):
        status, err, _ = h.request('POST', '/v1/credit/evaluations',
                                   dict(body, idempotency_key=unique('k'), observed_on=bad),
                                   token=panel)
        assert status == 400, (bad, status, err)
    board = h.call('GET', '/v1/credit/honor-board?month=' + last)
    assert board['published_at'] == '' and pid in [r['person_id'] for r in board['red']]
    #  Ops closes last month: published; this month and the future do not close.
    assert h.request('POST', '/v1/credit/months/%s/close' % this_month(), {})[0] == 409
    assert h.request('POST', '/v1/credit/months/2099-01/close', {})[0] == 409
    assert h.request('POST', '/v1/credit/months/2026-13/close', {})[0] == 400
    assert h.request('POST', '/v1/credit/months/%s/close' % last, {}, token=panel)[0] == 403
    closed = h.call('POST', '/v1/credit/months/%s/close' % last, {}, expect=200)
    assert closed['month'] == last and closed['published_at'], closed
    assert h.request('POST', '/v1/credit/months/%s/close' % last, {})[0] == 409
    board = h.call('GET', '/v1/credit/honor-board?month=' + last)
    assert board['published_at'] == closed['published_at'], board
    ranking = h.call('GET', '/v1/credit/rankings/buildings?month=' + last)
    assert ranking['published_at'] == closed['published_at'], ranking
    months = h.call('GET', '/v1/credit/months')
    assert months['months'][0]['month'] == last and months['current_month'] == this_month()
    #  Nothing more is dated into it (409); its repeat is still 200.
    status, err, _ = h.request('POST', '/v1/credit/evaluations',
                               dict(body, idempotency_key=unique('k')), token=panel)
    assert status == 409 and 'closed' in err['error']['message'], err
    status, again, _ = h.request('POST', '/v1/credit/evaluations', body, token=panel)
    assert status == 200 and again == entry, (status, again)


def test_kill9_during_evaluations(h):
    """Acknowledged evaluations survive kill -9; retries never double."""
    panel = h.make_token('panel')
    code = unique('t.kill')
    uncapped_rule(h, code)
    pid = person(h)
    keys = []
    acked = set()
    refused = 0
    killed = threading.Event()

    def killer():
        time.sleep(0.3)
        h.kill('ledger')
        killed.set()

    t = threading.Thread(target=killer)
    t.start()
    after_kill = 0
    while after_kill < 20 and len(keys) < 20000:
        key = unique('kk')
        keys.append(key)
        if killed.is_set():
            after_kill += 1
        status, body, _ = evaluate(h, panel, pid, rule=code, key=key)
        if status in (200, 201):
            acked.add(key)
        else:
            assert status in (503, 504), (status, body)
            refused += 1
    t.join()
    assert acked and refused, (len(acked), refused)
    h.start('ledger')
    h.wait_healthy()
    #  Every key again: the acknowledged ones are repeats (200).
    for key in keys:
        status, body, _ = evaluate(h, panel, pid, rule=code, key=key)
        if key in acked:
            assert status == 200, (key, status, body)
        else:
            assert status in (200, 201), (key, status, body)
    credit = h.call('GET', '/v1/credit/persons/' + pid)
    assert credit['index'] == 1000 + len(keys), (credit, len(keys), len(acked))
    entries = []
    token = ''
    for _ in range(100):
        page = h.call('GET', '/v1/credit/persons/%s/entries?page_size=1000&page_token=%s'
                      % (pid, token))
        entries += page['entries']
        token = page['next_page_token']
        if not token:
            break
    assert len(entries) == len(keys), (len(entries), len(keys))
    assert len({e['id'] for e in entries}) == len(keys)


if __name__ == '__main__':
    harness.main(globals())
