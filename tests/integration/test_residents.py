"""test_residents - the residents daemon through the gateway: compounds,
buildings, household files (SPEC section 4), persons, versions, the read
audit, masked phones, needs, resources, ranking, booking, the batch match;
bad input of every kind gets a 4xx and writes nothing; a kill -9 of the
daemon loses no acknowledged write.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_residents.py
"""

import itertools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

_seq = itertools.count(1)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
HOUSEHOLD_KEYS = {'id', 'building', 'building_id', 'compound', 'unit', 'room',
                  'grid', 'members', 'needs', 'archived', 'archived_reason',
                  'version', 'created_ms', 'updated_ms'}
MEMBER_KEYS = {'id', 'household_id', 'name', 'birth_year', 'tags',
               'school_id', 'pupil_no', 'phone', 'has_id_number', 'skills',
               'credit_consent', 'archived', 'archived_reason', 'created_ms',
               'updated_ms', 'consent_by', 'consent_recorded_ms'}


def unique(prefix):
    return '%s%d-%d' % (prefix, os.getpid(), next(_seq))


def id_number(n):
    """A valid GB 11643 number, different for each n."""
    body = '371002%04d0101%03d' % (1950 + n // 1000 % 60, n % 1000)
    total = sum(int(c) * w for c, w in zip(body, WEIGHTS))
    return body + '10X98765432'[total % 11]


_ids = itertools.count((os.getpid() % 50) * 1000)


def fresh_id():
    return id_number(next(_ids))


def error_code(body):
    assert isinstance(body, dict) and 'error' in body, body
    return body['error']['code']


def building(h, grid='G1', **extra):
    body = {'number': unique('B'), 'grid': grid}
    body.update(extra)
    return h.call('POST', '/v1/buildings', body, expect=201)


def household(h, number, members=None, room='101'):
    if members is None:
        members = [{'name': '王伟', 'birth_year': 1980}]
    return h.call('POST', '/v1/households',
                  {'building': number, 'room': room, 'members': members},
                  expect=201)


def household_count(h, number):
    body = h.call('GET', '/v1/households?building=%s&include_archived=true'
                  % number)
    return len(body['households'])


# ----------------------------------------------------------------------
#  Layout


def test_buildings_contract(h):
    number = unique('B')
    b = h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G3'},
               expect=201)
    assert b['id'].startswith('b') and b['number'] == number, b
    assert b['grid'] == 'G3' and b['compound'] == '', b
    status, body, _ = h.request('POST', '/v1/buildings',
                                {'number': number, 'grid': 'G1'})
    assert status == 409, (status, body)
    assert error_code(body) == 'conflict', body
    got = h.call('GET', '/v1/buildings/' + b['id'])
    assert got == b, (got, b)
    h.call('GET', '/v1/buildings/b999999', expect=404)
    patched = h.call('PATCH', '/v1/buildings/' + b['id'], {'grid': 'G4'})
    assert patched['grid'] == 'G4' and patched['number'] == number, patched


def test_buildings_bad_input_writes_nothing(h):
    before = h.call('GET', '/v1/buildings?page_size=1000&include_archived=true')
    for body in ({'grid': 'G1'},                               # missing number
                 {'number': unique('B')},                      # missing grid
                 {'number': 12, 'grid': 'G1'},                 # wrong type
                 {'number': 'x' * 33, 'grid': 'G1'},           # too long
                 {'number': unique('B'), 'grid': 'G1', 'colour': 'red'},
                 {'number': unique('B'), 'grid': 'G1', 'compound': 'c999999'},
                 {'number': unique('B'), 'grid': 'G1',
                  'head_person_id': 'p999999'}):
        status, resp, _ = h.request('POST', '/v1/buildings', body)
        assert 400 <= status < 500, (body, status, resp)
        assert 'error' in resp, resp
    status, resp, _ = h.request('POST', '/v1/buildings', raw_body='{"number":')
    assert status == 400, (status, resp)
    after = h.call('GET', '/v1/buildings?page_size=1000&include_archived=true')
    assert len(after['buildings']) == len(before['buildings'])


