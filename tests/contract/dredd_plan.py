"""dredd_plan - the records test_dredd.py makes before dredd runs, and
the request (path, body, token) of each operation it checks.

Each write that changes a record's state gets a record of its own, made
here, so that dredd's order (the document's) does not matter: archiving,
moving out, deciding, closing... never hit a record another operation
reads. Ops tokens unless a step names another role's (an evaluation is
the panel's, a medal a school's, a check-in a merchant's)."""
import time

EVENT_WAIT_S = 15
#  A session's start, a tender's deadline: after the seeding's next steps
#  (a sign-up, the bids), before dredd.
STARTS_IN_S = 4
#  The POSTs that change a record rather than make one: 200, not 201.
ANSWERS_200 = {
    'residents.ArchiveBuilding', 'ledger.RevokeCardCode', 'residents.ArchiveCompound',
    'residents.MoveOutHousehold', 'residents.MatchAll', 'residents.AssignNeed',
    'residents.SetNeedStatus', 'residents.ArchivePerson', 'residents.MovePerson',
    'residents.ArchiveResource', 'ledger.DecideAppeal', 'ledger.EvaluateBatch',
    'ledger.CloseMonth', 'ledger.SubmitMedals', 'volunteers.ConfirmHours',
    'volunteers.Accept', 'volunteers.Decline', 'volunteers.Done', 'volunteers.Confirm',
    'proposals.Review', 'proposals.Confirm', 'proposals.Release', 'proposals.Accept',
    'proposals.Award', 'proposals.Decide', 'proposals.Tender', 'proposals.CloseSurvey',
}


def unique(prefix):
    return '%s%d' % (prefix, time.monotonic_ns() % 10**12)


def wait_ok(h, path, token=None, wait_s=EVENT_WAIT_S):
    """GET path until it answers 200: another daemon has heard the event."""
    deadline = time.monotonic() + wait_s
    while True:
        kwargs = {'token': token} if token else {}
        status, body, _ = h.request('GET', path, **kwargs)
        if status == 200 or time.monotonic() > deadline:
            assert status == 200, '%s: %d %s' % (path, status, body)
            return body
        time.sleep(0.05)


