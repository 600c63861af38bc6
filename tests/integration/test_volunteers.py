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


if __name__ == '__main__':
    harness.main(globals())