def test_compounds_crud_and_archive(h):
    name = unique('园')
    c = h.call('POST', '/v1/compounds', {'name': name, 'kind': 'closed'},
               expect=201)
    assert c['id'].startswith('c') and c['kind'] == 'closed', c
    h.call('POST', '/v1/compounds', {'name': name, 'kind': 'open'}, expect=409)
    h.call('POST', '/v1/compounds', {'name': unique('园'), 'kind': 'gated'},
           expect=400)
    assert h.call('GET', '/v1/compounds/' + c['id'])['name'] == name
    c2 = h.call('PATCH', '/v1/compounds/' + c['id'], {'kind': 'open'})
    assert c2['kind'] == 'open' and c2['name'] == name, c2
    b = building(h, compound=c['id'])
    assert b['compound'] == c['id'], b
    h.call('POST', '/v1/compounds/%s/archive' % c['id'], {}, expect=409)
    h.call('POST', '/v1/buildings/%s/archive' % b['id'], {'reason': 'demolished'})
    archived = h.call('POST', '/v1/compounds/%s/archive' % c['id'], {})
    assert archived['archived'] is True, archived
    listed = h.call('GET', '/v1/compounds?page_size=1000')['compounds']
    assert c['id'] not in [x['id'] for x in listed]
    listed = h.call('GET', '/v1/compounds?page_size=1000&include_archived=true')
    assert c['id'] in [x['id'] for x in listed['compounds']]


def test_lists_are_paged(h):
    grid = unique('G')
    for _ in range(3):
        building(h, grid=grid)
    page = h.call('GET', '/v1/buildings?grid=%s&page_size=2' % grid)
    assert len(page['buildings']) == 2 and page['next_page_token'], page
    rest = h.call('GET', '/v1/buildings?grid=%s&page_size=2&page_token=%s'
                  % (grid, page['next_page_token']))
    assert len(rest['buildings']) == 1 and rest['next_page_token'] == '', rest
    h.call('GET', '/v1/buildings?page_size=1001', expect=400)
    h.call('GET', '/v1/buildings?page_token=nothex', expect=400)


# ----------------------------------------------------------------------
#  Household files


def test_household_contract(h):
    b = building(h, grid='G3')
    number = b['number']
    secret = fresh_id()
    hh = h.call('POST', '/v1/households', {
        'building': number, 'room': '301',
        'members': [
            {'name': '王秀英', 'birth_year': 1950,
             'tags': ['elderly', 'party_member'], 'id_number': secret,
             'phone': '13812341234'},
            {'name': '王子涵', 'birth_year': 2015, 'tags': ['pupil'],
             'school_id': 'S1', 'pupil_no': unique('P')}]}, expect=201)
    assert set(hh) == HOUSEHOLD_KEYS, sorted(hh)
    assert hh['id'].startswith('h') and hh['building'] == number, hh
    assert hh['grid'] == 'G3' and hh['room'] == '301' and hh['version'] == 1
    assert len(hh['members']) == 2
    for m in hh['members']:
        assert set(m) == MEMBER_KEYS, sorted(m)
        assert m['id'].startswith('p'), m
    assert hh['members'][0]['has_id_number'] is True
    assert hh['members'][0]['tags'] == ['elderly', 'party_member']
    got = h.call('GET', '/v1/households/' + hh['id'])
    assert got['members'][0]['phone'] == '13812341234', got   # ops sees it
    assert [m['id'] for m in got['members']] == [m['id'] for m in hh['members']]
    # The raw ID number never comes back from any call.
    for path in ('/v1/households/' + hh['id'],
                 '/v1/households/%s/history' % hh['id'],
                 '/v1/persons/' + hh['members'][0]['id']):
        status, _, raw = h.request('GET', path)
        assert status == 200
    for path in ('/v1/households/' + hh['id'],
                 '/v1/households/%s/history' % hh['id']):
        text = str(h.call('GET', path))
        assert secret not in text and secret[6:14] not in text, path
    h.call('GET', '/v1/households/h999999', expect=404)
    h.call('GET', '/v1/households/nonsense', expect=404)