class Seed:
    """The records, by name (ids[...]), and the tokens of other roles."""

    def __init__(self, h):
        self.h = h
        self.ids = {}
        self.tokens = {'panel': h.make_token('panel')}
        self.wait_until = 0.0           # time.time() of the last deadline set

    def wait(self):
        """Until every session started and every tender closed."""
        time.sleep(max(0.0, self.wait_until - time.time()) + 0.3)

    def post(self, name, path, body, retry_422=False, expect=(200, 201), **kwargs):
        """POST; retry_422: while the daemon has not heard of a record
        another daemon made (its event is on its way)."""
        deadline = time.monotonic() + EVENT_WAIT_S
        while True:
            status, reply, _ = self.h.request('POST', path, body, **kwargs)
            if not (retry_422 and status == 422 and time.monotonic() < deadline):
                break
            time.sleep(0.05)
        allowed = (expect,) if isinstance(expect, int) else tuple(expect)
        assert status in allowed, 'POST %s: %d %s' % (path, status, reply)
        if name:
            self.ids[name] = reply['id']
        return reply

    def household(self, name, room):
        reply = self.post(name, '/v1/households',
                          {'building': self.ids['number'], 'room': room,
                           'members': [{'name': '王伟', 'birth_year': 1980}]}, expect=201)
        return reply['members'][0]['id']

    def residents(self):
        ids = self.ids
        self.post('compound', '/v1/compounds', {'name': unique('Court'), 'kind': 'closed'},
                  expect=201)
        self.post('compound_empty', '/v1/compounds', {'name': unique('Yard'), 'kind': 'open'},
                  expect=201)
        ids['number'] = unique('D')
        self.post('building', '/v1/buildings', {'number': ids['number'], 'grid': 'G1'},
                  expect=201)
        self.post('building_empty', '/v1/buildings', {'number': unique('E'), 'grid': 'G1'},
                  expect=201)
        ids['person'] = self.household('household', '101')
        self.household('household_moveout', '102')
        ids['person_archive'] = self.household(None, '105')
        ids['person_move'] = self.household('household_move', '103')
        self.household('household_to', '104')
        self.post('need', '/v1/needs', {'household_id': ids['household'], 'category': 'repair',
                                        'urgency': 2}, expect=201)
        self.post('need_assign', '/v1/needs', {'household_id': ids['household'],
                                               'category': 'repair', 'urgency': 1}, expect=201)
        self.post('resource', '/v1/resources', {
            'provider_kind': 'resident', 'provider_id': ids['person'], 'title': '修水管',
            'category': 'repair', 'capacity_per_week': 5}, expect=201)
        self.post('resource_archive', '/v1/resources', {
            'provider_kind': 'resident', 'provider_id': ids['person'], 'title': '陪伴聊天',
            'category': 'companionship', 'capacity_per_week': 1}, expect=201)

    def ledger(self):
        ids = self.ids
        wait_ok(self.h, '/v1/credit/persons/' + ids['person'])
        wait_ok(self.h, '/v1/credit/persons/' + ids['person_move'])
        entry = self.post('entry', '/v1/credit/evaluations', {
            'person_id': ids['person'], 'rule': 'parking.bad', 'note': 'seen',
            'idempotency_key': unique('k')}, token=self.tokens['panel'], expect=201)
        self.post('appeal', '/v1/credit/appeals', {'entry_id': entry['id'],
                                                   'reason': 'not my car'}, expect=201)
        ids['entry_bad'] = self.h.call('POST', '/v1/credit/evaluations', {
            'person_id': ids['person_move'], 'rule': 'parking.bad', 'note': 'seen',
            'idempotency_key': unique('k')}, token=self.tokens['panel'], expect=201)['id']
        self.post('card_code', '/v1/persons/%s/card-code' % ids['person'],
                  {'printed': True, 'valid_hours': 9000}, expect=201)


    def pupil(self):
        """A pupil of school S1 whose card holds 12 points."""
        ids = self.ids
        ids['pupil_no'] = unique('N')
        reply = self.h.call('POST', '/v1/households', {
            'building': ids['number'], 'room': '301', 'members': [
                {'name': '王小明', 'birth_year': 2015, 'tags': ['pupil'], 'school_id': 'S1',
                 'pupil_no': ids['pupil_no']}]}, expect=201)
        ids['pupil'] = reply['members'][0]['id']
        wait_ok(self.h, '/v1/credit/persons/' + ids['pupil'])
        for _ in range(4):
            self.h.call('POST', '/v1/credit/evaluations', {
                'person_id': ids['pupil'], 'rule': 'civil_conduct.good',
                'idempotency_key': unique('ev')}, expect=201)
        self.tokens['school'] = self.h.make_token('school', school_id='S1')
        self.h.call('POST', '/v1/school/medals', {'events': [{
            'event_id': 'medal1', 'pupil_no': ids['pupil_no'], 'month': this_month(),
            'medal': '阅读之星'}]}, token=self.tokens['school'], expect=200)

    def merchants(self):
        ids, h = self.ids, self.h
        shop = self.post('merchant', '/v1/merchants', {
            'name': '社区小超市', 'kind': 'enterprise', 'category': 'shop',
            'services': ['groceries']}, expect=201)
        ids['merchant_code'] = shop['code']
        self.tokens['merchant'] = h.make_token('merchant', merchant_id=ids['merchant'])
        self.post('merchant_enrol', '/v1/merchants', {
            'name': '理发店', 'kind': 'individual', 'category': 'grocery',
            'services': ['haircut']}, expect=201)
        self.post('market', '/v1/markets', {'date': '2026-06-06', 'place': 'Tashan square',
                                            'title': 'Convenience market'}, expect=201)
        self.post('complaint', '/v1/merchants/%s/complaints' % ids['merchant'],
                  {'summary': 'overcharged', 'category': 'price'}, expect=201)
        self.post('offer', '/v1/offers', {'merchant_id': ids['merchant'], 'title': '练习本',
                                          'kind': 'item', 'points': 1, 'stock': 50},
                  expect=201)
        self.post('redemption', '/v1/offers/%s/redemptions' % ids['offer'],
                  {'person_id': ids['pupil'], 'idempotency_key': unique('r')},
                  retry_422=True)
        ids['card'] = h.card_code(ids['person'])['code']

    def volunteers(self):
        ids, h = self.ids, self.h
        number = unique('V')
        h.call('POST', '/v1/buildings', {'number': number, 'grid': 'GV1'}, expect=201)
        names = ['赵一', '赵二', '赵三', '赵四', '赵五', '赵六']
        hh = h.call('POST', '/v1/households', {'building': number, 'room': '101', 'members': [
            {'name': n, 'birth_year': 1960} for n in names]}, expect=201)
        lead, v2, v3, new, requester, spare = [m['id'] for m in hh['members']]
        for pid in (lead, v2, v3, new, requester, spare):
            wait_ok(h, '/v1/volunteers/persons/' + pid)
        ids.update(lead=lead, v2=v2, v3=v3, new_volunteer=new, requester=requester, spare=spare)
        for pid in (lead, v2, v3):
            h.call('POST', '/v1/volunteers', {'person_id': pid, 'skills': ['cleaning']},
                   expect=201)
        self.post('circle', '/v1/circles', {'name': unique('先锋圈'), 'kind': 'party_pioneer',
                                            'leader_person_id': lead}, expect=201)
        h.call('POST', '/v1/circles/%s/members' % ids['circle'], {'person_id': v2}, expect=201)
        self.post('hour_report', '/v1/hour-reports', {
            'person_id': v2, 'minutes': 45, 'note': '量血压', 'idempotency_key': unique('hr')},
            expect=201)
        self.post('post', '/v1/posts', {'title': '作业辅导', 'skill': 'tutoring',
                                        'circle_id': ids['circle']}, expect=201)
        self.post('project', '/v1/projects', {'name': '板凳课堂宣讲团', 'circle_id': ids['circle'],
                                              'kind': 'volunteer'}, expect=201)
        self.post('session', '/v1/projects/%s/sessions' % ids['project'], {
            'starts_at': iso(time.time() + 86400), 'place': '社区会议室', 'capacity': 5},
            expect=201)
        #  Starts in a few seconds: attended once dredd runs.
        starts = time.time() + STARTS_IN_S
        self.post('session_now', '/v1/projects/%s/sessions' % ids['project'], {
            'starts_at': iso(starts), 'place': '社区会议室', 'capacity': 5}, expect=201)
        self.wait_until = max(self.wait_until, starts)
        h.call('POST', '/v1/sessions/%s/signups' % ids['session_now'], {'person_id': v2},
               expect=201)
        self.orders()

    def order(self, name):
        reply = self.post(name, '/v1/service-orders', {
            'requester_person_id': self.ids['requester'], 'category': 'cleaning',
            'detail': 'help please', 'idempotency_key': unique('o')}, expect=201)
        self.ids[name + '_volunteer'] = reply['volunteer_person_id']
        return '/v1/service-orders/' + reply['id']

    def orders(self):
        """One order in each state a step starts from."""
        h, ids = self.h, self.ids
        self.order('order_accept')
        self.order('order_decline')
        base = self.order('order_done')
        h.call('POST', base + '/accept', {'volunteer_person_id': ids['order_done_volunteer']})
        base = self.order('order_confirm')
        h.call('POST', base + '/accept', {'volunteer_person_id': ids['order_confirm_volunteer']})
        h.call('POST', base + '/done', {'minutes': 90})

    def proposal(self, name, state):
        """A proposal brought to state: submitted, accepted, tendering
        (deadline in an hour), or closing (tendering, deadline in a
        second: its bids open before dredd runs)."""
        h, ids = self.h, self.ids
        base = '/v1/proposals/' + self.post(name, '/v1/proposals', {
            'proposer_person_id': ids['lead'], 'title': 'Pocket park 口袋公园',
            'detail': 'Turn the corner lot into a pocket park', 'budget_cents': 50000},
            expect=201)['id']
        if state == 'submitted':
            return base
        h.call('POST', base + '/decision', {'accept': True, 'reason': 'the steward team agrees'})
        if state == 'accepted':
            return base
        deadline = time.time() + (3600 if state == 'tendering' else STARTS_IN_S)
        h.call('POST', base + '/tender', {'deadline': iso(deadline)})
        if state == 'closing':
            self.wait_until = max(self.wait_until, deadline)
        return base

    def proposals(self):
        h, ids = self.h, self.ids
        h.call('POST', '/v1/fund/deposits', {'source': 'district grant',
                                             'amount_cents': 10000000,
                                             'idempotency_key': unique('dep')}, expect=201)
        unit = self.post('unit', '/v1/merchants', {
            'name': 'Tashan property co.', 'kind': 'enterprise', 'category': 'property',
            'services': ['repair'], 'co_building': True}, expect=201)['id']
        self.tokens['unit'] = h.make_token('merchant', merchant_id=unit)
        self.proposal('proposal', 'submitted')
        self.proposal('proposal_decide', 'submitted')
        self.proposal('proposal_tender', 'accepted')
        self.proposal('proposal_bid', 'tendering')
        closing = [self.proposal(name, 'closing')
                   for name in ('proposal_award', 'proposal_progress', 'proposal_accept')]
        for base in closing:
            bid = self.post(None, base + '/bids', {
                'bidder_merchant_id': unit, 'amount_cents': 40000, 'plan': 'plant trees'},
                retry_422=True, expect=201)
            ids.setdefault('bid', bid['id'])
        self.wait()                     # past the deadlines: the bids open
        for base in closing[1:]:
            h.call('POST', base + '/award', {})
        h.call('POST', closing[2] + '/progress', {'note': 'trees planted'}, expect=201)
        self.post('comment', '/v1/proposals/%s/comments' % ids['proposal'],
                  {'person_id': ids['v2'], 'text': 'Please paint the sea'}, expect=201)
        for reporter in (ids['lead'], ids['v3'], ids['spare']):
            h.call('POST', '/v1/reports', {'item_id': ids['comment'], 'person_id': reporter,
                                           'reason': 'rude'}, expect=201)
        self.problems(unit)
        self.post('survey', '/v1/surveys', {
            'title': '大走访 2026', 'closes_at': iso(time.time() + 3600),
            'questions': SURVEY_QUESTIONS, 'kind': 'home_visit'}, expect=201)
        for name in ('survey_close', 'survey_closed'):
            self.post(name, '/v1/surveys', {
                'title': '大走访 2026', 'closes_at': iso(time.time() + 3600),
                'questions': SURVEY_QUESTIONS, 'kind': 'home_visit'}, expect=201)
        h.call('POST', '/v1/surveys/%s/close' % ids['survey_closed'], {})

    def problems(self, unit):
        h, ids = self.h, self.ids
        for name in ('problem', 'problem_claimed', 'problem_done', 'problem_release'):
            self.post(name, '/v1/problems', {'title': 'Parking 停车难', 'place': 'Building 12',
                                             'source': 'visit'}, expect=201)
        for name in ('problem_claimed', 'problem_done', 'problem_release'):
            self.post(None, '/v1/problems/%s/claims' % ids[name], {'unit_merchant_id': unit},
                      retry_422=True, expect=201)
        h.call('POST', '/v1/problems/%s/progress' % ids['problem_done'],
               {'note': '40 new spaces', 'done': True}, expect=201)


