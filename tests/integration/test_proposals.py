"""test_proposals - the proposals daemon through the gateway (SPEC section 4
"Proposals"): the fund, a proposal's whole life (supports, decision,
sealed tender, award, progress, acceptance or failure, the ledger credit),
awards racing for the last free cents, the problem list with co-building
units, moderation, surveys and their sealed results. Every route, every
role, bad input.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_proposals.py
"""

import http.client
import itertools
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

_seq = itertools.count(1)
EVENT_WAIT_S = 15           # events cross daemons within this
TENDER_S = 2.0              # seconds a test tender stays open


def unique(prefix):
    return '%s%d-%d' % (prefix, os.getpid(), next(_seq))


def at(seconds_from_now):
    """RFC 3339 (UTC) of a moment from now."""
    t = time.time() + seconds_from_now
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t)) + \
        '.%03dZ' % int((t % 1) * 1000)


def error_code(body):
    assert isinstance(body, dict) and 'error' in body, body
    return body['error']['code']


def household(h, building=None, grid='G3', members=1):
    """A new household through residents: (household id, [person ids])."""
    number = building or unique('B')
    h.request('POST', '/v1/buildings', {'number': number, 'grid': grid})
    hh = h.call('POST', '/v1/households',
                {'building': number, 'room': unique('R'),
                 'members': [{'name': 'Li Hua', 'birth_year': 1970 + i}
                             for i in range(members)]}, expect=201)
    return hh['id'], [m['id'] for m in hh['members']]


def person(h):
    return household(h)[1][0]


def merchant(h, co_building=True, name='Tashan property co.'):
    return h.call('POST', '/v1/merchants',
                  {'name': name, 'kind': 'enterprise', 'category': 'property',
                   'services': ['repair'], 'co_building': co_building},
                  expect=201)['id']


def deposit(h, cents, source='district grant'):
    return h.call('POST', '/v1/fund/deposits',
                  {'source': source, 'amount_cents': cents,
                   'idempotency_key': unique('dep')}, expect=201)


def fund(h):
    """GET /v1/fund, every page of movements joined."""
    body = h.call('GET', '/v1/fund')
    token = body['next_page_token']
    for _ in range(1000):
        if not token:
            break
        more = h.call('GET', '/v1/fund?page_token=' + token)
        body['movements'] += more['movements']
        token = more['next_page_token']
    return body


def audit(f):
    """The fund's movements sum to its totals; returns the commitments
    per proposal."""
    dep = com = spent = released = 0
    commits = {}
    for m in f['movements']:
        amount = int(m['amount_cents'])
        assert amount > 0, m
        if m['kind'] == 'deposit':
            dep += amount
        elif m['kind'] == 'commitment':
            com += amount
            commits[m['proposal_id']] = commits.get(m['proposal_id'], 0) + 1
        elif m['kind'] == 'spending':
            spent += amount
        elif m['kind'] == 'release':
            released += amount
        else:
            raise AssertionError(m)
    assert int(f['deposited_cents']) == dep, f
    assert int(f['spent_cents']) == spent, f
    assert int(f['committed_cents']) == com - spent - released, f
    assert int(f['free_cents']) == dep - int(f['committed_cents']) - spent
    assert int(f['free_cents']) >= 0
    assert all(n == 1 for n in commits.values()), commits
    return commits


def proposal(h, budget=50000, title='Pocket park 口袋公园', proposer=None):
    return h.call('POST', '/v1/proposals',
                  {'proposer_person_id': proposer or 'p1', 'title': title,
                   'detail': 'Turn the corner lot into a pocket park',
                   'budget_cents': budget}, expect=201)


def accepted(h, budget=50000, **kw):
    p = proposal(h, budget, **kw)
    return h.call('POST', '/v1/proposals/%s/decision' % p['id'],
                  {'accept': True, 'reason': 'the steward team agrees'})


def tendering(h, budget=50000, seconds=TENDER_S):
    p = accepted(h, budget)
    return h.call('POST', '/v1/proposals/%s/tender' % p['id'],
                  {'deadline': at(seconds)})


def wait_until_deadline(p):
    deadline = p['deadline']
    # Parse "YYYY-MM-DDTHH:MM:SS.mmm+08:00".
    t = time.mktime(time.strptime(deadline[:19], '%Y-%m-%dT%H:%M:%S')) \
        - time.timezone - 8 * 3600 + int(deadline[20:23]) / 1000.0
    time.sleep(max(0.0, t - time.time()) + 0.3)


def bid(h, pid, merchant_id, cents, token=harness.OPS, expect=201):
    return h.call('POST', '/v1/proposals/%s/bids' % pid,
                  {'bidder_merchant_id': merchant_id, 'amount_cents': cents,
                   'plan': 'plant trees, lay paths'}, token=token, expect=expect)


def wait_for_unit(h, problem_id, unit, token=harness.OPS):
    """Claim problem_id for unit, retrying while the merchants event is on
    its way (422 until the unit is known here)."""
    end = time.monotonic() + EVENT_WAIT_S
    while True:
        status, body, _ = h.request('POST', '/v1/problems/%s/claims' % problem_id,
                                    {'unit_merchant_id': unit}, token=token)
        if status != 422 or time.monotonic() > end:
            return status, body
        time.sleep(0.1)


# ----------------------------------------------------------------------
#  The fund

def test_fund_deposits_idempotent(h):
    before = fund(h)
    key = unique('dep')
    body = {'source': 'Huancui district', 'amount_cents': 1234500, 'idempotency_key': key}
    status, first, _ = h.request('POST', '/v1/fund/deposits', body)
    assert status == 201 and first['kind'] == 'deposit', first
    status, again, _ = h.request('POST', '/v1/fund/deposits', body)
    assert status == 200 and again == first, again
    status, other, _ = h.request('POST', '/v1/fund/deposits', dict(body, amount_cents=1))
    assert status == 409, other
    after = fund(h)
    assert int(after['deposited_cents']) == int(before['deposited_cents']) + 1234500
    assert int(after['free_cents']) == int(before['free_cents']) + 1234500
    assert after['movements'][-1]['id'] == first['id']
    audit(after)