def test_household_bad_input_writes_nothing(h):
    number = building(h)['number']
    good = {'name': '李娜', 'birth_year': 1985}
    bad_check = fresh_id()
    bad_check = bad_check[:17] + ('0' if bad_check[17] != '0' else '1')
    cases = [
        ({'room': '1', 'members': [good]}, 400),                   # no building
        ({'building': number, 'members': [good]}, 400),            # no room
        ({'building': unique('nope'), 'room': '1', 'members': [good]}, (404, 422)),
        ({'building': number, 'room': '1', 'members': [{'birth_year': 1980}]}, 400),
        ({'building': number, 'room': '1',
          'members': [{'name': 'x' * 65}]}, 400),                  # name too long
        ({'building': number, 'room': 'r' * 1001, 'members': [good]}, 400),
        ({'building': number, 'room': '1',
          'members': [{'name': 'a', 'birth_year': 'old'}]}, 400),  # wrong type
        ({'building': number, 'room': '1', 'members': 'everyone'}, 400),
        ({'building': number, 'room': '1',
          'members': [{'name': 'a', 'id_number': bad_check}]}, 400),
        ({'building': number, 'room': '1',
          'members': [{'name': 'a', 'id_number': '12345'}]}, 400),
        ({'building': number, 'room': '1',
          'members': [{'name': 'a', 'tags': ['vip']}]}, 400),
        ({'building': number, 'room': '1',
          'members': [{'name': 'a', 'tags': ['pupil']}]}, 400),    # no school
        ({'building': number, 'room': '1',
          'members': [{'name': 'a', 'phone': 'call me'}]}, 400),
        ({'building': number, 'room': '1', 'members': [good],
          'pets': 2}, 400),                                        # unknown field
        ({'building': number, 'room': '1',
          'members': [good] * 51}, 400),                           # too many
    ]
    for body, expect in cases:
        allowed = expect if isinstance(expect, tuple) else (expect,)
        status, resp, _ = h.request('POST', '/v1/households', body)
        assert status in allowed, (body if len(str(body)) < 300 else '…',
                                   status, resp)
        assert 'error' in resp and resp['error']['message'], resp
    assert household_count(h, number) == 0


def test_duplicate_id_number_conflicts(h):
    number = building(h)['number']
    same = fresh_id()
    first = household(h, number, [{'name': '王伟', 'id_number': same}])
    status, body, _ = h.request('POST', '/v1/households', {
        'building': number, 'room': '202',
        'members': [{'name': '冒名', 'id_number': same}]})
    assert status == 409 and error_code(body) == 'conflict', (status, body)
    lower = fresh_id()
    if lower.endswith('X'):
        twice = [{'name': 'a', 'id_number': lower},
                 {'name': 'b', 'id_number': lower[:17] + 'x'}]
    else:
        twice = [{'name': 'a', 'id_number': lower},
                 {'name': 'b', 'id_number': lower}]
    status, body, _ = h.request('POST', '/v1/households', {
        'building': number, 'room': '203', 'members': twice})
    assert status == 409, (status, body)
    assert household_count(h, number) == 1
    # Free again once the holder is archived.
    pid = first['members'][0]['id']
    h.call('POST', '/v1/persons/%s/archive' % pid, {'reason': 'moved away'})
    household(h, number, [{'name': '王伟', 'id_number': same}], room='204')


def test_pupil_numbers_unique_per_school(h):
    number = building(h)['number']
    no = unique('P')
    pupil = {'name': '小明', 'birth_year': 2014, 'tags': ['pupil'],
             'school_id': 'S1', 'pupil_no': no}
    household(h, number, [pupil])
    status, body, _ = h.request('POST', '/v1/households', {
        'building': number, 'room': '102', 'members': [pupil]})
    assert status == 409, (status, body)
    pupil = dict(pupil, school_id='S2')
    household(h, number, [pupil], room='103')


