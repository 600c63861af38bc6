"""test_privacy - personal data and enumeration (issue 14) and fair
rankings (issue 17), through the gateway against the real daemons:

- every human name or title field refuses blank, invisible-only,
  bidi-control, noncharacter, control-character and space-edged names
  (400, nothing created) and takes real Chinese names;
- a school gets byte-identical answers for an unknown pupil and another
  school's pupil (medals, credit reads, medal revocation);
- minors never appear by name on the honour board but to ops;
- the rankings list every building and household of the community, a
  net-negative one never among the honoured, and a closed month's
  rankings stay as published.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_privacy.py
"""

import http.client
import itertools
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

_seq = itertools.count(1)
EVENT_WAIT_S = 15           # residents' events reach the ledger within this

#  Each refused with 400 wherever a name or title is asked for.
BAD_NAMES = [
    '   ',                  # whitespace only
    '\u200b',               # zero-width space only
    '\u200b\u3000\u200b',   # invisible and ideographic space only
    '\u202e',               # right-to-left override
    'abc\u202egpj.exe',     # the override inside a name
    'a\u2066b\u2069',       # an isolate
    '\uffff',               # a noncharacter
    'a\ufdd0',              # a noncharacter
    '\n',
    '\t',
    'Li\nWei',
    'Li\tWei',
    'a\x7f',                # DEL
    'a\x85',                # C1 (NEL)
    ' 王芳',                # leading space: refused, not trimmed
    '王芳 ',
    '王芳\u3000',
]
GOOD_NAME = '欧阳娜娜'


def unique(prefix):
    return '%s%d-%d' % (prefix, os.getpid(), next(_seq))


def this_month():
    return time.strftime('%Y-%m', time.gmtime(time.time() + 8 * 3600))


def previous_month():
    year, month = map(int, this_month().split('-'))
    return '%04d-%02d' % (year - (month == 1), 12 if month == 1 else month - 1)


def building(h, number=None):
    number = number or unique('B')
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G1'}, expect=201)
    return number


def household(h, number, members):
    """A household in building number; returns (household id, member ids)
    once the ledger knows every member."""
    hh = h.call('POST', '/v1/households',
                {'building': number, 'room': unique('R'), 'members': members},
                expect=201)
    ids = [m['id'] for m in hh['members']]
    for pid in ids:
        wait_for(lambda pid=pid: h.request('GET', '/v1/credit/persons/' + pid)[0] == 200,
                 'the ledger never heard of ' + pid)
    return hh['id'], ids


def wait_for(check, what, timeout_s=EVENT_WAIT_S):
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def evaluate(h, token, person_id, rule, observed_on=None):
    body = {'person_id': person_id, 'rule': rule, 'note': 'seen',
            'idempotency_key': unique('k')}
    if observed_on:
        body['observed_on'] = observed_on
    return h.call('POST', '/v1/credit/evaluations', body, token=token, expect=201)


def all_rows(h, path, token=harness.OPS):
    """Every row of a ranking, over its pages."""
    rows, page_token = [], ''
    for _ in range(1000):
        sep = '&' if '?' in path else '?'
        page = h.call('GET', '%s%spage_size=1000&page_token=%s' % (path, sep, page_token),
                      token=token)
        rows += page['rows']
        page_token = page['next_page_token']
        if not page_token:
            return page, rows
    raise AssertionError('ranking pages never end')


# ---------------------------------------------------------------------- names