def test_fund_bad_input_and_roles(h):
    before = fund(h)
    for body in ({'source': 'x', 'amount_cents': 0, 'idempotency_key': 'a'},
                 {'source': 'x', 'amount_cents': -5, 'idempotency_key': 'b'},
                 {'source': '', 'amount_cents': 5, 'idempotency_key': 'c'},
                 {'source': 'x' * 201, 'amount_cents': 5, 'idempotency_key': 'd'},
                 {'source': 'x', 'amount_cents': 5},
                 {'source': 'x', 'amount_cents': 'lots', 'idempotency_key': 'e'},
                 {'source': 'x', 'amount_cents': 5, 'idempotency_key': 'f', 'colour': 1}):
        status, reply, _ = h.request('POST', '/v1/fund/deposits', body)
        assert status == 400, (body, status, reply)
    assert h.request('POST', '/v1/fund/deposits', raw_body='{"source":')[0] == 400
    assert h.request('GET', '/v1/fund?page_size=1001')[0] == 400
    assert h.request('GET', '/v1/fund?page_token=zz')[0] == 400
    panel = h.make_token('panel')
    school = h.make_token('school', school_id=h.make_school())
    m = merchant(h)
    mt = h.make_token('merchant', merchant_id=m)
    for token in (panel, school, mt):
        assert h.request('GET', '/v1/fund', token=token)[0] == 403
        assert h.request('POST', '/v1/fund/deposits',
                         {'source': 'x', 'amount_cents': 5, 'idempotency_key': 'g'},
                         token=token)[0] == 403
    assert h.request('GET', '/v1/fund', token=None)[0] == 401
    after = fund(h)
    assert after['deposited_cents'] == before['deposited_cents']
    deposit(h, 1)
    deposit(h, 2)
    page = h.call('GET', '/v1/fund?page_size=1')
    assert len(page['movements']) == 1 and page['next_page_token'], page


def test_settings(h):
    s = h.call('GET', '/v1/proposal-settings')
    assert s == {'support_threshold': 0, 'support_window_days': 90,
                 'report_threshold': 3}, s
    for body in ({'report_threshold': 0}, {'support_window_days': 4000},
                 {'support_threshold': -1}):
        assert h.request('PUT', '/v1/proposal-settings', body)[0] == 400, body
    panel = h.make_token('panel')
    assert h.request('PUT', '/v1/proposal-settings', s, token=panel)[0] == 403
    assert h.request('GET', '/v1/proposal-settings', token=panel)[0] == 403
    assert h.call('GET', '/v1/proposal-settings') == s


# ----------------------------------------------------------------------
#  A proposal's life

