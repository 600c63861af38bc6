"""demo_checks - what the demo tests (test_demo_year.py, test_demo_scale.py)
read back through the HTTP API after `tashanctl demo`: paged lists, a
person's books recomputed from their statement, and the community's
counts, so a --scale K run can be compared with K × the seed's."""

import time


def pages(h, path, key, page_size=1000, max_pages=1000):
    """Every item of a paged list."""
    out, token = [], ''
    sep = '&' if '?' in path else '?'
    for _ in range(max_pages):
        url = '%s%spage_size=%d' % (path, sep, page_size)
        if token:
            url += '&page_token=' + token
        body = h.call('GET', url)
        out += body[key]
        token = body.get('next_page_token', '')
        if not token:
            return out
    raise AssertionError('%s: more than %d pages' % (path, max_pages))


def books(h, person_id):
    """The person's balances recomputed from their statement."""
    entries = pages(h, '/v1/credit/persons/%s/entries' % person_id, 'entries')
    index = 1000 + sum(int(e['effective_points']) for e in entries
                       if e['kind'] != 'redemption')
    card = sum(int(e['effective_points']) for e in entries
               if e['kind'] == 'earning' and int(e['effective_points']) > 0) \
        - sum(abs(int(e['points'])) for e in entries if e['kind'] == 'redemption')
    return index, card, entries


def check_books(h, person_ids):
    """Each person's index and card equal the sum of their entries."""
    for pid in sorted(person_ids):
        index, card, entries = books(h, pid)
        credit = h.call('GET', '/v1/credit/persons/' + pid)
        assert int(credit['index']) == index, (pid, credit, entries)
        assert int(credit['card']) == card and card >= 0, (pid, credit, entries)


def party_members(h):
    """The persons tagged party_member (ops' tag search)."""
    return {p['person_id'] for p in
            pages(h, '/v1/residents/lookup?tag=party_member', 'persons')}


def counts(h):
    """The community's sizes as the API reports them."""
    merchants = pages(h, '/v1/merchants', 'merchants')
    markets = h.call('GET', '/v1/markets?page_size=1000')
    return {
        'compounds': len(pages(h, '/v1/compounds', 'compounds')),
        'buildings': len(pages(h, '/v1/buildings', 'buildings')),
        'households': len(pages(h, '/v1/households', 'households')),
        'party_members': len(party_members(h)),
        'merchants': len(merchants),
        'co_building': sum(1 for m in merchants if m['co_building']),
        'markets': markets['totals']['markets'],
        'checkins': markets['totals']['checkins'],
        'offers': len(pages(h, '/v1/offers', 'offers')),
    }


def check_markets(h, markets):
    """Every market served residents on its day, the last one today."""
    # The community's day: Asia/Shanghai, UTC+8 all year.
    today = time.strftime('%Y-%m-%d', time.gmtime(time.time() + 8 * 3600))
    dates = sorted(m['date'] for m in markets['markets'])
    for m in markets['markets']:
        assert m['checkins'] > 0 and m['merchants_active'] > 0, m
    assert dates[-1] == today and dates[0] < today, (today, dates)
    totals = markets['totals']
    assert totals['free_services_given'] == totals['checkins'], totals