def test_phones_masked_and_reads_audited(h):
    number = building(h)['number']
    hh = household(h, number, [{'name': '赵敏', 'phone': '13912345678'}])
    pid = hh['members'][0]['id']
    assert h.call('GET', '/v1/persons/' + pid)['phone'] == '13912345678'
    for role, extra in (('panel', {}), ('school', {'school_id': 'S1'})):
        token = h.make_token(role, **extra)
        status, body, _ = h.request('GET', '/v1/households/' + hh['id'],
                                    token=token)
        assert status == 403, (role, status, body)
    status, _, _ = h.request('GET', '/v1/households/' + hh['id'], token=None)
    assert status == 401
    h.call('GET', '/v1/households/' + hh['id'])
    h.call('GET', '/v1/households/%s/history' % hh['id'])
    audit = h.call('GET', '/v1/households/%s/audit' % hh['id'])
    actions = [e['action'] for e in audit['entries']]
    assert actions == ['read_person', 'read', 'history'], audit
    assert all(e['role'] == 'ops' and e['at_ms'] for e in audit['entries'])
    panel = h.make_token('panel')
    status, _, _ = h.request('GET', '/v1/households/%s/audit' % hh['id'],
                             token=panel)
    assert status == 403


def test_history_members_and_moves(h):
    b1, b2 = building(h, grid='G1'), building(h, grid='G2')
    a = household(h, b1['number'])
    b = household(h, b2['number'], [{'name': '李娜'}])
    added = h.call('POST', '/v1/households/%s/members' % a['id'],
                   {'name': '王小明', 'birth_year': 2016, 'tags': ['pupil'],
                    'school_id': 'S2', 'pupil_no': unique('P')}, expect=201)
    assert added['household_id'] == a['id'], added
    replaced = h.call('PUT', '/v1/persons/' + added['id'],
                      {'name': '王晓明', 'birth_year': 2016, 'tags': ['pupil'],
                       'school_id': 'S2', 'pupil_no': added['pupil_no']})
    assert replaced['name'] == '王晓明', replaced
    h.call('PUT', '/v1/persons/' + added['id'], {'name': ''}, expect=400)
    moved = h.call('POST', '/v1/persons/%s/move' % added['id'],
                   {'household_id': b['id']})
    assert moved['household_id'] == b['id'], moved
    h.call('POST', '/v1/persons/%s/move' % added['id'],
           {'household_id': b['id']}, expect=409)
    h.call('POST', '/v1/persons/%s/move' % added['id'],
           {'household_id': 'h999999'}, expect=(404, 422))
    h.call('POST', '/v1/persons/%s/move' % added['id'], {}, expect=400)
    hist = h.call('GET', '/v1/households/%s/history' % a['id'])
    actions = [v['action'] for v in hist['versions']]
    assert actions == ['household.created', 'person.added', 'person.updated',
                       'person.moved_out'], actions
    assert [v['version'] for v in hist['versions']] == [1, 2, 3, 4]
    assert all(v['by_role'] == 'ops' and v['at_ms'] for v in hist['versions'])
    assert len(hist['versions'][2]['household']['members']) == 2
    assert len(hist['versions'][3]['household']['members']) == 1
    page = h.call('GET', '/v1/households/%s/history?page_size=3' % a['id'])
    assert len(page['versions']) == 3 and page['next_page_token'], page
    dest = h.call('GET', '/v1/households/' + b['id'])
    assert [m['name'] for m in dest['members']] == ['李娜', '王晓明'], dest


def test_household_update_and_move_out(h):
    number = building(h, grid='G1')['number']
    hh = household(h, number, [{'name': '甲'}, {'name': '乙'}])
    updated = h.call('PATCH', '/v1/households/' + hh['id'],
                     {'unit': '2', 'grid': 'G7'})
    assert updated['unit'] == '2' and updated['grid'] == 'G7', updated
    need = h.call('POST', '/v1/needs', {'household_id': hh['id'],
                                        'category': 'repair', 'urgency': 2},
                  expect=201)
    out = h.call('POST', '/v1/households/%s/move-out' % hh['id'],
                 {'reason': 'sold the flat'})
    assert out['archived'] is True and out['archived_reason'] == 'sold the flat'
    assert all(m['archived'] for m in out['members']), out
    assert h.call('GET', '/v1/needs/' + need['id'])['status'] == 'closed'
    h.call('POST', '/v1/households/%s/move-out' % hh['id'], {}, expect=409)
    h.call('POST', '/v1/households/%s/members' % hh['id'], {'name': '丙'},
           expect=409)
    still = h.call('GET', '/v1/households/' + hh['id'])
    assert still['archived'] is True and len(still['members']) == 2