def _name_routes(h):
    """(description, method, path, body with the name given, name field in
    the error message) for every route that takes a human name or title."""
    number = building(h)
    return [
        ('member', 'POST', '/v1/households', lambda n: {
            'building': number, 'room': unique('R'),
            'members': [{'name': n, 'birth_year': 1980}]}, 'name'),
        ('guardian', 'POST', '/v1/households', lambda n: {
            'building': number, 'room': unique('R'),
            'members': [{'name': '王小雨', 'birth_year': 2015, 'consent_by': n}]},
         'consent_by'),
        ('compound', 'POST', '/v1/compounds', lambda n: {'name': n, 'kind': 'open'}, 'name'),
        ('merchant', 'POST', '/v1/merchants', lambda n: {
            'name': n, 'kind': 'individual', 'category': 'repair',
            'services': ['fix']}, 'name'),
        ('market', 'POST', '/v1/markets', lambda n: {
            'title': n, 'date': '2031-02-03', 'place': 'Square'}, 'title'),
        ('notice', 'POST', '/v1/notices', lambda n: {'title': n, 'body': 'Room 2'}, 'title'),
        ('circle', 'POST', '/v1/circles', lambda n: {
            'name': n, 'kind': 'interest', 'leader_person_id': 'p999999'}, 'name'),
        ('project', 'POST', '/v1/projects', lambda n: {'name': n, 'kind': 'programme'},
         'name'),
        ('post', 'POST', '/v1/posts', lambda n: {'title': n, 'skill': 'repair'}, 'title'),
        ('proposal', 'POST', '/v1/proposals', lambda n: {
            'proposer_person_id': 'p999999', 'title': n, 'detail': 'a park',
            'budget_cents': 100}, 'title'),
        ('problem', 'POST', '/v1/problems', lambda n: {
            'title': n, 'place': 'Yard', 'source': 'visit'}, 'title'),
        ('survey', 'POST', '/v1/surveys', lambda n: {
            'title': n, 'closes_at': '2031-01-01T00:00:00+08:00',
            'questions': [{'text': 'ok?', 'kind': 'yes_no'}]}, 'title'),
        ('resource', 'POST', '/v1/resources', lambda n: {
            'title': n, 'category': 'repair', 'provider_kind': 'resident',
            'provider_id': 'p999999'}, 'title'),
    ]


def test_names_refused_everywhere(h):
    for what, method, path, body, field in _name_routes(h):
        for bad in BAD_NAMES:
            status, reply, _ = h.request(method, path, body(bad))
            assert status == 400, (what, repr(bad), status, reply)
            message = reply['error']['message']
            assert field in message, (what, repr(bad), message)
        #  A real name passes the name check (the request may still fail
        #  for what it refers to, but never for the name).
        status, reply, _ = h.request(method, path, body(GOOD_NAME))
        if status >= 400:
            message = reply['error']['message']
            assert not message.startswith(field) and '.%s ' % field not in message, \
                (what, status, message)


def test_names_refused_change_nothing(h):
    number = building(h)
    before = h.call('GET', '/v1/households?building=' + number)
    for bad in BAD_NAMES:
        status, reply, _ = h.request('POST', '/v1/households', {
            'building': number, 'room': '101',
            'members': [{'name': '王芳', 'birth_year': 1980}, {'name': bad}]})
        assert status == 400, (repr(bad), reply)
    assert h.call('GET', '/v1/households?building=' + number) == before
    hh, _ = household(h, number, [{'name': '王芳', 'birth_year': 1980},
                                  {'name': '欧阳小明', 'birth_year': 2016}])
    file = h.call('GET', '/v1/households/' + hh)
    assert sorted(m['name'] for m in file['members']) == sorted(['王芳', '欧阳小明'])
    #  The update path takes the same rule.
    member = file['members'][0]['id']
    status, reply, _ = h.request('PUT', '/v1/persons/' + member, {'name': '\u202e'})
    assert status == 400, reply
    #  A medal label is a title too: the event is rejected, the batch stands.
    school = h.make_school(unique('S'))
    token = h.make_token('school', school_id=school)
    reply = h.call('POST', '/v1/school/medals', {'events': [
        {'event_id': unique('e'), 'pupil_no': 'x1', 'month': this_month(),
         'medal': '\u200b'}]}, token=token, expect=200)
    assert reply['accepted'] == 0 and 'medal' in reply['rejected'][0]['reason'], reply


# ---------------------------------------------------------------- schools