def test_proposal_lifecycle_and_ledger(h):
    deposit(h, 10000000)
    proposer = person(h)
    supporters = [person(h) for _ in range(3)]
    p = proposal(h, 300000, proposer=proposer)
    assert p['state'] == 'submitted' and p['id'].startswith('x'), p
    for i, s in enumerate(supporters):
        assert h.call('POST', '/v1/proposals/%s/supports' % p['id'],
                      {'person_id': s}, expect=201) == {'supports': i + 1}
    status, body, _ = h.request('POST', '/v1/proposals/%s/supports' % p['id'],
                                {'person_id': supporters[0]})
    assert status == 409 and error_code(body) == 'conflict', body
    # Out of order: tender, bid, award, acceptance, progress before acceptance.
    assert h.request('POST', '/v1/proposals/%s/tender' % p['id'],
                     {'deadline': at(60)})[0] == 409
    assert h.request('POST', '/v1/proposals/%s/award' % p['id'],
                     {'bid_id': 'd1', 'reason': 'x'})[0] == 409
    assert h.request('POST', '/v1/proposals/%s/acceptance' % p['id'],
                     {'passed': True, 'spent_cents': 1, 'note': 'x'})[0] == 409
    assert h.request('POST', '/v1/proposals/%s/progress' % p['id'],
                     {'note': 'x'})[0] == 409
    # Out of order is 409 whatever the body says.
    assert h.request('POST', '/v1/proposals/%s/tender' % p['id'], {})[0] == 409
    assert h.request('POST', '/v1/proposals/%s/acceptance' % p['id'], {})[0] == 409
    # The decision needs a reason.
    assert h.request('POST', '/v1/proposals/%s/decision' % p['id'],
                     {'accept': True})[0] == 400
    d = h.call('POST', '/v1/proposals/%s/decision' % p['id'],
               {'accept': True, 'reason': 'many neighbours want it'})
    assert d['state'] == 'accepted' and d['supports'] == 3, d
    status, body, _ = h.request('POST', '/v1/proposals/%s/decision' % p['id'],
                                {'accept': False, 'reason': 'changed our minds'})
    assert status == 409, body
    assert h.request('POST', '/v1/proposals/%s/decision' % p['id'], {'accept': False})[0] == 409
    assert h.request('POST', '/v1/proposals/%s/supports' % p['id'],
                     {'person_id': person(h)})[0] == 409
    # Tender: a deadline in the future.
    assert h.request('POST', '/v1/proposals/%s/tender' % p['id'],
                     {'deadline': at(-5)})[0] == 400
    assert h.request('POST', '/v1/proposals/%s/tender' % p['id'],
                     {'deadline': 'tomorrow'})[0] == 400
    t = h.call('POST', '/v1/proposals/%s/tender' % p['id'], {'deadline': at(TENDER_S)})
    assert t['state'] == 'tendering', t
    assert h.request('POST', '/v1/proposals/%s/tender' % p['id'],
                     {'deadline': at(60)})[0] == 409
    a, b, c = merchant(h), merchant(h), merchant(h)
    ta = h.make_token('merchant', merchant_id=a)
    own = bid(h, p['id'], a, 250000, token=ta)
    assert own['amount_cents'] == 250000 and own['id'].startswith('d'), own
    bid(h, p['id'], b, 200000)
    bid(h, p['id'], c, 350000)                 # over the budget: not compliant
    assert h.request('POST', '/v1/proposals/%s/bids' % p['id'],
                     {'bidder_merchant_id': b, 'amount_cents': 1, 'plan': 'again'})[0] == 409
    # A merchant bids only as itself.
    assert h.request('POST', '/v1/proposals/%s/bids' % p['id'],
                     {'bidder_merchant_id': b, 'amount_cents': 1, 'plan': 'x'},
                     token=ta)[0] == 403
    # Sealed: ops see no amount, plan or rank; the proposal shows none either.
    sealed = h.call('GET', '/v1/proposals/%s/bids' % p['id'])
    assert sealed['sealed'] is True and len(sealed['bids']) == 3, sealed
    for x in sealed['bids']:
        assert x['sealed'] is True and int(x['amount_cents']) == 0 and x['plan'] == '', x
        assert x['rank'] == 0, x
    got = h.call('GET', '/v1/proposals/' + p['id'])
    assert '250000' not in str(got) and '200000' not in str(got), got
    mine = h.call('GET', '/v1/proposals/%s/bids' % p['id'], token=ta)
    assert [x['id'] for x in mine['bids']] == [own['id']], mine
    assert int(mine['bids'][0]['amount_cents']) == 250000
    # No award before the deadline.
    assert h.request('POST', '/v1/proposals/%s/award' % p['id'],
                     {'bid_id': own['id'], 'reason': 'early'})[0] == 409
    wait_until_deadline(t)
    assert h.request('POST', '/v1/proposals/%s/bids' % p['id'],
                     {'bidder_merchant_id': merchant(h), 'amount_cents': 1,
                      'plan': 'late'})[0] == 409
    opened = h.call('GET', '/v1/proposals/%s/bids' % p['id'])
    assert opened['sealed'] is False
    ranked = [(x['bidder_merchant_id'], int(x['amount_cents']), x['compliant'], x['rank'])
              for x in opened['bids']]
    assert ranked == [(b, 200000, True, 1), (a, 250000, True, 2),
                      (c, 350000, False, 3)], ranked
    # Another than the lowest compliant bid needs a reason.
    assert h.request('POST', '/v1/proposals/%s/award' % p['id'],
                     {'bid_id': own['id']})[0] == 400
    assert h.request('POST', '/v1/proposals/%s/award' % p['id'],
                     {'bid_id': 'd999999', 'reason': 'x'})[0] == 422
    f0 = fund(h)
    w = h.call('POST', '/v1/proposals/%s/award' % p['id'],
               {'bid_id': own['id'], 'reason': 'better plan for the elderly'})
    assert w['state'] == 'awarded' and w['awarded_bid_id'] == own['id'], w
    assert int(w['awarded_cents']) == 250000 and w['awarded_merchant_id'] == a
    assert h.request('POST', '/v1/proposals/%s/award' % p['id'],
                     {'bid_id': own['id'], 'reason': 'again'})[0] == 409
    f1 = fund(h)
    assert int(f1['committed_cents']) == int(f0['committed_cents']) + 250000
    assert int(f1['free_cents']) == int(f0['free_cents']) - 250000
    g = h.call('POST', '/v1/proposals/%s/progress' % p['id'], {'note': 'trees planted'},
               expect=201)
    assert g['state'] == 'in_progress', g
    h.call('POST', '/v1/proposals/%s/progress' % p['id'], {'note': 'benches in'}, expect=201)
    assert h.request('POST', '/v1/proposals/%s/acceptance' % p['id'],
                     {'passed': True, 'spent_cents': 250001, 'note': 'x'})[0] == 409
    assert h.request('POST', '/v1/proposals/%s/acceptance' % p['id'],
                     {'passed': True, 'spent_cents': -1, 'note': 'x'})[0] == 400
    done = h.call('POST', '/v1/proposals/%s/acceptance' % p['id'],
                  {'passed': True, 'spent_cents': 240000, 'note': 'accepted by residents'})
    assert done['state'] == 'completed' and int(done['spent_cents']) == 240000, done
    assert h.request('POST', '/v1/proposals/%s/acceptance' % p['id'],
                     {'passed': False, 'spent_cents': 0, 'note': 'x'})[0] == 409
    f2 = fund(h)
    assert int(f2['spent_cents']) == int(f0['spent_cents']) + 240000
    assert int(f2['committed_cents']) == int(f0['committed_cents'])
    assert int(f2['free_cents']) == int(f0['free_cents']) - 240000
    audit(f2)
    # The public timeline: every state with at, by and the reasons as notes.
    full = h.call('GET', '/v1/proposals/' + p['id'])
    states = [e['state'] for e in full['timeline']]
    assert states == ['submitted', 'accepted', 'tendering', 'awarded', 'in_progress',
                      'in_progress', 'completed'], states
    assert full['timeline'][1]['note'] == 'many neighbours want it'
    assert full['timeline'][3]['note'] == 'better plan for the elderly'
    assert all(e['at'] and e['by'] for e in full['timeline'])
    # The proposer got proposal.adopted exactly once.
    end = time.monotonic() + EVENT_WAIT_S
    while True:
        entries = h.call('GET', '/v1/credit/persons/%s/entries' % proposer)['entries']
        adopted = [e for e in entries if e['rule'] == 'proposal.adopted']
        if adopted or time.monotonic() > end:
            break
        time.sleep(0.1)
    assert len(adopted) == 1 and adopted[0]['source'] == 'proposals', entries
    time.sleep(0.5)
    entries = h.call('GET', '/v1/credit/persons/%s/entries' % proposer)['entries']
    assert len([e for e in entries if e['rule'] == 'proposal.adopted']) == 1