# ----------------------------------------------------------------------
#  Needs, resources, matching


def test_needs_resources_match_and_assign(h):
    grid = unique('G')
    near, mid, far = (building(h, grid=grid), building(h, grid=grid),
                      building(h, grid=unique('G')))
    needy = household(h, near['number'], [{'name': '独居老人', 'birth_year': 1940,
                                           'tags': ['elderly_alone']}])
    same_b = household(h, near['number'], [{'name': '邻居'}], room='102')
    same_g = household(h, mid['number'], [{'name': '网格员'}])
    other = household(h, far['number'], [{'name': '远亲'}])
    category = 'companionship'
    r_far = h.call('POST', '/v1/resources', {
        'provider_kind': 'volunteer', 'provider_id': other['members'][0]['id'],
        'title': '陪伴聊天', 'category': category, 'capacity_per_week': 9},
        expect=201)
    r_mid = h.call('POST', '/v1/resources', {
        'provider_kind': 'resident', 'provider_id': same_g['members'][0]['id'],
        'title': '陪伴聊天', 'category': category, 'capacity_per_week': 2},
        expect=201)
    r_near = h.call('POST', '/v1/resources', {
        'provider_kind': 'resident', 'provider_id': same_b['members'][0]['id'],
        'title': '陪伴聊天', 'category': category, 'capacity_per_week': 1},
        expect=201)
    assert r_near['building'] == near['number'] and r_near['capacity_left'] == 1
    for body in ({'provider_kind': 'resident', 'provider_id': 'p999999',
                  'title': 't', 'category': category, 'capacity_per_week': 1},
                 {'provider_kind': 'resident',
                  'provider_id': same_b['members'][0]['id'], 'title': 't',
                  'category': 'astrology', 'capacity_per_week': 1},
                 {'provider_kind': 'resident',
                  'provider_id': same_b['members'][0]['id'], 'title': 't',
                  'category': 'repair', 'capacity_per_week': 0},
                 {'provider_kind': 'merchant', 'provider_id': 'm999999',
                  'title': 't', 'category': 'repair', 'capacity_per_week': 1}):
        status, resp, _ = h.request('POST', '/v1/resources', body)
        assert 400 <= status < 500, (body, status, resp)
    need = h.call('POST', '/v1/needs', {
        'household_id': needy['id'], 'person_id': needy['members'][0]['id'],
        'category': category, 'detail': '希望有人常来看看', 'urgency': 3},
        expect=201)
    assert need['status'] == 'open' and need['building'] == near['number']
    for body in ({'household_id': needy['id'], 'category': category},
                 {'household_id': needy['id'], 'category': category,
                  'urgency': 5},
                 {'household_id': 'h999999', 'category': category,
                  'urgency': 1},
                 {'household_id': needy['id'], 'category': category,
                  'urgency': 1, 'detail': 'd' * 1001}):
        status, resp, _ = h.request('POST', '/v1/needs', body)
        assert 400 <= status < 500, (body, status, resp)
    matches = h.call('GET', '/v1/needs/%s/matches' % need['id'])
    ranked = [(m['resource_id'], m['distance']) for m in matches['matches']]
    assert ranked[:3] == [(r_near['id'], 'same_building'),
                          (r_mid['id'], 'same_grid'),
                          (r_far['id'], 'community')], ranked
    assert all(m['reason'] for m in matches['matches'])
    booked = h.call('POST', '/v1/needs/%s/assign' % need['id'],
                    {'resource_id': r_near['id']})
    assert booked['need']['status'] == 'matched'
    assert booked['resource']['capacity_left'] == 0
    second = h.call('POST', '/v1/needs', {
        'household_id': needy['id'], 'category': category, 'urgency': 1},
        expect=201)
    status, body, _ = h.request('POST', '/v1/needs/%s/assign' % second['id'],
                                {'resource_id': r_near['id']})
    assert status == 409, (status, body)
    auto = h.call('POST', '/v1/needs/%s/assign' % second['id'], {})
    assert auto['need']['resource_id'] == r_mid['id'], auto
    served = h.call('POST', '/v1/needs/%s/status' % need['id'],
                    {'status': 'served', 'note': '已上门'})
    assert served['status'] == 'served'
    h.call('POST', '/v1/needs/%s/status' % need['id'], {'status': 'open'},
           expect=400)
    listed = h.call('GET', '/v1/needs?household_id=%s&page_size=1000'
                    % needy['id'])
    assert len(listed['needs']) == 2
    res = h.call('GET', '/v1/resources?provider_id=%s'
                 % same_b['members'][0]['id'])
    assert [r['id'] for r in res['resources']] == [r_near['id']]
    gone = h.call('POST', '/v1/resources/%s/archive' % r_far['id'], {})
    assert gone['archived'] is True
    assert h.call('GET', '/v1/resources/' + r_far['id'])['archived'] is True