SURVEY_QUESTIONS = [
    {'text': 'How satisfied are you with the community?', 'kind': 'scale'},
    {'text': 'What first?', 'kind': 'choice', 'options': ['pocket park', 'parking']},
    {'text': 'Anything else?', 'kind': 'text'}]


def iso(t):
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t)) + 'Z'


def this_month():
    """The month in Asia/Shanghai (UTC+8), as the ledger counts."""
    return time.strftime('%Y-%m', time.gmtime(time.time() + 8 * 3600))


def previous_month():
    year, month = map(int, this_month().split('-'))
    return '%04d-%02d' % (year - (month == 1), 12 if month == 1 else month - 1)


def settings(h, ids):
    """Each settings document as it is: put back unchanged."""
    for name, path in (('credit', '/v1/credit/settings'), ('merchant', '/v1/merchant-rules'),
                       ('proposal', '/v1/proposal-settings'),
                       ('volunteer', '/v1/volunteers/settings')):
        ids[name + '_settings'] = h.call('GET', path)


def seed(h):
    s = Seed(h)
    settings(h, s.ids)
    s.ids['token'] = h.call('POST', '/v1/tokens', {'role': 'panel', 'note': 'to revoke'},
                            expect=201)['id']
    s.residents()
    s.ledger()
    s.pupil()
    s.merchants()
    s.volunteers()
    s.proposals()
    s.wait()
    return s


