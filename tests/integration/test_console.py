#!/usr/bin/env python3
"""test_console - the gateway pieces behind the console: its embedded
files, GET /v1/session, GET /v1/qr.svg, the public disclosure page
GET /c/{code}, the panel's resident lookup (masked names only) and the
evaluator recorded on panel evaluations. The console itself is tested in
a real browser by tests/browser/."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

_state = {}


def household(h):
    if 'hh' not in _state:
        if 'building' not in _state:
            _state['building'] = h.call('POST', '/v1/buildings', {'number': 'C7', 'grid': 'G9'})
        _state['hh'] = h.call('POST', '/v1/households', {
            'building': 'C7', 'unit': '1', 'room': '502', 'members': [
                {'name': '李秀英', 'birth_year': 1950, 'tags': ['elderly'], 'phone': '13900001111'},
                {'name': '李明', 'birth_year': 2014, 'tags': ['pupil'], 'school_id': 'S1', 'pupil_no': 'C7-502'}]})
    return _state['hh']


def test_console_files(h):
    status, body, headers = h.request('GET', '/', token=None)
    assert status == 200 and 'text/html' in headers['Content-Type'], (status, headers)
    assert '/console/app.js' in body and 'lang="zh-CN"' in body
    for path, ctype in (('/console/app.js', 'text/javascript'), ('/console/style.css', 'text/css'),
                        ('/console/views/panel.js', 'text/javascript')):
        status, body, headers = h.request('GET', path, token=None)
        assert status == 200 and ctype in headers['Content-Type'], (path, status)
        etag = headers['ETag']
        assert etag and headers['Cache-Control'] == 'no-cache'
        status, _, _ = h.request('GET', path, token=None, headers={'If-None-Match': etag})
        assert status == 304, (path, status)
    for path in ('/console/nope.js', '/console/../gw_console.c', '/console/views/'):
        status, _, _ = h.request('GET', path, token=None)
        assert status == 404, (path, status)


def test_session(h):
    s = h.call('GET', '/v1/session')
    assert s['role'] == 'ops' and s['binding'] == '' and s['token_id'], s
    panel = h.make_token('panel')
    assert h.call('GET', '/v1/session', token=panel)['role'] == 'panel'
    school = h.make_token('school', school_id=h.make_school('S9'))
    s = h.call('GET', '/v1/session', token=school)
    assert s['role'] == 'school' and s['binding'] == 'S9', s
    for token in (None, 'tsn_not-a-token'):
        status, body, _ = h.request('GET', '/v1/session', token=token)
        assert status == 401 and body['error']['code'] == 'unauthorized', (status, body)


def test_qr_svg(h):
    status, body, headers = h.request('GET', '/v1/qr.svg?text=' + 'http%3A%2F%2Fx%2Fc%2FABC')
    assert status == 200 and headers['Content-Type'] == 'image/svg+xml', (status, headers)
    assert body.startswith('<svg') and 'path' in body
    status, _, _ = h.request('GET', '/v1/qr.svg?text=x', token=None)
    assert status == 401
    for query in ('', '?text=', '?text=' + 'a' * 1001):
        status, body, _ = h.request('GET', '/v1/qr.svg' + query)
        assert status == 400, (query, status, body)


def test_disclosure_page(h):
    m = h.call('POST', '/v1/merchants', {'name': '塔山<便民>理发', 'kind': 'individual',
                                         'category': '理发', 'services': ['理发', '修脚'],
                                         'co_building': True})
    status, body, headers = h.request('GET', '/c/' + m['code'], token=None)
    assert status == 200 and 'text/html' in headers['Content-Type'], (status, headers)
    assert '塔山&lt;便民&gt;理发' in body and '<script' not in body
    assert '共建单位' in body and '诚信良好' in body and '修脚' in body
    forged = m['code'][:-1] + ('A' if m['code'][-1] != 'A' else 'B')
    for code in (forged, m['code'][:-3], 'x', '%zz', m['code'] + '/x'):
        status, body, headers = h.request('GET', '/c/' + code, token=None)
        assert status == 404 and 'text/html' in headers['Content-Type'], (code, status)
        assert '未找到' in body


def test_lookup_panel_masked(h):
    hh = household(h)
    panel = h.make_token('panel')
    r = h.call('GET', '/v1/residents/lookup?building=C7&room=502', token=panel)
    names = sorted(p['masked_name'] for p in r['persons'])
    assert names == ['李*', '李*英'], r
    p = r['persons'][0]
    assert set(p) == {'person_id', 'household_id', 'building', 'unit', 'room', 'masked_name'}, p
    assert p['household_id'] == hh['id'] and p['unit'] == '1'
    assert '13900001111' not in str(r)
    assert h.call('GET', '/v1/residents/lookup?building=C7&room=999', token=panel)['persons'] == []
    # The panel looks up by place only.
    for query, code in (('?building=C7&name=%E6%9D%8E', 403), ('?building=C7&tag=elderly', 403),
                        ('', 400), ('?building=NOPE', 422)):
        status, body, _ = h.request('GET', '/v1/residents/lookup' + query, token=panel)
        assert status == code, (query, status, body)
    school = h.make_token('school', school_id='S1')
    status, _, _ = h.request('GET', '/v1/residents/lookup?building=C7', token=school)
    assert status == 403


def test_lookup_ops_by_name_and_tag(h):
    household(h)
    r = h.call('GET', '/v1/residents/lookup?name=%E7%A7%80%E8%8B%B1')
    assert [p['masked_name'] for p in r['persons']] == ['李*英'], r
    r = h.call('GET', '/v1/residents/lookup?building=C7&tag=pupil')
    assert [p['masked_name'] for p in r['persons']] == ['李*'], r
    first = h.call('GET', '/v1/residents/lookup?page_size=1')
    assert len({p['household_id'] for p in first['persons']}) <= 1


def test_evaluator_recorded(h):
    hh = household(h)
    person = hh['members'][0]['id']
    panel = h.make_token('panel')
    who = h.call('GET', '/v1/session', token=panel)['token_id']
    #  The person reaches the ledger by the residents' event: retry while
    #  it is on its way (422), as a client would.
    deadline = time.monotonic() + 15
    while True:
        status, e, _ = h.request('POST', '/v1/credit/evaluations',
                                 {'person_id': person, 'rule': 'parking.good',
                                  'idempotency_key': 'console-ev-1'}, token=panel)
        if status != 422 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status in (200, 201), (status, e)
    assert e['source'] == 'panel' and e['evaluator'] == who, e
    entries = h.call('GET', '/v1/credit/persons/%s/entries' % person)['entries']
    assert [x['evaluator'] for x in entries if x['id'] == e['id']] == [who]


if __name__ == '__main__':
    harness.main(globals())