def test_match_all_route(h):
    body = h.call('POST', '/v1/needs/match-all', {'sample_size': 5})
    assert body['matched'] + body['unmatched'] == body['open_needs'], body
    assert body['assigned'] is False
    panel = h.make_token('panel')
    status, _, _ = h.request('POST', '/v1/needs/match-all', {}, token=panel)
    assert status == 403


# ----------------------------------------------------------------------
#  Restart


def test_kill9_keeps_acknowledged_writes(h):
    number = building(h)['number']
    numbers = [fresh_id() for _ in range(20)]
    made = [household(h, number, [{'name': '住户%d' % i, 'id_number': n}],
                      room=str(100 + i))
            for i, n in enumerate(numbers)]
    h.kill('residents')
    status, body, _ = h.request('GET', '/v1/households/' + made[0]['id'])
    assert status == 503, (status, body)
    h.start('residents')
    h.wait_healthy()
    for hh in made:
        got = h.call('GET', '/v1/households/' + hh['id'])
        assert got['members'][0]['name'] == hh['members'][0]['name']
        assert got['members'][0]['has_id_number'] is True
    # The ID-number key survived too: the same number is still refused.
    status, body, _ = h.request('POST', '/v1/households', {
        'building': number, 'room': '999',
        'members': [{'name': '冒名', 'id_number': numbers[7]}]})
    assert status == 409, (status, body)
    assert household_count(h, number) == 20


def test_credit_consent_recorded_with_who_and_when(h):
    number = unique('cs')
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G2'}, expect=201)
    hh = h.call('POST', '/v1/households', {
        'building': number, 'room': '101',
        'members': [{'name': 'Adult', 'birth_year': 1980},
                    {'name': 'Child', 'birth_year': 2016},
                    {'name': 'Named', 'birth_year': 2015, 'consent_by': '母亲 李芳'}]},
        expect=201)
    adult, child, named = hh['members']
    assert adult['consent_by'] == 'self' and adult['credit_consent'] is True, adult
    assert child['consent_by'] == 'guardian', child
    assert named['consent_by'] == '母亲 李芳', named
    assert adult['consent_recorded_ms'] > 0
    # Withdrawing consent is recorded again, with a new time; the ledger
    # learns it through the person event and stops scoring.
    body = dict(name='Adult', birth_year=1980, credit_opt_out=True)
    time.sleep(0.01)
    after = h.call('PUT', '/v1/persons/' + adult['id'], body)
    assert after['credit_consent'] is False and after['consent_by'] == 'self', after
    assert after['consent_recorded_ms'] > adult['consent_recorded_ms'], after
    deadline = time.time() + 10
    while time.time() < deadline:
        consent = h.call('GET', '/v1/credit/persons/%s/consent' % adult['id'], expect=(200, 404))
        if isinstance(consent, dict) and consent.get('credit_consent') is False:
            break
        time.sleep(0.05)
    assert consent['credit_consent'] is False, consent
    assert consent['consent_by'] == 'self' and consent['recorded_by'].endswith('(residents)'), consent
    assert consent['recorded_by'] != 'community office (residents)', consent
    status, body, _ = h.request('POST', '/v1/households', {
        'building': number, 'room': '102',
        'members': [{'name': 'X', 'birth_year': 1990, 'consent_by': 'x' * 65}]})
    assert status == 400 and 'consent_by' in body['error']['message'], body


if __name__ == '__main__':
    harness.main(globals())