def test_rejected_failed_and_lowest_default(h):
    deposit(h, 1000000)
    r = proposal(h)
    r = h.call('POST', '/v1/proposals/%s/decision' % r['id'],
               {'accept': False, 'reason': 'outside the community'})
    assert r['state'] == 'rejected' and r['decision_reason'] == 'outside the community'
    assert h.request('POST', '/v1/proposals/%s/tender' % r['id'],
                     {'deadline': at(60)})[0] == 409
    # An accepted proposal carries a budget.
    z = proposal(h, 0)
    assert h.request('POST', '/v1/proposals/%s/decision' % z['id'],
                     {'accept': True, 'reason': 'yes'})[0] == 400
    z = h.call('POST', '/v1/proposals/%s/decision' % z['id'],
               {'accept': True, 'reason': 'yes', 'budget_cents': 80000})
    assert int(z['budget_cents']) == 80000
    t = tendering(h, 60000)
    a, b = merchant(h), merchant(h)
    bid(h, t['id'], a, 50000)
    low = bid(h, t['id'], b, 40000)
    # No bid at all: the award has nothing to take.
    empty = tendering(h, 60000)
    wait_until_deadline(t)
    assert h.request('POST', '/v1/proposals/%s/award' % empty['id'], {})[0] == 409
    w = h.call('POST', '/v1/proposals/%s/award' % t['id'], {})
    assert w['awarded_bid_id'] == low['id'] and int(w['awarded_cents']) == 40000, w
    f0 = fund(h)
    failed = h.call('POST', '/v1/proposals/%s/acceptance' % t['id'],
                    {'passed': False, 'spent_cents': 0, 'note': 'the unit walked away'})
    assert failed['state'] == 'failed', failed
    f1 = fund(h)
    assert int(f1['committed_cents']) == int(f0['committed_cents']) - 40000
    assert int(f1['free_cents']) == int(f0['free_cents']) + 40000
    assert f1['movements'][-1]['kind'] == 'release'
    audit(f1)


def test_award_over_free_commits_nothing(h):
    free = int(fund(h)['free_cents'])
    t = tendering(h, free + 100000)
    m = merchant(h)
    over = bid(h, t['id'], m, free + 1)
    wait_until_deadline(t)
    before = fund(h)
    status, body, _ = h.request('POST', '/v1/proposals/%s/award' % t['id'],
                                {'bid_id': over['id'], 'reason': 'only bid'})
    assert status == 409, body
    after = fund(h)
    assert after['committed_cents'] == before['committed_cents']
    assert len(after['movements']) == len(before['movements'])
    assert h.call('GET', '/v1/proposals/' + t['id'])['state'] == 'tendering'