def steps(s):
    """{operationId: (path, body or None[, token])}."""
    i = s.ids
    u = unique
    return {
        'residents.GetCompound': ('/v1/compounds/' + i['compound'], None),
        'residents.CreateCompound': ('/v1/compounds', {'name': u('Park'), 'kind': 'open'}),
        'residents.UpdateCompound': ('/v1/compounds/' + i['compound'], {'kind': 'open'}),
        'residents.ArchiveCompound': ('/v1/compounds/%s/archive' % i['compound_empty'], {}),
        'residents.GetBuilding': ('/v1/buildings/' + i['building'], None),
        'residents.CreateBuilding': ('/v1/buildings', {'number': u('F'), 'grid': 'G2'}),
        'residents.UpdateBuilding': ('/v1/buildings/' + i['building'], {'grid': 'G3'}),
        'residents.ArchiveBuilding': ('/v1/buildings/%s/archive' % i['building_empty'],
                                      {'reason': 'demolished'}),
        'residents.GetHousehold': ('/v1/households/' + i['household'], None),
        'residents.CreateHousehold': ('/v1/households', {
            'building': i['number'], 'room': '201',
            'members': [{'name': '李娜', 'birth_year': 1985}]}),
        'residents.UpdateHousehold': ('/v1/households/' + i['household'],
                                      {'unit': '2', 'grid': 'G7'}),
        'residents.ListAudit': ('/v1/households/%s/audit' % i['household'], None),
        'residents.GetHistory': ('/v1/households/%s/history' % i['household'], None),
        'residents.AddMember': ('/v1/households/%s/members' % i['household'],
                                {'name': '王小明', 'birth_year': 2016}),
        'residents.MoveOutHousehold': ('/v1/households/%s/move-out' % i['household_moveout'],
                                       {'reason': 'sold the flat'}),
        'residents.GetPerson': ('/v1/persons/' + i['person'], None),
        'residents.UpdatePerson': ('/v1/persons/' + i['person'],
                                   {'name': '王伟', 'birth_year': 1981}),
        'residents.ArchivePerson': ('/v1/persons/%s/archive' % i['person_archive'],
                                    {'reason': 'moved away'}),
        'residents.MovePerson': ('/v1/persons/%s/move' % i['person_move'],
                                 {'household_id': i['household_to']}),
        'residents.OpenNeed': ('/v1/needs', {'household_id': i['household'],
                                             'category': 'repair', 'urgency': 3}),
        'residents.GetNeed': ('/v1/needs/' + i['need'], None),
        'residents.ListMatches': ('/v1/needs/%s/matches' % i['need'], None),
        'residents.AssignNeed': ('/v1/needs/%s/assign' % i['need_assign'],
                                 {'resource_id': i['resource']}),
        'residents.SetNeedStatus': ('/v1/needs/%s/status' % i['need'],
                                    {'status': 'closed', 'note': '已解决'}),
        'residents.MatchAll': ('/v1/needs/match-all', {'sample_size': 5}),
        'residents.AddResource': ('/v1/resources', {
            'provider_kind': 'resident', 'provider_id': i['person'], 'title': '理发',
            'category': 'haircut', 'capacity_per_week': 3}),
        'residents.GetResource': ('/v1/resources/' + i['resource'], None),
        'residents.ArchiveResource': ('/v1/resources/%s/archive' % i['resource_archive'], {}),
        # ledger
        'ledger.GetPerson': ('/v1/credit/persons/' + i['person'], None),
        'ledger.ListEntries': ('/v1/credit/persons/%s/entries' % i['person'], None),
        'ledger.ListAppeals': ('/v1/credit/persons/%s/appeals' % i['person'], None),
        'ledger.GetConsent': ('/v1/credit/persons/%s/consent' % i['person'], None),
        'ledger.GetEntry': ('/v1/credit/entries/' + i['entry'], None),
        'ledger.GetAppeal': ('/v1/credit/appeals/' + i['appeal'], None),
        'ledger.DecideAppeal': ('/v1/credit/appeals/%s/decision' % i['appeal'],
                                {'accept': True, 'reason': 'plate checked'}),
        'ledger.FileAppeal': ('/v1/credit/appeals', {'entry_id': i['entry_bad'],
                                                    'reason': 'not my car'}),
        'ledger.Evaluate': ('/v1/credit/evaluations', {
            'person_id': i['person'], 'rule': 'garbage_sorting.good', 'note': 'seen',
            'idempotency_key': u('k')}, s.tokens['panel']),
        'ledger.ListCardCodes': ('/v1/persons/%s/card-codes' % i['person'], None),
        'ledger.IssueCardCode': ('/v1/persons/%s/card-code' % i['person'], {}),
        'ledger.RevokeCardCode': ('/v1/card-codes/%s/revoke' % i['card_code'],
                                  {'reason': 'lost card'}),
        'ledger.RotateResidentKey': ('/v1/keys/resident-codes/rotate', {}),
        'ledger.SubmitMedals': ('/v1/school/medals', {'events': [{
            'event_id': u('medal'), 'pupil_no': i['pupil_no'], 'month': this_month(),
            'medal': '劳动之星'}]}, s.tokens['school']),
        'ledger.RevokeMedal': ('/v1/school/medals/medal1', None, s.tokens['school']),
        'ledger.PupilCredit': ('/v1/school/pupils/%s/credit' % i['pupil_no'], None,
                               s.tokens['school']),
        'ledger.CloseMonth': ('/v1/credit/months/%s/close' % previous_month(), {}),
        'ledger.EvaluateBatch': ('/v1/credit/evaluations/batch', {'evaluations': [{
            'person_id': i['person'], 'rule': 'garbage_sorting.good',
            'idempotency_key': u('k')}]}, s.tokens['panel']),
        'ledger.Redeem': ('/v1/credit/redemptions', {'person_id': i['pupil'], 'points': 1,
                                                     'item': '铅笔', 'idempotency_key': u('r')}),
        # merchants
        'merchants.Create': ('/v1/merchants', {'name': '修鞋铺', 'kind': 'individual',
                                               'category': 'repair', 'services': ['shoes']}),
        'merchants.Get': ('/v1/merchants/' + i['merchant'], None),
        'merchants.Update': ('/v1/merchants/' + i['merchant'], {'category': 'grocery'}),
        'merchants.CodeSvg': ('/v1/merchants/%s/code.svg' % i['merchant'], None),
        'merchants.History': ('/v1/merchants/%s/history' % i['merchant'], None),
        'merchants.ListComplaints': ('/v1/merchants/%s/complaints' % i['merchant'], None),
        'merchants.AddComplaint': ('/v1/merchants/%s/complaints' % i['merchant'],
                                   {'summary': 'rude', 'category': 'conduct'}),
        'merchants.ResolveComplaint': ('/v1/merchants/%s/complaints/%s'
                                       % (i['merchant'], i['complaint']),
                                       {'status': 'dismissed', 'resolution_note': 'not us'}),
        'merchants.ListRedemptions': ('/v1/merchants/%s/redemptions' % i['merchant'], None),
        'merchants.Disclose': ('/v1/codes/' + i['merchant_code'], None, None),
        'merchants.CreateMarket': ('/v1/markets', {'date': '2026-07-04', 'place': 'Tashan square',
                                                   'title': 'Convenience market'}),
        'merchants.GetMarket': ('/v1/markets/' + i['market'], None),
        'merchants.MarketStats': ('/v1/markets/%s/stats' % i['market'], None),
        'merchants.Enrol': ('/v1/markets/%s/merchants' % i['market'],
                            {'merchant_id': i['merchant_enrol']}),
        'merchants.Checkin': ('/v1/checkins', {
            'checkin_id': u('c'), 'merchant_id': i['merchant'], 'resident_code': i['card'],
            'service': 'haircut'}, s.tokens['merchant']),
        'merchants.CreateOffer': ('/v1/offers', {'merchant_id': i['merchant'], 'title': '铅笔',
                                                 'kind': 'item', 'points': 1, 'stock': 5}),
        'merchants.GetOffer': ('/v1/offers/' + i['offer'], None),
        'merchants.UpdateOffer': ('/v1/offers/' + i['offer'], {'add_stock': 3}),
        'merchants.RedeemOffer': ('/v1/offers/%s/redemptions' % i['offer'],
                                  {'person_id': i['pupil'], 'idempotency_key': u('r')}),
        'merchants.GetRedemption': ('/v1/redemptions/' + i['redemption'], None),
        'merchants.PostNotice': ('/v1/notices', {'title': 'Market Saturday',
                                                 'body': 'Enrol by Thursday'}),
        # volunteers
        'volunteers.Register': ('/v1/volunteers', {'person_id': i['new_volunteer'],
                                                   'skills': ['tutoring']}),
        'volunteers.GetVolunteer': ('/v1/volunteers/' + i['lead'], None),
        'volunteers.SuggestPosts': ('/v1/volunteers/%s/posts' % i['lead'], None),
        'volunteers.GetPerson': ('/v1/volunteers/persons/' + i['requester'], None),
        'volunteers.CreateCircle': ('/v1/circles', {'name': u('志愿圈'), 'kind': 'party_pioneer',
                                                    'leader_person_id': i['v3']}),
        'volunteers.GetCircle': ('/v1/circles/' + i['circle'], None),
        'volunteers.AddMember': ('/v1/circles/%s/members' % i['circle'], {'person_id': i['v3']}),
        'volunteers.ReportHours': ('/v1/hour-reports', {
            'person_id': i['v2'], 'minutes': 30, 'note': '陪伴', 'idempotency_key': u('hr')}),
        'volunteers.ConfirmHours': ('/v1/hour-reports/%s/confirm' % i['hour_report'],
                                    {'confirmer_person_id': i['lead']}),
        'volunteers.CreatePost': ('/v1/posts', {'title': '陪伴聊天', 'skill': 'companionship',
                                                'circle_id': i['circle']}),
        'volunteers.GetPost': ('/v1/posts/' + i['post'], None),
        'volunteers.CreateProject': ('/v1/projects', {'name': '儿童艺点通', 'kind': 'programme'}),
        'volunteers.GetProject': ('/v1/projects/' + i['project'], None),
        'volunteers.ListSessions': ('/v1/projects/%s/sessions' % i['project'], None),
        'volunteers.CreateSession': ('/v1/projects/%s/sessions' % i['project'], {
            'starts_at': iso(time.time() + 2 * 86400), 'place': '睦邻空间', 'capacity': 2}),
        'volunteers.GetSession': ('/v1/sessions/' + i['session'], None),
        'volunteers.SignUp': ('/v1/sessions/%s/signups' % i['session'], {'person_id': i['v2']}),
        'volunteers.Attend': ('/v1/sessions/%s/attendance' % i['session_now'],
                              {'person_id': i['v2'], 'minutes': 60}),
        'volunteers.CreateOrder': ('/v1/service-orders', {
            'requester_person_id': i['requester'], 'category': 'cleaning',
            'detail': 'help please', 'idempotency_key': u('o')}),
        'volunteers.GetOrder': ('/v1/service-orders/' + i['order_accept'], None),
        'volunteers.Accept': ('/v1/service-orders/%s/accept' % i['order_accept'],
                              {'volunteer_person_id': i['order_accept_volunteer']}),
        'volunteers.Decline': ('/v1/service-orders/%s/decline' % i['order_decline'],
                               {'volunteer_person_id': i['order_decline_volunteer'],
                                'reason': 'ill'}),
        'volunteers.Done': ('/v1/service-orders/%s/done' % i['order_done'], {'minutes': 60}),
        'volunteers.Confirm': ('/v1/service-orders/%s/confirm' % i['order_confirm'],
                               {'rating': 5, 'comment': '很好'}),
        # proposals
        'proposals.Create': ('/v1/proposals', {
            'proposer_person_id': i['lead'], 'title': 'Wall murals 立体彩绘',
            'detail': 'Paint the wall by the school', 'budget_cents': 30000}),
        'proposals.Get': ('/v1/proposals/' + i['proposal'], None),
        'proposals.Support': ('/v1/proposals/%s/supports' % i['proposal'],
                              {'person_id': i['v2']}),
        'proposals.ListComments': ('/v1/proposals/%s/comments' % i['proposal'], None),
        'proposals.Comment': ('/v1/proposals/%s/comments' % i['proposal'],
                              {'person_id': i['v3'], 'text': 'Benches too, please'}),
        'proposals.Decide': ('/v1/proposals/%s/decision' % i['proposal_decide'],
                             {'accept': True, 'reason': 'many neighbours want it'}),
        'proposals.Tender': ('/v1/proposals/%s/tender' % i['proposal_tender'],
                             {'deadline': iso(time.time() + 3600)}),
        'proposals.ListBids': ('/v1/proposals/%s/bids' % i['proposal_bid'], None),
        'proposals.Bid': ('/v1/proposals/%s/bids' % i['proposal_bid'], {
            'bidder_merchant_id': i['unit'], 'amount_cents': 45000, 'plan': 'lay paths'}),
        'proposals.Award': ('/v1/proposals/%s/award' % i['proposal_award'], {}),
        'proposals.Progress': ('/v1/proposals/%s/progress' % i['proposal_progress'],
                               {'note': 'benches in'}),
        'proposals.Accept': ('/v1/proposals/%s/acceptance' % i['proposal_accept'], {
            'passed': True, 'spent_cents': 38000, 'note': 'accepted by residents'}),
        'proposals.Deposit': ('/v1/fund/deposits', {'source': 'donation', 'amount_cents': 5000,
                                                    'idempotency_key': u('dep')}),
        'proposals.Report': ('/v1/reports', {'item_id': i['comment'], 'person_id': i['v2'],
                                             'reason': 'rude'}),
        'proposals.Review': ('/v1/moderation/%s/review' % i['comment'],
                             {'restore': True, 'note': 'a fair complaint, not rude'}),
        'proposals.CreateProblem': ('/v1/problems', {'title': 'Dark stairwell', 'place':
                                                     'Building 3', 'source': 'visit'}),
        'proposals.GetProblem': ('/v1/problems/' + i['problem'], None),
        'proposals.Claim': ('/v1/problems/%s/claims' % i['problem'],
                            {'unit_merchant_id': i['unit']}, s.tokens['unit']),
        'proposals.ProblemProgress': ('/v1/problems/%s/progress' % i['problem_claimed'],
                                      {'note': 'lines painted'}),
        'proposals.Confirm': ('/v1/problems/%s/confirmation' % i['problem_done'],
                              {'satisfied': True, 'note': 'well done'}),
        'proposals.Release': ('/v1/problems/%s/release' % i['problem_release'],
                              {'note': 'no painters'}),
        'proposals.CreateSurvey': ('/v1/surveys', {
            'title': '夏季走访', 'closes_at': iso(time.time() + 7200),
            'questions': SURVEY_QUESTIONS, 'kind': 'home_visit'}),
        'proposals.GetSurvey': ('/v1/surveys/' + i['survey'], None),
        'proposals.Results': ('/v1/surveys/%s/results' % i['survey_closed'], None),
        'proposals.Respond': ('/v1/surveys/%s/responses' % i['survey'], {
            'household_id': i['household'], 'answers': [
                {'scale': 5}, {'choice': 'parking'}, {'text': 'more lights'}],
            'recorded_by': 'grid worker Wang'}),
        'proposals.CloseSurvey': ('/v1/surveys/%s/close' % i['survey_close'], {}),
        # settings, put back as they are
        'ledger.PutSettings': ('/v1/credit/settings', i['credit_settings']),
        'merchants.SetRules': ('/v1/merchant-rules', i['merchant_settings']),
        'proposals.PutSettings': ('/v1/proposal-settings', i['proposal_settings']),
        'volunteers.SetSettings': ('/v1/volunteers/settings', i['volunteer_settings']),
        # the gateway's tokens
        'gateway.CreateToken': ('/v1/tokens', {'role': 'school', 'school_id': 'S2'}),
        'gateway.RevokeToken': ('/v1/tokens/' + i['token'], None),
        'ledger.PutRule': ('/v1/credit/rules/' + u('t.rule'), {
            'points': 1, 'monthly_cap_points': 0, 'roles': ['panel', 'ops'],
            'description': 'test rule'}),
    }
