"""test_volunteers - the volunteers daemon keeps the community's persons
and open needs from the residents daemon's events (exactly once, also
across a kill -9 of either side).

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_volunteers.py
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def wait_for(h, path, check, timeout_s=10):
    deadline = time.time() + timeout_s
    while True:
        status, body, _ = h.request('GET', path)
        if (status == 200 and check(body)) or time.time() > deadline:
            return status, body
        time.sleep(0.05)


def household(h, number):
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G7'}, expect=201)
    hh = h.call('POST', '/v1/households', {'building': number, 'room': '201',
                                           'members': [{'name': 'Zhao Lei', 'birth_year': 1950,
                                                        'tags': ['elderly_alone']}]},
                expect=201)
    return hh['id'], hh['members'][0]['id']



#  Every test makes its own people in its own grid, so dispatch (same grid
#  first) stays within the test.
_counter = [0]


def people(h, grid, names):
    """A household of len(names) members in a new building of grid:
    (household id, [person ids]), each replicated to volunteers."""
    _counter[0] += 1
    number = 'v%d-%d' % (os.getpid(), _counter[0])
    h.call('POST', '/v1/buildings', {'number': number, 'grid': grid}, expect=201)
    hh = h.call('POST', '/v1/households', {
        'building': number, 'room': '101',
        'members': [{'name': n, 'birth_year': 1960, 'tags': []} for n in names]}, expect=201)
    pids = [m['id'] for m in hh['members']]
    for pid in pids:
        status, body = wait_for(h, '/v1/volunteers/persons/' + pid, lambda b: True)
        assert status == 200, body
    return hh['id'], pids


def volunteer(h, pid, skills, **extra):
    body = {'person_id': pid, 'skills': skills}
    body.update(extra)
    return h.call('POST', '/v1/volunteers', body, expect=201)


def order(h, requester, category, key, **extra):
    body = {'requester_person_id': requester, 'category': category, 'detail': 'help please',
            'idempotency_key': key}
    body.update(extra)
    return h.call('POST', '/v1/service-orders', body, expect=201)


def entries(h, pid, rule):
    page = h.call('GET', '/v1/credit/persons/%s/entries' % pid)
    return [e for e in page['entries'] if e['rule'] == rule]


def wait_entries(h, pid, rule, n, timeout_s=10):
    deadline = time.time() + timeout_s
    while True:
        got = entries(h, pid, rule)
        if len(got) >= n or time.time() > deadline:
            return got
        time.sleep(0.1)


def error(h, method, path, body, status, code=None, token=harness.OPS):
    got, parsed, _ = h.request(method, path, body, token=token)
    assert got == status, (method, path, body, got, parsed)
    assert 'error' in parsed and parsed['error']['message'], parsed
    if code:
        assert parsed['error']['code'] == code, parsed
    return parsed

def test_persons_and_needs_replicated(h):
    hid, pid = household(h, 'vol%d' % os.getpid())
    status, body = wait_for(h, '/v1/volunteers/persons/' + pid, lambda b: True)
    assert status == 200, body
    assert body['household_id'] == hid and body['grid'] == 'G7' and body['open_needs'] == 0
    need = h.call('POST', '/v1/needs', {'household_id': hid, 'person_id': pid,
                                        'category': 'elderly_care', 'detail': 'weekly visit',
                                        'urgency': 2}, expect=201)
    status, body = wait_for(h, '/v1/volunteers/persons/' + pid, lambda b: b['open_needs'] == 1)
    assert body['open_needs'] == 1, body
    h.call('POST', '/v1/needs/%s/status' % need['id'], {'status': 'closed'})
    status, body = wait_for(h, '/v1/volunteers/persons/' + pid, lambda b: b['open_needs'] == 0)
    assert body['open_needs'] == 0, body


def test_catches_up_after_kill9(h):
    h.kill('volunteers', signal.SIGKILL)
    hid, pid = household(h, 'vol2-%d' % os.getpid())
    h.call('POST', '/v1/needs', {'household_id': hid, 'person_id': pid,
                                 'category': 'elderly_care', 'detail': 'meals', 'urgency': 3},
           expect=201)
    h.start('volunteers')
    h.wait_healthy()
    status, body = wait_for(h, '/v1/volunteers/persons/' + pid, lambda b: b['open_needs'] == 1)
    assert status == 200 and body['open_needs'] == 1, body


def test_unknown_person_404_and_roles(h):
    status, body, _ = h.request('GET', '/v1/volunteers/persons/p999999999')
    assert status == 404 and body['error']['code'] == 'not_found', body
    panel = h.make_token('panel')
    status, body, _ = h.request('GET', '/v1/volunteers/persons/p1', token=panel)
    assert status == 403, body




def test_volunteers_and_circles(h):
    _, (a, b, c, d) = people(h, 'GV1', ['Li A', 'Li B', 'Li C', 'Li D'])
    va = volunteer(h, a, ['repair', 'elderly_care'], availability=['mon', 'sat'])
    assert va['person_id'] == a and va['skills'] == ['repair', 'elderly_care'], va
    assert va['grid'] == 'GV1' and va['circles'] == [] and va['max_open_orders'] == 3, va
    volunteer(h, b, ['tutoring'], grid='GV1b')
    error(h, 'POST', '/v1/volunteers', {'person_id': a, 'skills': ['repair']}, 409, 'conflict')
    error(h, 'POST', '/v1/volunteers', {'person_id': 'p999999', 'skills': ['repair']}, 422)
    error(h, 'POST', '/v1/volunteers', {'person_id': c, 'skills': ['juggling']}, 400)
    error(h, 'POST', '/v1/volunteers', {'person_id': c, 'skills': []}, 400)
    error(h, 'POST', '/v1/volunteers', {'person_id': c, 'skills': ['repair', 'repair']}, 400)
    error(h, 'POST', '/v1/volunteers', {'person_id': c, 'skills': ['repair'],
                                        'availability': ['someday']}, 400)
    error(h, 'POST', '/v1/volunteers', {'person_id': c, 'skills': 'repair'}, 400)
    error(h, 'POST', '/v1/volunteers', {'person_id': c, 'skills': ['repair'], 'bogus': 1}, 400)
    error(h, 'POST', '/v1/volunteers', {'person_id': 'x' * 65, 'skills': ['repair']}, 400)
    # circles
    circle = h.call('POST', '/v1/circles', {'name': '党员先锋圈 1', 'kind': 'party_pioneer',
                                            'leader_person_id': a}, expect=201)
    assert circle['id'].startswith('q') and circle['members'] == [a], circle
    assert circle['grid'] == 'GV1', circle
    error(h, 'POST', '/v1/circles', {'name': 'x', 'kind': 'party_pioneer',
                                     'leader_person_id': c}, 422)
    error(h, 'POST', '/v1/circles', {'name': 'x', 'kind': 'chess', 'leader_person_id': a}, 400)
    error(h, 'POST', '/v1/circles', {'name': 'x' * 65, 'kind': 'interest',
                                     'leader_person_id': a}, 400)
    member = h.call('POST', '/v1/circles/%s/members' % circle['id'], {'person_id': b},
                    expect=201)
    assert member['members'] == [a, b], member
    error(h, 'POST', '/v1/circles/%s/members' % circle['id'], {'person_id': b}, 409)
    error(h, 'POST', '/v1/circles/%s/members' % circle['id'], {'person_id': c}, 422)
    error(h, 'POST', '/v1/circles/q999999/members', {'person_id': b}, 404)
    error(h, 'POST', '/v1/circles/zz/members', {'person_id': b}, 404)
    moms = h.call('POST', '/v1/circles', {'name': '妈妈帮', 'kind': 'moms_help',
                                          'leader_person_id': b, 'grid': 'GV1'}, expect=201)
    got = h.call('GET', '/v1/volunteers/' + b)
    assert got['circles'] == [circle['id'], moms['id']], got
    assert set(got) >= {'person_id', 'skills', 'circles', 'total_minutes', 'month_minutes',
                        'orders_confirmed'}, got
    assert h.call('GET', '/v1/circles/' + circle['id'])['members'] == [a, b]
    error(h, 'GET', '/v1/circles/q999999', None, 404)
    kinds = h.call('GET', '/v1/circles?kind=moms_help')['circles']
    assert moms['id'] in [x['id'] for x in kinds] and all(x['kind'] == 'moms_help' for x in kinds)
    error(h, 'GET', '/v1/circles?kind=bogus', None, 400)
    # search by skill, grid, circle
    found = h.call('GET', '/v1/volunteers?skill=repair&grid=GV1')['volunteers']
    assert [v['person_id'] for v in found] == [a], found
    found = h.call('GET', '/v1/volunteers?circle_id=%s' % moms['id'])['volunteers']
    assert [v['person_id'] for v in found] == [b], found
    page = h.call('GET', '/v1/volunteers?page_size=1')
    assert len(page['volunteers']) == 1 and page['next_page_token'], page
    page2 = h.call('GET', '/v1/volunteers?page_size=1&page_token=' + page['next_page_token'])
    assert page2['volunteers'][0]['person_id'] != page['volunteers'][0]['person_id']
    error(h, 'GET', '/v1/volunteers?page_size=1001', None, 400)
    error(h, 'GET', '/v1/volunteers?page_token=nothex', None, 400)
    error(h, 'GET', '/v1/volunteers?skill=juggling', None, 400)
    error(h, 'GET', '/v1/volunteers/' + c, None, 404)


def test_posts_tailored_to_skills(h):
    _, (a, b) = people(h, 'GP1', ['Wang A', 'Wang B'])
    volunteer(h, a, ['tutoring', 'companionship'], availability=[])
    circle = h.call('POST', '/v1/circles', {'name': '兴趣圈', 'kind': 'interest',
                                            'leader_person_id': a}, expect=201)
    p1 = h.call('POST', '/v1/posts', {'title': '作业辅导', 'skill': 'tutoring',
                                      'circle_id': circle['id'], 'grid': 'GP1'}, expect=201)
    assert p1['id'].startswith('t'), p1
    p2 = h.call('POST', '/v1/posts', {'title': '陪伴聊天', 'skill': 'companionship',
                                      'circle_id': circle['id']}, expect=201)
    h.call('POST', '/v1/posts', {'title': '修水管', 'skill': 'repair',
                                 'circle_id': circle['id']}, expect=201)
    error(h, 'POST', '/v1/posts', {'title': 'x', 'skill': 'tutoring', 'circle_id': 'q999999'},
          422)
    error(h, 'POST', '/v1/posts', {'title': 'x', 'skill': 'dance', 'circle_id': circle['id']},
          400)
    error(h, 'POST', '/v1/posts', {'title': '', 'skill': 'tutoring',
                                   'circle_id': circle['id']}, 400)
    assert h.call('GET', '/v1/posts/' + p1['id'])['title'] == '作业辅导'
    error(h, 'GET', '/v1/posts/t999999', None, 404)
    listed = h.call('GET', '/v1/posts?circle_id=%s&skill=tutoring' % circle['id'])['posts']
    assert [p['id'] for p in listed] == [p1['id']], listed
    sugg = h.call('GET', '/v1/volunteers/%s/posts' % a)['suggestions']
    ids = [s['post']['id'] for s in sugg]
    assert ids[:2] == [p1['id'], p2['id']], sugg
    assert all(s['post']['skill'] in ('tutoring', 'companionship') for s in sugg), sugg
    assert 'same grid' in sugg[0]['reasons'] and sugg[0]['score'] > sugg[1]['score'], sugg
    error(h, 'GET', '/v1/volunteers/%s/posts' % b, None, 404)


def test_order_closed_loop(h):
    hid, (req, far, near) = people(h, 'GL1', ['Zhao R', 'Zhao F', 'Zhao N'])
    _, (other,) = people(h, 'GL1x', ['Qian O'])
    volunteer(h, other, ['cleaning'])               # other grid, no open orders
    volunteer(h, near, ['cleaning'])                # requester's grid
    need = h.call('POST', '/v1/needs', {'household_id': hid, 'person_id': req,
                                        'category': 'cleaning', 'detail': 'spring clean',
                                        'urgency': 2}, expect=201)
    wait_for(h, '/v1/volunteers/persons/' + req, lambda b: b['open_needs'] == 1)
    o = order(h, req, 'cleaning', 'loop-%d' % os.getpid(), need_id=need['id'])
    assert o['id'].startswith('o') and o['state'] == 'dispatched', o
    assert o['volunteer_person_id'] == near, o           # same grid first
    assert [e['kind'] for e in o['events']] == ['created', 'dispatched'], o
    assert all(e['at'] for e in o['events']), o
    # idempotent create
    status, again, _ = h.request('POST', '/v1/service-orders', {
        'requester_person_id': req, 'category': 'cleaning', 'detail': 'help please',
        'idempotency_key': 'loop-%d' % os.getpid(), 'need_id': need['id']})
    assert status == 200 and again == o, (status, again)
    oid = o['id']
    base = '/v1/service-orders/' + oid
    # illegal transitions: 409, no effect
    error(h, 'POST', base + '/done', {'minutes': 30}, 409, 'conflict')
    error(h, 'POST', base + '/confirm', {'rating': 5}, 409)
    error(h, 'POST', base + '/accept', {'volunteer_person_id': other}, 409)
    error(h, 'POST', base + '/decline', {'volunteer_person_id': other, 'reason': 'x'}, 409)
    error(h, 'POST', base + '/accept', {}, 400)
    error(h, 'POST', '/v1/service-orders/o999999/accept', {'volunteer_person_id': near}, 404)
    assert h.call('GET', base) == o
    acc = h.call('POST', base + '/accept', {'volunteer_person_id': near})
    assert acc['state'] == 'accepted' and acc['due_at'], acc
    error(h, 'POST', base + '/accept', {'volunteer_person_id': near}, 409)
    error(h, 'POST', base + '/confirm', {'rating': 5}, 409)
    error(h, 'POST', base + '/done', {'minutes': 0}, 400)
    error(h, 'POST', base + '/done', {'minutes': 1441}, 400)
    error(h, 'POST', base + '/done', {'minutes': 'ten'}, 400)
    done = h.call('POST', base + '/done', {'minutes': 90})
    assert done['state'] == 'done' and done['minutes'] == 90, done
    error(h, 'POST', base + '/done', {'minutes': 90}, 409)
    error(h, 'POST', base + '/confirm', {'rating': 6}, 400)
    error(h, 'POST', base + '/confirm', {'rating': 0}, 400)
    # nothing counted before the confirmation
    assert h.call('GET', '/v1/volunteers/' + near)['total_minutes'] == 0
    conf = h.call('POST', base + '/confirm', {'rating': 5, 'comment': '很好'})
    assert conf['state'] == 'confirmed' and conf['rating'] == 5, conf
    assert [e['state'] for e in conf['events']] == ['open', 'dispatched', 'accepted', 'done',
                                                   'confirmed'], conf
    for path, body in (('/confirm', {'rating': 5}), ('/done', {'minutes': 5}),
                       ('/accept', {'volunteer_person_id': near}),
                       ('/decline', {'volunteer_person_id': near, 'reason': 'x'})):
        error(h, 'POST', base + path, body, 409)
    vol = h.call('GET', '/v1/volunteers/' + near)
    assert vol['total_minutes'] == 90 and vol['month_minutes'] == 90, vol
    assert vol['orders_confirmed'] == 1, vol
    got = wait_entries(h, near, 'volunteer.hour', 1)
    assert len(got) == 1 and got[0]['points'] == 2 and got[0]['source'] == 'volunteers', got
    status, body = wait_for(h, '/v1/needs/' + need['id'], lambda b: b['status'] == 'served')
    assert body['status'] == 'served', body
    time.sleep(0.3)
    assert len(entries(h, near, 'volunteer.hour')) == 1
    listed = h.call('GET', '/v1/service-orders?state=confirmed&volunteer_person_id=' + near)
    assert [x['id'] for x in listed['orders']] == [oid], listed
    assert listed['next_page_token'] == ''
    error(h, 'GET', '/v1/service-orders?state=lost', None, 400)
    error(h, 'GET', '/v1/service-orders/o999999', None, 404)
    error(h, 'GET', '/v1/service-orders/p1', None, 404)
    # bad creates
    error(h, 'POST', '/v1/service-orders', {'requester_person_id': req, 'category': 'cleaning',
                                            'detail': 'x'}, 400)           # no key
    error(h, 'POST', '/v1/service-orders', {'requester_person_id': req, 'category': 'magic',
                                            'detail': 'x', 'idempotency_key': 'b1'}, 400)
    error(h, 'POST', '/v1/service-orders', {'requester_person_id': 'p999999',
                                            'category': 'cleaning', 'detail': 'x',
                                            'idempotency_key': 'b2'}, 422)
    error(h, 'POST', '/v1/service-orders', {'requester_person_id': req, 'category': 'cleaning',
                                            'detail': 'x', 'need_id': need['id'],
                                            'idempotency_key': 'b3'}, 422)  # served now
    error(h, 'POST', '/v1/service-orders', {'requester_person_id': req, 'category': 'cleaning',
                                            'detail': 'x' * 1001, 'idempotency_key': 'b4'}, 400)


def test_decline_never_twice_and_open(h):
    _, (req, v1, v2) = people(h, 'GD1', ['Sun R', 'Sun 1', 'Sun 2'])
    volunteer(h, v1, ['haircut'])
    volunteer(h, v2, ['haircut'])
    o = order(h, req, 'haircut', 'decl-%d' % os.getpid())
    first = o['volunteer_person_id']
    assert o['state'] == 'dispatched' and first in (v1, v2), o
    second = v2 if first == v1 else v1
    base = '/v1/service-orders/' + o['id']
    error(h, 'POST', base + '/decline', {'volunteer_person_id': second, 'reason': 'x'}, 409)
    d1 = h.call('POST', base + '/decline', {'volunteer_person_id': first, 'reason': 'ill'})
    assert d1['state'] == 'dispatched' and d1['volunteer_person_id'] == second, d1
    assert d1['declined_by'] == [first], d1
    d2 = h.call('POST', base + '/decline', {'volunteer_person_id': second, 'reason': 'away'})
    assert d2['state'] == 'open' and d2['volunteer_person_id'] == '', d2
    assert [e['kind'] for e in d2['events']] == ['created', 'dispatched', 'declined',
                                                 'dispatched', 'declined'], d2
    # declined by both: the tick never gives it back to either
    time.sleep(1.5)
    assert h.call('GET', base)['state'] == 'open'
    error(h, 'POST', base + '/accept', {'volunteer_person_id': first}, 409)
    # nobody has the skill: open, no volunteer
    lonely = order(h, req, 'legal', 'legal-%d' % os.getpid())
    assert lonely['state'] == 'open' and lonely['volunteer_person_id'] == '', lonely
    assert [x['id'] for x in h.call('GET', '/v1/service-orders?state=open&page_size=1000')
            ['orders']].count(lonely['id']) == 1
    # a volunteer who joins later gets it from the tick
    _, (late,) = people(h, 'GD1', ['Sun L'])
    volunteer(h, late, ['legal'])
    status, body = wait_for(h, '/v1/service-orders/' + lonely['id'],
                            lambda b: b['state'] == 'dispatched')
    assert body['volunteer_person_id'] == late, body
    # fewest open orders first within the grid, limit respected
    _, (r2, w1, w2) = people(h, 'GD2', ['Zhou R', 'Zhou 1', 'Zhou 2'])
    volunteer(h, w1, ['shopping'], max_open_orders=1)
    volunteer(h, w2, ['shopping'], max_open_orders=1)
    got = [order(h, r2, 'shopping', 'shop-%d-%d' % (os.getpid(), i))['volunteer_person_id']
           for i in range(3)]
    assert sorted(got[:2]) == sorted([w1, w2]) and got[2] == '', got


def test_escalation(h):
    _, (req, leader, v) = people(h, 'GE1', ['Wu R', 'Wu L', 'Wu V'])
    volunteer(h, leader, ['other'])
    volunteer(h, v, ['transport'])
    circle = h.call('POST', '/v1/circles', {'name': '网格互助圈', 'kind': 'elderly_mutual_aid',
                                            'leader_person_id': leader}, expect=201)
    h.call('POST', '/v1/circles/%s/members' % circle['id'], {'person_id': v}, expect=201)
    defaults = h.call('GET', '/v1/volunteers/settings')
    assert defaults['accept_within_ms'] == '7200000' or defaults['accept_within_ms'] == 7200000
    error(h, 'PUT', '/v1/volunteers/settings', {'accept_within_ms': 5}, 400)
    h.call('PUT', '/v1/volunteers/settings', {'accept_within_ms': 1000,
                                              'escalate_again_ms': 1500})
    try:
        o = order(h, req, 'transport', 'esc-%d' % os.getpid())
        assert o['volunteer_person_id'] == v, o
        nobody = order(h, req, 'counselling', 'esc2-%d' % os.getpid())
        assert nobody['state'] == 'open', nobody
        late = order(h, req, 'transport', 'esc3-%d' % os.getpid(),
                     due_at=time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                          time.gmtime(time.time() + 2)))
        assert late['volunteer_person_id'] == v, late
        h.call('POST', '/v1/service-orders/%s/accept' % late['id'],
               {'volunteer_person_id': v})
        status, body = wait_for(h, '/v1/service-orders/' + o['id'],
                                lambda b: b['escalation_level'] == 2, timeout_s=15)
        notes = [e['note'] for e in body['events'] if e['kind'] == 'escalated']
        assert len(notes) == 2 and leader in notes[0] and 'ops' in notes[1], body
        assert body['escalated'] and body['escalated_to'] == 'ops', body
        status, body = wait_for(h, '/v1/service-orders/' + nobody['id'],
                                lambda b: b['escalated'])
        assert body['escalated_to'] == 'ops', body
        status, body = wait_for(h, '/v1/service-orders/' + late['id'],
                                lambda b: b['escalated'], timeout_s=15)
        assert body['state'] == 'accepted' and 'due' in body['events'][-1]['note'], body
        listed = [x['id'] for x in
                  h.call('GET', '/v1/service-orders?escalated=true&page_size=1000')['orders']]
        assert o['id'] in listed and nobody['id'] in listed and late['id'] in listed, listed
        assert all(x['escalated'] for x in
                   h.call('GET', '/v1/service-orders?escalated=true')['orders'])
        feed = h.call('GET', '/v1/notifications?person_id=' + leader)['notifications']
        assert any(n['kind'] == 'order_escalated' and n['ref'] == o['id'] for n in feed), feed
        feed = h.call('GET', '/v1/notifications?person_id=' + v)['notifications']
        assert any(n['kind'] == 'order_dispatched' for n in feed), feed
        since = feed[-1]['at']
        assert h.call('GET', '/v1/notifications?person_id=%s&since=%s'
                      % (v, since.replace('+', '%2B')))['notifications'] == []
        error(h, 'GET', '/v1/notifications?person_id=%s&since=yesterday' % v, None, 400)
        error(h, 'GET', '/v1/notifications', None, 400)
    finally:
        h.call('PUT', '/v1/volunteers/settings', {'accept_within_ms': 7200000,
                                                  'escalate_again_ms': 7200000})


def iso(t):
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t)) + '.%03dZ' % int(t * 1000 % 1000)


def test_projects_and_sessions(h):
    _, (lead, v, r1, r2) = people(h, 'GS1', ['Zheng L', 'Zheng V', 'Zheng 1', 'Zheng 2'])
    volunteer(h, lead, ['counselling'])
    volunteer(h, v, ['tutoring'])
    circle = h.call('POST', '/v1/circles', {'name': '板凳课堂', 'kind': 'party_pioneer',
                                            'leader_person_id': lead}, expect=201)
    vp = h.call('POST', '/v1/projects', {'name': '板凳课堂宣讲团', 'circle_id': circle['id'],
                                         'kind': 'volunteer'}, expect=201)
    pp = h.call('POST', '/v1/projects', {'name': '儿童艺点通', 'kind': 'programme'}, expect=201)
    assert vp['id'].startswith('j') and pp['kind'] == 'programme', (vp, pp)
    error(h, 'POST', '/v1/projects', {'name': 'x', 'kind': 'party'}, 400)
    error(h, 'POST', '/v1/projects', {'name': 'x', 'kind': 'volunteer', 'circle_id': 'q999999'},
          422)
    assert h.call('GET', '/v1/projects/' + vp['id'])['name'] == '板凳课堂宣讲团'
    error(h, 'GET', '/v1/projects/j999999', None, 404)
    assert pp['id'] in [p['id'] for p in h.call('GET', '/v1/projects?kind=programme')['projects']]
    start = time.time() + 3
    vs = h.call('POST', '/v1/projects/%s/sessions' % vp['id'],
                {'starts_at': iso(start), 'place': '社区会议室', 'capacity': 1}, expect=201)
    ps = h.call('POST', '/v1/projects/%s/sessions' % pp['id'],
                {'starts_at': iso(start), 'place': '睦邻空间', 'capacity': 2}, expect=201)
    # a session in 2 h and 2 s: its 2-hour reminder fires in 2 s
    soon = h.call('POST', '/v1/projects/%s/sessions' % pp['id'],
                  {'starts_at': iso(time.time() + 7202), 'place': '睦邻空间', 'capacity': 5},
                  expect=201)
    assert vs['id'].startswith('s') and vs['capacity'] == 1, vs
    error(h, 'POST', '/v1/projects/%s/sessions' % vp['id'],
          {'starts_at': 'tomorrow', 'place': 'x', 'capacity': 1}, 400)
    error(h, 'POST', '/v1/projects/%s/sessions' % vp['id'],
          {'starts_at': iso(start), 'place': 'x', 'capacity': 0}, 400)
    error(h, 'POST', '/v1/projects/j999999/sessions',
          {'starts_at': iso(start), 'place': 'x', 'capacity': 1}, 404)
    listed = h.call('GET', '/v1/projects/%s/sessions' % pp['id'])['sessions']
    assert [s['id'] for s in listed] == [ps['id'], soon['id']], listed
    # sign-ups
    error(h, 'POST', '/v1/sessions/%s/signups' % vs['id'], {'person_id': r1}, 422)
    h.call('POST', '/v1/sessions/%s/signups' % vs['id'], {'person_id': v}, expect=201)
    error(h, 'POST', '/v1/sessions/%s/signups' % vs['id'], {'person_id': v}, 409)
    error(h, 'POST', '/v1/sessions/%s/signups' % vs['id'], {'person_id': lead}, 409)  # full
    h.call('POST', '/v1/sessions/%s/signups' % ps['id'], {'person_id': r1}, expect=201)
    h.call('POST', '/v1/sessions/%s/signups' % soon['id'], {'person_id': r2}, expect=201)
    error(h, 'POST', '/v1/sessions/%s/signups' % ps['id'], {'person_id': 'p999999'}, 422)
    error(h, 'POST', '/v1/sessions/s999999/signups', {'person_id': r1}, 404)
    error(h, 'POST', '/v1/sessions/%s/attendance' % vs['id'], {'person_id': v, 'minutes': 60},
          409)                                          # not started
    got = h.call('GET', '/v1/sessions/' + vs['id'])
    assert got['signed_up'] == 1 and got['signups'][0]['person_id'] == v, got
    error(h, 'GET', '/v1/sessions/s999999', None, 404)
    time.sleep(max(0, start - time.time()) + 0.2)
    error(h, 'POST', '/v1/sessions/%s/signups' % ps['id'], {'person_id': r2}, 409)  # started
    a = h.call('POST', '/v1/sessions/%s/attendance' % vs['id'], {'person_id': v,
                                                                  'minutes': 150}, expect=201)
    assert a['status'] == 'attended' and a['minutes'] == 150, a
    error(h, 'POST', '/v1/sessions/%s/attendance' % vs['id'], {'person_id': v, 'minutes': 150},
          409)
    error(h, 'POST', '/v1/sessions/%s/attendance' % vs['id'], {'person_id': lead,
                                                                'minutes': 60}, 422)
    error(h, 'POST', '/v1/sessions/%s/attendance' % ps['id'], {'person_id': r1,
                                                                'minutes': 0}, 400)
    h.call('POST', '/v1/sessions/%s/attendance' % ps['id'], {'person_id': r1, 'minutes': 60},
           expect=201)
    got = wait_entries(h, v, 'volunteer.hour', 1)
    assert len(got) == 1 and got[0]['points'] == 3, got
    got = wait_entries(h, r1, 'programme.attended', 1)
    assert len(got) == 1 and got[0]['points'] >= 1, got
    vol = h.call('GET', '/v1/volunteers/' + v)
    assert vol['total_minutes'] == 150 and vol['orders_confirmed'] == 0, vol
    # the reminder of the session in two hours
    deadline = time.time() + 10
    while time.time() < deadline:
        feed = h.call('GET', '/v1/notifications?person_id=' + r2)['notifications']
        if feed:
            break
        time.sleep(0.2)
    assert feed and feed[0]['kind'] == 'session_reminder' and feed[0]['ref'] == soon['id'], feed


def test_self_reported_hours_and_month(h):
    _, (lead, v, stranger, req) = people(h, 'GH1', ['Feng L', 'Feng V', 'Feng S', 'Feng R'])
    volunteer(h, lead, ['medical'])
    volunteer(h, v, ['medical'])
    circle = h.call('POST', '/v1/circles', {'name': '健康圈', 'kind': 'interest',
                                            'leader_person_id': lead}, expect=201)
    h.call('POST', '/v1/circles/%s/members' % circle['id'], {'person_id': v}, expect=201)
    rep = h.call('POST', '/v1/hour-reports', {'person_id': v, 'minutes': 45, 'note': '量血压',
                                              'idempotency_key': 'hr-%d' % os.getpid()},
                 expect=201)
    assert rep['id'].startswith('w') and rep['status'] == 'pending', rep
    error(h, 'POST', '/v1/hour-reports', {'person_id': stranger, 'minutes': 45,
                                          'idempotency_key': 'hr2'}, 422)
    error(h, 'POST', '/v1/hour-reports', {'person_id': v, 'minutes': 0,
                                          'idempotency_key': 'hr3'}, 400)
    assert h.call('GET', '/v1/volunteers/' + v)['total_minutes'] == 0
    pending = h.call('GET', '/v1/hour-reports?status=pending&person_id=' + v)['reports']
    assert [r['id'] for r in pending] == [rep['id']], pending
    base = '/v1/hour-reports/%s/confirm' % rep['id']
    error(h, 'POST', base, {'confirmer_person_id': stranger}, 422)
    error(h, 'POST', base, {'confirmer_person_id': v}, 422)
    error(h, 'POST', '/v1/hour-reports/w999999/confirm', {'confirmer_person_id': lead}, 404)
    ok = h.call('POST', base, {'confirmer_person_id': lead})
    assert ok['status'] == 'confirmed' and ok['confirmed_by'] == lead, ok
    error(h, 'POST', base, {'confirmer_person_id': lead}, 409)
    assert h.call('GET', '/v1/volunteers/' + v)['total_minutes'] == 45
    assert h.call('GET', '/v1/volunteers/%s?month=2020-01' % v)['month_minutes'] == 0
    error(h, 'GET', '/v1/volunteers/%s?month=2020-1' % v, None, 400)
    got = wait_entries(h, v, 'volunteer.hour', 1)
    assert len(got) == 1 and got[0]['points'] == 1, got
    # a report on an order, confirmed by the resident served
    o = order(h, req, 'medical', 'med-%d' % os.getpid())
    server = o['volunteer_person_id']
    rep2 = h.call('POST', '/v1/hour-reports', {'person_id': server, 'minutes': 30,
                                               'order_id': o['id'],
                                               'idempotency_key': 'hr4-%d' % os.getpid()},
                  expect=201)
    h.call('POST', '/v1/hour-reports/%s/confirm' % rep2['id'], {'confirmer_person_id': req})
    # the month's hours
    month = time.strftime('%Y-%m', time.gmtime(time.time() + 8 * 3600))
    top = h.call('GET', '/v1/volunteer-hours?month=' + month + '&top=100')
    assert top['month'] == month, top
    mins = {r['person_id']: int(r['minutes']) for r in top['volunteers']}
    assert mins.get(v, 0) >= 45, top
    assert any(c['circle_id'] == circle['id'] and c['name'] == '健康圈' for c in top['circles'])
    circ = h.call('GET', '/v1/circles/' + circle['id'])
    assert int(circ['month_minutes']) >= 45 and int(circ['total_minutes']) >= 45, circ
    error(h, 'GET', '/v1/volunteer-hours?month=2026-13', None, 400)
    error(h, 'GET', '/v1/volunteer-hours?top=101', None, 400)
    assert h.call('GET', '/v1/volunteer-hours')['month'] == month


def test_other_roles_are_refused(h):
    tokens = [h.make_token('panel'), h.make_token('school', school_id=h.make_school()),
              h.make_token('merchant', merchant_id=h.make_merchant())]
    calls = [('GET', '/v1/volunteers'), ('POST', '/v1/volunteers'),
             ('GET', '/v1/volunteers/p1'), ('GET', '/v1/volunteers/p1/posts'),
             ('GET', '/v1/volunteers/settings'), ('PUT', '/v1/volunteers/settings'),
             ('POST', '/v1/circles'), ('GET', '/v1/circles'), ('GET', '/v1/circles/q1'),
             ('POST', '/v1/circles/q1/members'), ('POST', '/v1/posts'), ('GET', '/v1/posts'),
             ('GET', '/v1/posts/t1'), ('POST', '/v1/service-orders'),
             ('GET', '/v1/service-orders'), ('GET', '/v1/service-orders/o1'),
             ('POST', '/v1/service-orders/o1/accept'), ('POST', '/v1/service-orders/o1/decline'),
             ('POST', '/v1/service-orders/o1/done'), ('POST', '/v1/service-orders/o1/confirm'),
             ('POST', '/v1/projects'), ('GET', '/v1/projects'), ('GET', '/v1/projects/j1'),
             ('POST', '/v1/projects/j1/sessions'), ('GET', '/v1/projects/j1/sessions'),
             ('GET', '/v1/sessions/s1'), ('POST', '/v1/sessions/s1/signups'),
             ('POST', '/v1/sessions/s1/attendance'), ('POST', '/v1/hour-reports'),
             ('GET', '/v1/hour-reports'), ('POST', '/v1/hour-reports/w1/confirm'),
             ('GET', '/v1/volunteer-hours'), ('GET', '/v1/notifications?person_id=p1')]
    for method, path in calls:
        body = {} if method in ('POST', 'PUT') else None
        for token in tokens:
            status, parsed, _ = h.request(method, path, body, token=token)
            assert status == 403, (method, path, status, parsed)
        status, parsed, _ = h.request(method, path, body, token=None)
        assert status == 401, (method, path, status, parsed)
    error(h, 'POST', '/v1/circles', None, 400)
    status, parsed, _ = h.request('POST', '/v1/service-orders', raw_body='{"requester_person_id":')
    assert status == 400, parsed


def test_survives_restart(h):
    _, (req, v) = people(h, 'GR1', ['Jiang R', 'Jiang V'])
    volunteer(h, v, ['child_care'])
    o = order(h, req, 'child_care', 'rs-%d' % os.getpid())
    h.kill('volunteers', signal.SIGKILL)
    h.start('volunteers')
    h.wait_healthy()
    assert h.call('GET', '/v1/service-orders/' + o['id']) == o
    assert h.call('GET', '/v1/volunteers/' + v)['open_orders'] == 1


if __name__ == '__main__':
    harness.main(globals())
