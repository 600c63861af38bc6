"""test_demo_scale - `tashanctl demo --scale 2` makes twice the seed's
community (services/tashanctl/ctl_demo*.c): twice the compounds,
buildings, households and party members, twice the registry (54
co-building units), markets, check-ins and offers, and twice the
circles, volunteer projects and programmes, proposals, tenders, fund
deposits, problems, surveys, appeals and notices, each copy's names
distinct ("(2区)"); with --quiet no progress on stderr. Two months keep
it short; the books of a sample of persons still balance, the fund's
totals equal its movements and every month's board has red rows.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_demo_scale.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from demo_checks import check_books, check_markets, counts  # noqa: E402
from demo_checks import pages  # noqa: E402
from test_demo_year import check_fund, sanitized  # noqa: E402

DEMO_TIMEOUT_S = 260
os.environ.setdefault('TASHAN_TEST_TIMEOUT', '280')


# What the seed's community has of the parts that copy themselves per
# --scale (ctl_demo_volunteers.c, ctl_demo_proposals.c, ctl_demo_year.c):
# tenders are the proposals that went to tender (they have bids).
SEED_PARTS = {'circles': 75, 'volunteer_projects': 3, 'programmes': 3,
              'proposals': 14, 'tenders': 8, 'deposits': 3, 'problems': 7,
              'surveys': 1, 'appeals': 3, 'notices': 5}


def distinct(items, key, what):
    """The names of a list, asserted distinct (each copy names its own)."""
    names = [i[key] for i in items]
    assert len(set(names)) == len(names), (what, sorted(names))
    return names


def part_counts(h):
    """The sizes of the parts that copy themselves, through the API."""
    circles = pages(h, '/v1/circles', 'circles')
    projects = pages(h, '/v1/projects', 'projects')
    proposals = pages(h, '/v1/proposals', 'proposals')
    problems = pages(h, '/v1/problems', 'problems')
    surveys = pages(h, '/v1/surveys', 'surveys')
    notices = pages(h, '/v1/notices?since=0', 'notices')
    for items, key, what in [(circles, 'name', 'circles'), (projects, 'name', 'projects'),
                             (proposals, 'title', 'proposals'),
                             (problems, 'title', 'problems'),
                             (surveys, 'title', 'surveys'), (notices, 'title', 'notices')]:
        distinct(items, key, what)
    tenders = sum(1 for p in proposals
                  if h.call('GET', '/v1/proposals/%s/bids' % p['id'])['bids'])
    movements = pages(h, '/v1/fund', 'movements')
    return {
        'circles': len(circles),
        'volunteer_projects': sum(1 for p in projects if p['kind'] == 'volunteer'),
        'programmes': sum(1 for p in projects if p['kind'] == 'programme'),
        'proposals': len(proposals), 'tenders': tenders,
        'deposits': sum(1 for m in movements if m['kind'] == 'deposit'),
        'problems': len(problems), 'surveys': len(surveys),
        'appeals': len(pages(h, '/v1/credit/appeals', 'appeals')),
        'notices': len(notices),
    }


def test_demo_scale_2(h):
    if sanitized(h):
        raise harness.Skip('the whole demo community takes minutes under the '
                           'sanitizers; the release suite runs it')
    t0 = time.monotonic()
    run = h.tashanctl('demo', '--scale', 2, '--months', 2, '--quiet', '--seed', 7,
                      check=True, timeout_s=DEMO_TIMEOUT_S)
    print('   tashanctl demo --scale 2 --months 2 took %.1f s'
          % (time.monotonic() - t0), flush=True)
    print(harness.indent(run.stdout), flush=True)
    assert 'demo progress' not in run.stderr, run.stderr
    assert 'scale 2' in run.stdout, run.stdout
    seen = counts(h)
    print('   counts: %s' % seen, flush=True)
    assert seen == {'compounds': 8, 'buildings': 122, 'households': 2150,
                    'party_members': 158, 'merchants': 894, 'co_building': 54,
                    'markets': 54, 'checkins': seen['checkins'], 'offers': 14}, seen
    assert 1900 <= seen['checkins'] <= 2000, seen
    check_markets(h, h.call('GET', '/v1/markets?page_size=1000'))
    parts = part_counts(h)
    print('   parts: %s' % parts, flush=True)
    assert parts == {k: 2 * v for k, v in SEED_PARTS.items()}, parts
    check_fund(h)
    months = h.call('GET', '/v1/credit/months')
    assert len(months['months']) == 1, months
    sample = set()
    for month in [months['months'][0]['month'], months['current_month']]:
        board = h.call('GET', '/v1/credit/honor-board?month=' + month)
        assert board['red'], (month, board)
        sample.update(r['person_id'] for r in board['red'][:3] + board['grey'][:2])
    check_books(h, sample)


if __name__ == '__main__':
    harness.main(globals())