def test_awards_racing_never_overcommit(h):
    """Many awards at once, more than the fund holds: the daemon decides
    them one after another; exactly as many as fit are committed."""
    free = int(fund(h)['free_cents'])
    n = 24
    amount = free // 7 + 1             # 6 fit, the 7th does not
    fit = free // amount
    assert fit == 6, (free, amount)
    tenders = []
    m = merchant(h)
    for _ in range(n):
        t = accepted(h, amount)
        t = h.call('POST', '/v1/proposals/%s/tender' % t['id'], {'deadline': at(TENDER_S)})
        b = bid(h, t['id'], m, amount)
        tenders.append((t, b))
    wait_until_deadline(tenders[-1][0])
    results = []
    lock = threading.Lock()

    def award(pairs):
        for t, b in pairs:
            conn = http.client.HTTPConnection('127.0.0.1', h.port, timeout=10)
            conn.request('POST', '/v1/proposals/%s/award' % t['id'],
                         json.dumps({'bid_id': b['id'], 'reason': 'race'}),
                         {'Authorization': 'Bearer ' + h.ops_token,
                          'Content-Type': 'application/json'})
            status = conn.getresponse().status
            conn.close()
            harness._record_route('POST', '/v1/proposals/%s/award' % t['id'], status)
            with lock:
                results.append(status)

    threads = [threading.Thread(target=award, args=(tenders[i::8],)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(results) == [200] * fit + [409] * (n - fit), results
    f = fund(h)
    assert int(f['free_cents']) == free - fit * amount, f
    audit(f)
    awarded = h.call('GET', '/v1/proposals?state=awarded&page_size=1000')['proposals']
    assert len([p for p in awarded if p['id'] in {t['id'] for t, _ in tenders}]) == fit


def test_proposals_bad_input_and_roles(h):
    cases = [
        ({'title': 'x', 'budget_cents': 1}, 'proposer_person_id', 400),
        ({'proposer_person_id': 'h1', 'title': 'x'}, 'proposer_person_id', 422),
        ({'proposer_person_id': 'p1', 'title': ''}, 'title', 400),
        ({'proposer_person_id': 'p1', 'title': 'x' * 201}, 'title', 400),
        ({'proposer_person_id': 'p1', 'title': 'x', 'detail': 'd' * 1001}, 'detail', 400),
        ({'proposer_person_id': 'p1', 'title': 'x', 'budget_cents': -1}, 'budget_cents', 400),
        ({'proposer_person_id': 'p1', 'title': 'x', 'budget': 1}, 'budget', 400),
    ]
    before = h.call('GET', '/v1/proposals?page_size=1000')['proposals']
    for body, field, code in cases:
        status, reply, _ = h.request('POST', '/v1/proposals', body)
        assert status == code and field in reply['error']['message'], (body, status, reply)
    after = h.call('GET', '/v1/proposals?page_size=1000')['proposals']
    assert len(after) == len(before)
    assert h.request('GET', '/v1/proposals/x999999')[0] == 404
    assert h.request('GET', '/v1/proposals/nope')[0] == 404
    assert h.request('GET', '/v1/proposals?state=dreaming')[0] == 400
    assert h.request('GET', '/v1/proposals?page_size=1001')[0] == 400
    assert h.request('POST', '/v1/proposals/x999999/supports', {'person_id': 'p1'})[0] == 404
    p = proposal(h)
    assert h.request('POST', '/v1/proposals/%s/supports' % p['id'], {'person_id': 'm1'})[0] == 422
    assert h.request('POST', '/v1/proposals/%s/decision' % p['id'],
                     {'accept': True, 'reason': 'r' * 1001})[0] == 400
    assert h.request('POST', '/v1/proposals/%s/decision' % p['id'],
                     {'accept': 'yes', 'reason': 'r'})[0] == 400
    # Paging by state.
    proposal(h)
    page = h.call('GET', '/v1/proposals?state=submitted&page_size=1')
    assert len(page['proposals']) == 1 and page['next_page_token'], page
    nxt = h.call('GET', '/v1/proposals?state=submitted&page_size=1&page_token='
                 + page['next_page_token'])
    assert nxt['proposals'][0]['id'] != page['proposals'][0]['id']
    assert all(x['state'] == 'submitted' for x in nxt['proposals'])
    panel = h.make_token('panel')
    school = h.make_token('school', school_id=h.make_school())
    mt = h.make_token('merchant', merchant_id=merchant(h))
    for token in (panel, school, mt):
        assert h.request('POST', '/v1/proposals', {'proposer_person_id': 'p1', 'title': 'x'},
                         token=token)[0] == 403
        assert h.request('GET', '/v1/proposals/' + p['id'], token=token)[0] == 403
        assert h.request('GET', '/v1/proposals', token=token)[0] == 403
        for step, body in (('supports', {'person_id': 'p1'}),
                           ('decision', {'accept': True, 'reason': 'x'}),
                           ('tender', {'deadline': at(60)}),
                           ('award', {'bid_id': 'd1', 'reason': 'x'}),
                           ('progress', {'note': 'x'}),
                           ('acceptance', {'passed': True, 'spent_cents': 0, 'note': 'x'})):
            assert h.request('POST', '/v1/proposals/%s/%s' % (p['id'], step), body,
                             token=token)[0] == 403, step
    for token in (panel, school):
        assert h.request('GET', '/v1/proposals/%s/bids' % p['id'], token=token)[0] == 403
        assert h.request('POST', '/v1/proposals/%s/bids' % p['id'],
                         {'bidder_merchant_id': 'm1', 'amount_cents': 1, 'plan': 'x'},
                         token=token)[0] == 403
    assert h.request('GET', '/v1/proposals', token=None)[0] == 401
    # Bids: bad input.
    t = tendering(h, 10000, seconds=60)
    m = merchant(h)
    for body, code in (({'bidder_merchant_id': m, 'amount_cents': 0, 'plan': 'x'}, 400),
                       ({'bidder_merchant_id': m, 'amount_cents': 5, 'plan': ''}, 400),
                       ({'bidder_merchant_id': m, 'amount_cents': 5, 'plan': 'p' * 1001}, 400),
                       ({'bidder_merchant_id': 'x1', 'amount_cents': 5, 'plan': 'x'}, 422)):
        assert h.request('POST', '/v1/proposals/%s/bids' % t['id'], body)[0] == code, body
    assert h.call('GET', '/v1/proposals/%s/bids' % t['id'])['bids'] == []
    assert h.request('POST', '/v1/proposals/%s/bids' % p['id'],
                     {'bidder_merchant_id': m, 'amount_cents': 5, 'plan': 'x'})[0] == 409
    assert h.request('GET', '/v1/proposals/x999999/bids')[0] == 404


# ----------------------------------------------------------------------
#  Comments and moderation

def test_comments_reports_and_review(h):
    p = proposal(h, title='Wall murals 立体彩绘')
    c = h.call('POST', '/v1/proposals/%s/comments' % p['id'],
               {'person_id': person(h), 'text': 'Please paint the sea'}, expect=201)
    assert c['id'].startswith('u') and c['text'] == 'Please paint the sea'
    assert h.request('POST', '/v1/proposals/%s/comments' % p['id'],
                     {'person_id': 'p1', 'text': ''})[0] == 400
    assert h.request('POST', '/v1/proposals/x999999/comments',
                     {'person_id': 'p1', 'text': 'x'})[0] == 404
    reporters = [person(h) for _ in range(3)]
    for i, r in enumerate(reporters[:2]):
        item = h.call('POST', '/v1/reports', {'item_id': c['id'], 'person_id': r,
                                              'reason': 'rude'}, expect=201)
        assert item['reports'] == i + 1 and item['hidden'] is False, item
    assert h.request('POST', '/v1/reports', {'item_id': c['id'], 'person_id': reporters[0],
                                             'reason': 'rude'})[0] == 409
    assert h.request('POST', '/v1/reports', {'item_id': 'u999999', 'person_id': reporters[0],
                                             'reason': 'rude'})[0] == 404
    assert h.request('POST', '/v1/reports', {'item_id': c['id'], 'person_id': reporters[0],
                                             'reason': ''})[0] == 400
    item = h.call('POST', '/v1/reports', {'item_id': c['id'], 'person_id': reporters[2],
                                          'reason': 'rude'}, expect=201)
    assert item['hidden'] is True and item['state'] == 'pending', item
    listed = h.call('GET', '/v1/proposals/%s/comments' % p['id'])['comments']
    assert listed[0]['hidden'] is True and listed[0]['text'] == '', listed
    queue = h.call('GET', '/v1/moderation')['items']
    mine = [x for x in queue if x['item_id'] == c['id']]
    assert mine and mine[0]['title'] == 'Please paint the sea', queue
    # Review: restored, audited.
    assert h.request('POST', '/v1/moderation/%s/review' % c['id'], {'restore': True})[0] == 400
    r = h.call('POST', '/v1/moderation/%s/review' % c['id'],
               {'restore': True, 'note': 'a fair complaint, not rude'})
    assert r['state'] == 'restored' and r['hidden'] is False, r
    assert [e['state'] for e in r['reviews']] == ['hidden', 'restored'], r
    assert all(e['by'] for e in r['reviews'])
    assert h.request('POST', '/v1/moderation/%s/review' % c['id'],
                     {'restore': False, 'note': 'x'})[0] == 409
    listed = h.call('GET', '/v1/proposals/%s/comments' % p['id'])['comments']
    assert listed[0]['text'] == 'Please paint the sea'
    # A proposal hidden by reports keeps its record and its timeline says so.
    for r_ in reporters:
        h.call('POST', '/v1/reports', {'item_id': p['id'], 'person_id': r_,
                                       'reason': 'advertising'}, expect=201)
    hidden = h.call('GET', '/v1/proposals/' + p['id'])
    assert hidden['hidden'] is True and hidden['title'] == '', hidden
    assert hidden['timeline'][-1]['state'] == 'hidden'
    removed = h.call('POST', '/v1/moderation/%s/review' % p['id'],
                     {'restore': False, 'note': 'it is an advert'})
    assert removed['state'] == 'removed' and removed['hidden'] is True
    gone = h.call('GET', '/v1/moderation?state=removed')['items']
    assert p['id'] in [x['item_id'] for x in gone]
    assert h.call('GET', '/v1/proposals/' + p['id'])['timeline'][-1]['state'] == 'removed'
    assert h.request('GET', '/v1/moderation?state=odd')[0] == 400
    panel = h.make_token('panel')
    for method, path, body in (('GET', '/v1/moderation', None),
                               ('POST', '/v1/reports', {'item_id': p['id'],
                                                        'person_id': 'p1', 'reason': 'x'}),
                               ('POST', '/v1/moderation/%s/review' % p['id'],
                                {'restore': True, 'note': 'x'}),
                               ('GET', '/v1/proposals/%s/comments' % p['id'], None),
                               ('POST', '/v1/proposals/%s/comments' % p['id'],
                                {'person_id': 'p1', 'text': 'x'})):
        assert h.request(method, path, body, token=panel)[0] == 403, path


# ----------------------------------------------------------------------
#  The problem list

def test_problem_list_claims(h):
    unit, other = merchant(h), merchant(h, name='Tashan primary school')
    shop = merchant(h, co_building=False, name='Corner shop')
    pr = h.call('POST', '/v1/problems', {'title': 'Parking 停车难', 'place': 'Building 12',
                                         'source': 'visit'}, expect=201)
    assert pr['state'] == 'listed' and pr['id'].startswith('y'), pr
    tu = h.make_token('merchant', merchant_id=unit)
    to = h.make_token('merchant', merchant_id=other)
    # A unit's token claims only for itself.
    assert h.request('POST', '/v1/problems/%s/claims' % pr['id'],
                     {'unit_merchant_id': other}, token=tu)[0] == 403
    status, body = wait_for_unit(h, pr['id'], unit, token=tu)
    assert status == 201 and body['state'] == 'claimed', body
    # The shop registered before the unit: known by now, and not a unit.
    other_pr = h.call('POST', '/v1/problems', {'title': 'Play area', 'place': 'Yard',
                                               'source': 'survey'}, expect=201)
    status, refused, _ = h.request('POST', '/v1/problems/%s/claims' % other_pr['id'],
                                   {'unit_merchant_id': shop})
    assert status == 422, refused                 # not a co-building unit
    assert body['claimer_merchant_id'] == unit
    status, body = wait_for_unit(h, pr['id'], other, token=to)
    assert status == 409, body                    # one claimer at a time
    # Progress from the claimer (or ops) only.
    assert h.request('POST', '/v1/problems/%s/progress' % pr['id'],
                     {'note': 'x'}, token=to)[0] == 403
    assert h.request('POST', '/v1/problems/%s/progress' % pr['id'], {'note': ''})[0] == 400
    g = h.call('POST', '/v1/problems/%s/progress' % pr['id'],
               {'note': 'lines painted'}, token=tu, expect=201)
    assert g['state'] == 'claimed' and len(g['progress']) == 1
    # The confirmation needs a done problem.
    assert h.request('POST', '/v1/problems/%s/confirmation' % pr['id'],
                     {'satisfied': True})[0] == 409
    d = h.call('POST', '/v1/problems/%s/progress' % pr['id'],
               {'note': '40 new spaces', 'done': True}, token=tu, expect=201)
    assert d['state'] == 'done' and d['progress'][-1]['done'] is True, d
    back = h.call('POST', '/v1/problems/%s/confirmation' % pr['id'],
                  {'satisfied': False, 'note': 'the night lights are missing'})
    assert back['state'] == 'claimed', back
    h.call('POST', '/v1/problems/%s/progress' % pr['id'],
           {'note': 'lights in', 'done': True}, expect=201)
    closed = h.call('POST', '/v1/problems/%s/confirmation' % pr['id'],
                    {'satisfied': True, 'household_id': 'h1'})
    assert closed['state'] == 'closed', closed
    got = h.call('GET', '/v1/problems/' + pr['id'], token=tu)
    assert got['state'] == 'closed' and len(got['progress']) == 3, got
    assert [e['state'] for e in got['timeline']] == ['listed', 'claimed', 'done', 'claimed',
                                                     'done', 'closed']
    # Release: the claimer gives a problem back.
    pr2 = h.call('POST', '/v1/problems', {'title': 'Wall murals', 'place': 'Lane 3',
                                          'source': 'hotline'}, expect=201)
    h.call('POST', '/v1/problems/%s/claims' % pr2['id'], {'unit_merchant_id': other},
           token=to, expect=201)
    assert h.request('POST', '/v1/problems/%s/release' % pr2['id'], {}, token=tu)[0] == 403
    rel = h.call('POST', '/v1/problems/%s/release' % pr2['id'], {'note': 'no painters'},
                 token=to)
    assert rel['state'] == 'listed' and rel['claimer_merchant_id'] == '', rel
    assert h.request('POST', '/v1/problems/%s/release' % pr2['id'], {})[0] == 409
    listed = h.call('GET', '/v1/problems?state=listed&page_size=1000')['problems']
    assert pr2['id'] in [x['id'] for x in listed]
    assert pr['id'] not in [x['id'] for x in listed]
    assert h.call('GET', '/v1/problems?state=closed', token=tu)['problems']


def test_problems_bad_input_and_roles(h):
    for body, field in (({'title': '', 'place': 'x', 'source': 'visit'}, 'title'),
                        ({'title': 'x', 'place': '', 'source': 'visit'}, 'place'),
                        ({'title': 'x', 'place': 'x', 'source': 'rumour'}, 'source'),
                        ({'title': 'x' * 201, 'place': 'x', 'source': 'visit'}, 'title'),
                        ({'title': 'x', 'place': 'x', 'source': 'visit',
                          'detail': 'd' * 1001}, 'detail')):
        status, reply, _ = h.request('POST', '/v1/problems', body)
        assert status == 400 and field in reply['error']['message'], (body, reply)
    assert h.request('GET', '/v1/problems/y999999')[0] == 404
    assert h.request('GET', '/v1/problems?state=odd')[0] == 400
    assert h.request('POST', '/v1/problems/y999999/claims', {'unit_merchant_id': 'm1'})[0] == 404
    pr = h.call('POST', '/v1/problems', {'title': 'x', 'place': 'x', 'source': 'meeting'},
                expect=201)
    assert h.request('POST', '/v1/problems/%s/claims' % pr['id'],
                     {'unit_merchant_id': 'm999999'})[0] == 422
    assert h.request('POST', '/v1/problems/%s/claims' % pr['id'],
                     {'unit_merchant_id': 'q1'})[0] == 422
    assert h.request('POST', '/v1/problems/%s/progress' % pr['id'], {'note': 'x'})[0] == 409
    panel = h.make_token('panel')
    mt = h.make_token('merchant', merchant_id=merchant(h))
    assert h.request('POST', '/v1/problems', {'title': 'x', 'place': 'x', 'source': 'visit'},
                     token=panel)[0] == 403
    assert h.request('POST', '/v1/problems', {'title': 'x', 'place': 'x', 'source': 'visit'},
                     token=mt)[0] == 403
    assert h.request('GET', '/v1/problems', token=panel)[0] == 403
    assert h.request('POST', '/v1/problems/%s/confirmation' % pr['id'],
                     {'satisfied': True}, token=mt)[0] == 403


# ----------------------------------------------------------------------
#  Surveys

def test_survey_sealed_then_results(h):
    hh_a, _ = household(h, building=unique('S'), grid='G1')
    hh_b, _ = household(h, building=unique('S'), grid='G2')
    hh_c, _ = household(h, building=unique('S'), grid='G2')
    questions = [{'text': 'How satisfied are you with the community?', 'kind': 'scale'},
                 {'text': 'What first?', 'kind': 'choice',
                  'options': ['pocket park', 'parking', 'play area']},
                 {'text': 'Anything else?', 'kind': 'text'}]
    s = h.call('POST', '/v1/surveys', {'title': '大走访 2026', 'closes_at': at(TENDER_S + 1),
                                       'questions': questions, 'kind': 'home_visit'},
               expect=201)
    assert s['id'].startswith('v') and s['state'] == 'open' and s['kind'] == 'home_visit'
    answers = {hh_a: [{'scale': 5}, {'choice': 'parking'}, {'text': 'more lights'}],
               hh_b: [{'scale': 4}, {'choice': 'parking'}, {'text': ''}],
               hh_c: [{'scale': 2}, {'choice': 'pocket park'}, {}]}
    for hh, ans in answers.items():
        r = h.call('POST', '/v1/surveys/%s/responses' % s['id'],
                   {'household_id': hh, 'answers': ans, 'recorded_by': 'grid worker Wang'},
                   expect=201)
        assert r['household_id'] == hh and r['recorded_by'].startswith('grid worker Wang'), r
    assert h.request('POST', '/v1/surveys/%s/responses' % s['id'],
                     {'household_id': hh_a, 'answers': answers[hh_a]})[0] == 409
    for bad in ([{'scale': 6}, {'choice': 'parking'}, {}],
                [{'scale': 0}, {'choice': 'parking'}, {}],
                [{'scale': 3}, {'choice': 'swimming pool'}, {}],
                [{'choice': 'parking'}, {'scale': 3}, {}],
                [{'scale': 3}, {'choice': 'parking'}],
                [{'scale': 3}, {'choice': 'parking'}, {'text': 't' * 1001}]):
        status, body, _ = h.request('POST', '/v1/surveys/%s/responses' % s['id'],
                                    {'household_id': 'h999', 'answers': bad})
        assert status == 400, (bad, body)
    assert h.request('POST', '/v1/surveys/%s/responses' % s['id'],
                     {'household_id': 'p1', 'answers': answers[hh_a]})[0] == 422
    status, body, _ = h.request('GET', '/v1/surveys/%s/results' % s['id'])
    assert status == 409, body                    # sealed while open
    got = h.call('GET', '/v1/surveys/' + s['id'])
    assert got['responses'] == 3, got
    time.sleep(TENDER_S + 1.5)
    assert h.request('POST', '/v1/surveys/%s/responses' % s['id'],
                     {'household_id': 'h999', 'answers': answers[hh_a]})[0] == 409
    res = h.call('GET', '/v1/surveys/%s/results' % s['id'])
    assert res['responses'] == 3, res
    q0, q1, q2 = res['questions']
    assert q0['counts'] == {'1': 0, '2': 1, '3': 0, '4': 1, '5': 1}, q0
    assert abs(q0['mean'] - 11 / 3) < 1e-9, q0
    assert q1['counts'] == {'pocket park': 1, 'parking': 2, 'play area': 0}, q1
    assert q2['texts'] == ['more lights'], q2
    assert abs(res['satisfaction_percent'] - 200 / 3) < 1e-6, res
    grids = {g['key']: g for g in res['grids']}
    assert grids['G1']['responses'] == 1 and grids['G1']['satisfaction_percent'] == 100
    assert grids['G2']['responses'] == 2 and grids['G2']['satisfaction_percent'] == 50
    assert len(res['buildings']) == 3 and sum(b['responses'] for b in res['buildings']) == 3
    assert h.call('GET', '/v1/surveys/' + s['id'])['state'] == 'closed'
    listed = h.call('GET', '/v1/surveys?page_size=1000')['surveys']
    assert s['id'] in [x['id'] for x in listed]


def test_surveys_bad_input_and_roles(h):
    good = [{'text': 'q', 'kind': 'scale'}]
    for body in ({'title': '', 'closes_at': at(60), 'questions': good},
                 {'title': 'x', 'closes_at': 'soon', 'questions': good},
                 {'title': 'x', 'closes_at': at(60), 'questions': []},
                 {'title': 'x', 'closes_at': at(60), 'questions': good * 51},
                 {'title': 'x', 'closes_at': at(60), 'questions': [{'text': 'q', 'kind': 'essay'}]},
                 {'title': 'x', 'closes_at': at(60),
                  'questions': [{'text': 'q', 'kind': 'choice', 'options': ['only']}]},
                 {'title': 'x', 'closes_at': at(60),
                  'questions': [{'text': 'q', 'kind': 'choice', 'options': ['a', 'a']}]},
                 {'title': 'x', 'closes_at': at(60),
                  'questions': [{'text': 'q', 'kind': 'scale', 'options': ['a', 'b']}]},
                 {'title': 'x', 'closes_at': at(60), 'questions': good, 'kind': 'poll'}):
        status, reply, _ = h.request('POST', '/v1/surveys', body)
        assert status == 400, (body, reply)
    assert h.request('GET', '/v1/surveys/v999999')[0] == 404
    assert h.request('GET', '/v1/surveys/v999999/results')[0] == 404
    assert h.request('POST', '/v1/surveys/v999999/responses',
                     {'household_id': 'h1', 'answers': []})[0] == 404
    s = h.call('POST', '/v1/surveys', {'title': 'x', 'closes_at': at(60), 'questions': good},
               expect=201)
    assert h.request('POST', '/v1/surveys/v999999/close', {})[0] == 404
    panel = h.make_token('panel')
    mt = h.make_token('merchant', merchant_id=merchant(h))
    for token in (panel, mt):
        assert h.request('POST', '/v1/surveys', {'title': 'x', 'closes_at': at(60),
                                                 'questions': good}, token=token)[0] == 403
        assert h.request('GET', '/v1/surveys/%s/results' % s['id'], token=token)[0] == 403
        assert h.request('POST', '/v1/surveys/%s/responses' % s['id'],
                         {'household_id': 'h1', 'answers': [{'scale': 3}]},
                         token=token)[0] == 403
        assert h.request('GET', '/v1/surveys', token=token)[0] == 403
        assert h.request('GET', '/v1/surveys/' + s['id'], token=token)[0] == 403
        assert h.request('POST', '/v1/surveys/%s/close' % s['id'], {}, token=token)[0] == 403
    # The office closes a survey early: results are published at once.
    h.call('POST', '/v1/surveys/%s/responses' % s['id'],
           {'household_id': 'h1', 'answers': [{'scale': 4}]}, expect=201)
    assert h.request('GET', '/v1/surveys/%s/results' % s['id'])[0] == 409
    closed = h.call('POST', '/v1/surveys/%s/close' % s['id'], {})
    assert closed['state'] == 'closed', closed
    assert h.request('POST', '/v1/surveys/%s/close' % s['id'], {})[0] == 409
    assert h.request('POST', '/v1/surveys/%s/responses' % s['id'],
                     {'household_id': 'h2', 'answers': [{'scale': 4}]})[0] == 409
    res = h.call('GET', '/v1/surveys/%s/results' % s['id'])
    assert res['responses'] == 1 and res['satisfaction_percent'] == 100, res
    # A survey filed already closed: no responses, results at once.
    past = h.call('POST', '/v1/surveys', {'title': 'paper', 'closes_at': at(-60),
                                          'questions': good}, expect=201)
    assert past['state'] == 'closed', past
    assert h.request('POST', '/v1/surveys/%s/responses' % past['id'],
                     {'household_id': 'h1', 'answers': [{'scale': 4}]})[0] == 409
    res = h.call('GET', '/v1/surveys/%s/results' % past['id'])
    assert res['responses'] == 0 and res['satisfaction_percent'] == 0, res


def test_restart_keeps_everything(h):
    before = fund(h)
    p = proposal(h)
    h.restart('proposals')
    h.wait_healthy()
    assert h.call('GET', '/v1/proposals/' + p['id'])['title'] == p['title']
    after = fund(h)
    assert after == before
    audit(after)


def test_demo_refused_on_data(h):
    """tashanctl demo seeds only empty stores: on this system, which holds
    proposals (and more), it refuses and changes nothing. What the demo
    makes of the proposals year: tests/integration/test_demo_year.py."""
    before = fund(h)
    run = h.tashanctl('demo')
    assert run.returncode == 1, (run.returncode, run.stdout, run.stderr)
    assert 'the proposals store holds data' in run.stderr, run.stderr
    assert fund(h) == before


if __name__ == '__main__':
    harness.main(globals())