def raw(h, method, path, token, body=None):
    """status and the exact bytes of the answer's body."""
    url = urllib.parse.urlsplit(h.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        headers = {'Authorization': 'Bearer ' + token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_school_learns_nothing_of_other_pupils(h):
    """An unknown pupil and another school's pupil: the same status and
    the same bytes, on every school call that names a pupil."""
    s1, s2 = unique('S'), unique('S')
    theirs, nobody, mine = unique('P'), unique('P'), unique('P')
    number = building(h)
    household(h, number, [
        {'name': '林小雨', 'birth_year': 2015, 'school_id': s2, 'pupil_no': theirs,
         'tags': ['pupil']},
        {'name': '林小山', 'birth_year': 2016, 'school_id': s1, 'pupil_no': mine,
         'tags': ['pupil']}])
    #  School tokens name schools with a current pupil.
    t1, t2 = h.make_token('school', school_id=s1), h.make_token('school', school_id=s2)
    month = this_month()
    #  The credit read.
    other = raw(h, 'GET', '/v1/school/pupils/%s/credit?month=%s' % (theirs, month), t1)
    unknown = raw(h, 'GET', '/v1/school/pupils/%s/credit?month=%s' % (nobody, month), t1)
    assert other == unknown and other[0] == 404, (other, unknown)
    assert raw(h, 'GET', '/v1/school/pupils/%s/credit' % mine, t1)[0] == 200
    #  The medal: the same rejection in the batch, byte for byte.
    def medal(pupil):
        return raw(h, 'POST', '/v1/school/medals', t1, {'events': [
            {'event_id': 'same-id', 'pupil_no': pupil, 'month': month, 'medal': '阅读之星'}]})
    other, unknown = medal(theirs), medal(nobody)
    assert other == unknown and other[0] == 200, (other, unknown)
    assert json.loads(other[1])['rejected'][0]['reason'], other
    #  The other school's pupil really is there for its own school.
    reply = h.call('POST', '/v1/school/medals', {'events': [
        {'event_id': 'same-id', 'pupil_no': theirs, 'month': month, 'medal': '阅读之星'}]},
        token=t2)
    assert reply['accepted'] == 1, reply
    assert raw(h, 'GET', '/v1/school/pupils/%s/credit' % theirs, t2)[0] == 200
    #  Revoking: another school's event id and an unknown one.
    other = raw(h, 'DELETE', '/v1/school/medals/same-id', t1)
    unknown = raw(h, 'DELETE', '/v1/school/medals/never-sent', t1)
    assert other[0] == unknown[0] == 404, (other, unknown)
    assert other[1].replace(b'same-id', b'X') == unknown[1].replace(b'never-sent', b'X')
    assert raw(h, 'DELETE', '/v1/school/medals/same-id', t2)[0] == 201


# ----------------------------------------------------------------- boards

def test_minor_never_on_the_board_by_name_but_for_ops(h):
    panel = h.make_token('panel')
    code = unique('t.star')
    h.call('PUT', '/v1/credit/rules/' + code,
           {'points': 400, 'monthly_cap_points': 0, 'roles': ['panel']}, expect=200)
    number = building(h)
    _, (adult, minor, pupil) = household(h, number, [
        {'name': '王大山', 'birth_year': 1980},
        {'name': '王小雨', 'birth_year': 2015},
        {'name': '王学生', 'tags': ['pupil'], 'school_id': unique('S'),
         'pupil_no': unique('P')}])
    #  The minor earns the first place; the pupil (no birth year) a place.
    evaluate(h, panel, minor, code)
    evaluate(h, panel, minor, code)
    evaluate(h, panel, adult, code)
    evaluate(h, panel, pupil, code)
    board = h.call('GET', '/v1/credit/honor-board?month=' + this_month())
    assert board['red'][0]['person_id'] == minor, board['red'][:3]
    assert board['red'][0]['name'] == '王小雨', board['red'][0]
    assert pupil in [r['person_id'] for r in board['red']]
    masked = h.call('GET', '/v1/credit/honor-board?month=%s&page_size=1000'
                    % this_month(), token=panel)
    shown = [r['person_id'] for r in masked['red'] + masked['grey']]
    assert minor not in shown and pupil not in shown, masked
    assert adult in shown, masked
    text = json.dumps(masked, ensure_ascii=False)
    assert '小雨' not in text and '学生' not in text, text
    row = [r for r in masked['red'] if r['person_id'] == adult][0]
    assert row['name'] == '王*山', row
    #  Schools and merchants read no honour board; the rankings (no
    #  person in them) they may.
    school = h.make_token('school', school_id=h.make_school())
    merchant_id = h.call('POST', '/v1/merchants', {
        'name': '便民小店', 'kind': 'individual', 'category': 'repair',
        'services': ['fix']}, expect=201)['id']
    merchant = h.make_token('merchant', merchant_id=merchant_id)
    for token in (school, merchant):
        status, body, _ = h.request('GET', '/v1/credit/honor-board', token=token)
        assert status == 403, body
        assert h.request('GET', '/v1/credit/rankings/buildings', token=token)[0] == 200
    #  The household ranking holds the minor's points, and no name.
    _, rows = all_rows(h, '/v1/credit/rankings/households?month=' + this_month(),
                       token=panel)
    assert '小雨' not in json.dumps(rows, ensure_ascii=False)


# --------------------------------------------------------------- rankings

def test_rankings_rank_every_building(h):
    """Issue 17: a building at -3 with most others at no entries was
    ranked first as the harmonious building. Every building is ranked;
    the -3 one is not first and not honoured."""
    panel = h.make_token('panel')
    code = unique('t.minus3')
    h.call('PUT', '/v1/credit/rules/' + code,
           {'points': -3, 'monthly_cap_points': 0, 'roles': ['panel']}, expect=200)
    numbers = [building(h) for _ in range(12)]
    empty = building(h)                 # no household in it at all
    persons = [household(h, n, [{'name': '李四', 'birth_year': 1975}])[1][0]
               for n in numbers]
    bad = numbers[5]
    evaluate(h, panel, persons[5], code)
    wait_for(lambda: any(r['id'] == bad and r['month_points'] == -3 for r in all_rows(
        h, '/v1/credit/rankings/buildings?month=' + this_month())[1]), 'the -3 entry')
    page, rows = all_rows(h, '/v1/credit/rankings/buildings?month=' + this_month())
    ids = [r['id'] for r in rows]
    for n in numbers + [empty]:
        assert n in ids, (n, ids)
    assert len(ids) == len(set(ids)), ids
    assert [r['rank'] for r in rows] == list(range(1, len(rows) + 1))
    by_id = {r['id']: r for r in rows}
    assert rows[0]['id'] != bad
    assert not by_id[bad]['honoured'], by_id[bad]
    assert all(r['month_points'] > 0 for r in rows if r['honoured']), rows
    for n in numbers + [empty]:
        if n != bad:
            assert by_id[n]['month_points'] == 0 and not by_id[n]['honoured']
            assert by_id[n]['rank'] < by_id[bad]['rank'], (by_id[n], by_id[bad])
    assert by_id[empty]['members'] == 0 and by_id[empty]['average_points'] == 0
    #  The households too: every one, the -3 one below every zero one.
    _, homes = all_rows(h, '/v1/credit/rankings/households?month=' + this_month())
    home_of = {r['building_number']: r for r in homes}
    for n in numbers:
        assert n in home_of, n
    assert all(home_of[n]['rank'] < home_of[bad]['rank'] for n in numbers if n != bad)
    assert not home_of[bad]['honoured']


def test_closed_month_rankings_stay_as_published(h):
    panel = h.make_token('panel')
    last = previous_month()
    number = building(h)
    _, (pid,) = household(h, number, [{'name': '赵六', 'birth_year': 1966}])
    h.call('POST', '/v1/credit/evaluations', {
        'person_id': pid, 'rule': 'civil_conduct.good', 'note': 'helped',
        'idempotency_key': unique('k'), 'observed_on': last + '-20'}, token=panel,
        expect=201)
    h.call('POST', '/v1/credit/months/%s/close' % last, {}, expect=200)
    paths = ['/v1/credit/rankings/buildings?month=' + last,
             '/v1/credit/rankings/households?month=' + last]
    published = [all_rows(h, p)[1] for p in paths]
    assert any(r['id'] == number and r['month_points'] == 3 for r in published[0])
    #  After the close: a new building, a new household, consent withdrawn.
    later = building(h)
    household(h, later, [{'name': '钱七', 'birth_year': 1990}])
    member = h.call('GET', '/v1/persons/' + pid)
    h.call('PUT', '/v1/persons/' + pid, {'name': member['name'],
                                         'birth_year': member['birth_year'],
                                         'credit_opt_out': True}, expect=200)
    wait_for(lambda: later in [r['id'] for r in all_rows(
        h, '/v1/credit/rankings/buildings?month=' + this_month())[1]], 'the new building')
    wait_for(lambda: not h.call('GET', '/v1/credit/persons/%s/consent' % pid)
             ['credit_consent'], 'the consent withdrawn')
    assert [all_rows(h, p)[1] for p in paths] == published


if __name__ == '__main__':
    harness.main(globals())
