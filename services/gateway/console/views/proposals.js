// proposals - 小提案·大治理: pipeline, timeline, sealed tenders, the fund,
// the problem list and surveys (SPEC §4 "Proposals"). Degrades to a notice
// while the routes answer 404.
import { t, v, STATES } from '../i18n.js';
import { get, post, qs, all, newKey } from '../api.js';
import { h, card, table, field, input, select, formData, guard, toast, personPicker, orUnavailable, stateChip, barChart, personNames } from '../ui.js';
import { go } from '../app.js';

const yuan = (c) => '¥' + (Number(c || 0) / 100).toFixed(2);
const PIPE = ['submitted', 'accepted', 'tendering', 'awarded', 'completed', 'rejected', 'failed'];

async function pipeline (main, mt, params) {
  const state = params.get('state') || 'submitted';
  main.append(h('h2', {}, t('小提案 · 大治理', 'Small proposals, big governance')));
  const body = h('div', {});
  main.append(body);
  await orUnavailable(body, t('提案与基金', 'Proposals and the fund'), async () => {
    const fund = await get('/v1/fund');
    const dep = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      const q = formData(dep);
      if (await guard(() => post('/v1/fund/deposits', { source: q.source, amount_cents: Math.round(Number(q.amount) * 100), idempotency_key: newKey('dep') }))) { toast(t('已入账', 'Deposited')); go('#/proposals?' + Date.now()); }
    } }, field(t('来源', 'Source'), input('source', { required: true })), field(t('金额（元）', 'Amount (yuan)'), input('amount', { type: 'number', min: 0.01, step: 0.01, required: true })), h('button', { type: 'submit' }, t('入账', 'Deposit')));
    body.append(card(t('提案基金', 'The fund'), h('div', { class: 'stats' },
      [[t('累计存入', 'Deposited'), fund.deposited_cents], [t('已承诺', 'Committed'), fund.committed_cents], [t('已支出', 'Spent'), fund.spent_cents], [t('可用', 'Free'), fund.free_cents]]
        .map(([k, x]) => h('div', { class: 'stat' }, h('div', { class: 'muted' }, k), h('div', { class: 'big' }, yuan(x))))), dep));
    const r = await get('/v1/proposals' + qs({ state }));
    const names = await personNames((r.proposals || []).map((p) => p.proposer_person_id));
    body.append(card(t('提案流程', 'Pipeline'), h('div', { class: 'tabs' }, PIPE.map((s) => h('button', { class: s === state ? 'on' : null, onclick: () => go('#/proposals?state=' + s) }, v(STATES, s)))),
      table([[t('标题', 'Title'), (p) => h('a', { href: '#/proposal/' + p.id }, p.title)], [t('提案人', 'Proposer'), (p) => names[p.proposer_person_id] || ''], [t('预算', 'Budget'), (p) => yuan(p.budget_cents)],
        [t('支持', 'Supports'), (p) => p.supports], [t('状态', 'State'), (p) => stateChip(STATES, p.state, v)]], r.proposals || [])));
    let proposer = null;
    const who = h('span', { class: 'muted' });
    const f = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      if (!proposer) return toast(t('请选择提案人', 'Choose the proposer'), true);
      const q = formData(f);
      const p = await guard(() => post('/v1/proposals', { proposer_person_id: proposer.person_id, title: q.title, detail: q.detail, budget_cents: Math.round(Number(q.budget) * 100) }));
      if (p) go('#/proposal/' + p.id);
    } }, field(t('标题', 'Title'), input('title', { required: true })), field(t('内容', 'Detail'), input('detail', { size: 24, required: true })),
    field(t('预算（元）', 'Budget (yuan)'), input('budget', { type: 'number', min: 0, step: 0.01, required: true })), h('button', { class: 'primary', type: 'submit' }, t('提交提案', 'Submit')));
    body.append(card(t('居民提案', 'New proposal'), personPicker((p) => { proposer = p; who.textContent = p.masked_name + ' ' + p.room; }, t('提案人', 'Proposer')), who, f));
  });
}

async function proposal (main, mt) {
  const id = mt[1];
  const p = await get('/v1/proposals/' + id);
  const reload = (msg) => { toast(msg); go('#/proposal/' + id + '?' + Date.now()); };
  main.append(h('h2', {}, p.title, ' ', stateChip(STATES, p.state, v)), card(null, h('p', {}, p.detail),
    h('p', { class: 'muted' }, t('预算 ', 'Budget ') + yuan(p.budget_cents) + ' · ' + t('支持 ', 'supports ') + p.supports)));
  main.append(card(t('全程留痕', 'Timeline'), table([[t('时间', 'At'), (e) => (e.at || '').slice(0, 16).replace('T', ' ')], [t('状态', 'State'), (e) => v(STATES, e.state)],
    [t('经办', 'By'), (e) => e.by], [t('说明', 'Note'), (e) => e.note]], p.timeline || [])));
  const reason = input('reason', { size: 24, placeholder: t('理由（必填）', 'reason (required)') });
  if (p.state === 'submitted') main.append(card(t('管家团队审议', 'Steward team decision'), h('div', { class: 'row' }, reason,
    h('button', { class: 'primary', onclick: async () => { if (await guard(() => post(`/v1/proposals/${id}/decision`, { accept: true, reason: reason.value }))) reload(t('已采纳', 'Accepted')); } }, t('采纳', 'Accept')),
    h('button', { onclick: async () => { if (await guard(() => post(`/v1/proposals/${id}/decision`, { accept: false, reason: reason.value }))) reload(t('未采纳', 'Rejected')); } }, t('不采纳', 'Reject'))),
  personPicker(async (x) => { if (await guard(() => post(`/v1/proposals/${id}/supports`, { person_id: x.person_id }))) reload(t('已记录支持', 'Support recorded')); }, t('记录居民支持', 'Record a supporter'))));
  if (p.state === 'accepted') {
    const dl = input('deadline', { type: 'datetime-local', required: true });
    main.append(card(t('公开招投标', 'Public tender'), h('div', { class: 'row' }, field(t('截止时间', 'Deadline'), dl),
      h('button', { class: 'primary', onclick: async () => { if (await guard(() => post(`/v1/proposals/${id}/tender`, { deadline: new Date(dl.value).toISOString() }))) reload(t('已发布招标', 'Tender open')); } }, t('发布招标', 'Open tender')))));
  }
  if (['tendering', 'awarded', 'completed', 'failed'].includes(p.state)) {
    const bids = (await get(`/v1/proposals/${id}/bids`)).bids || [];
    const sealed = bids.some((b) => b.sealed);
    const ms = await all('/v1/merchants', 'merchants', 5);
    const bf = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault(); const q = formData(bf);
      if (await guard(() => post(`/v1/proposals/${id}/bids`, { bidder_merchant_id: q.m, amount_cents: Math.round(Number(q.amount) * 100), plan: q.plan }))) reload(t('已投标', 'Bid recorded'));
    } }, field(t('投标单位', 'Bidder'), select('m', ms.map((m) => [m.id, m.name]), '')), field(t('报价（元）', 'Amount'), input('amount', { type: 'number', step: 0.01, required: true })),
    field(t('方案', 'Plan'), input('plan', { size: 20, required: true })), h('button', { type: 'submit' }, t('投标', 'Bid')));
    main.append(card(t('投标', 'Bids') + (sealed ? t('（截止前密封）', ' (sealed until the deadline)') : ''), table([
      [t('投标单位', 'Bidder'), (b) => (ms.find((m) => m.id === b.bidder_merchant_id) || {}).name || b.bidder_merchant_id],
      [t('报价', 'Amount'), (b) => b.sealed ? h('span', { class: 'chip warn' }, t('密封', 'sealed')) : yuan(b.amount_cents)],
      [t('方案', 'Plan'), (b) => b.sealed ? '—' : b.plan],
      ['', (b) => p.state === 'tendering' && !b.sealed ? h('button', { class: 'small primary', onclick: async () => {
        const why = prompt(t('中标理由', 'Reason for the award')); if (why && await guard(() => post(`/v1/proposals/${id}/award`, { bid_id: b.id, reason: why }))) reload(t('已定标', 'Awarded'));
      } }, t('定标', 'Award')) : '']], bids), p.state === 'tendering' ? bf : null));
  }
  if (p.state === 'awarded') {
    const spent = input('spent', { type: 'number', step: 0.01 }); const note = input('note', { size: 20 });
    const acc = (passed) => async () => { if (await guard(() => post(`/v1/proposals/${id}/acceptance`, { passed, spent_cents: Math.round(Number(spent.value || 0) * 100), note: note.value }))) reload(t('已验收', 'Recorded')); };
    main.append(card(t('项目验收', 'Acceptance'), h('div', { class: 'row' }, field(t('实际支出（元）', 'Spent (yuan)'), spent), field(t('说明', 'Note'), note),
      h('button', { class: 'primary', onclick: acc(true) }, t('验收通过', 'Pass')), h('button', { onclick: acc(false) }, t('不通过', 'Fail')))));
  }
}

async function problems (main) {
  main.append(h('h2', {}, t('问题清单与满意度调查', 'Problem list and surveys')));
  const body = h('div', {});
  main.append(body);
  await orUnavailable(body, t('问题清单', 'The problem list'), async () => {
    const [r, ms] = await Promise.all([get('/v1/problems'), all('/v1/merchants', 'merchants', 5)]);
    const units = ms.filter((m) => m.co_building);
    const reload = (msg) => { toast(msg); go('#/problems?' + Date.now()); };
    body.append(card(t('问题清单（民意征集）', 'Problems (from opinion collection)'), table([
      [t('问题', 'Problem'), (p) => p.title], [t('地点', 'Place'), (p) => p.place], [t('状态', 'State'), (p) => stateChip(STATES, p.state, v)],
      [t('认领单位', 'Claimed by'), (p) => (ms.find((m) => m.id === p.claimer_merchant_id) || {}).name || ''],
      [t('进展', 'Progress'), (p) => (p.progress || []).map((x) => x.note).join('；')],
      ['', (p) => p.state === 'listed' ? h('div', { class: 'row' }, select('u', units.map((m) => [m.id, m.name]), ''), h('button', { class: 'small', onclick: async (e) => {
        const u = e.target.previousSibling.value; if (await guard(() => post(`/v1/problems/${p.id}/claims`, { unit_merchant_id: u }))) reload(t('已认领', 'Claimed'));
      } }, t('认领', 'Claim'))) : p.state === 'claimed' ? h('button', { class: 'small', onclick: async () => {
        const note = prompt(t('进展说明（完成请以“完成”开头）', 'Progress note (start with "done" when finished)'));
        if (note && await guard(() => post(`/v1/problems/${p.id}/progress`, { note, done: /^(完成|done)/i.test(note) }))) reload(t('已记录', 'Recorded'));
      } }, t('报进展', 'Progress')) : '']], r.problems || [])));
    const f = h('form', { class: 'row', onsubmit: async (e) => { e.preventDefault(); if (await guard(() => post('/v1/problems', formData(f)))) reload(t('已列入', 'Listed')); } },
      field(t('问题', 'Problem'), input('title', { required: true, size: 20 })), field(t('地点', 'Place'), input('place', { required: true })),
      field(t('来源', 'Source'), input('source', { value: t('民意征集', 'opinion collection') })), h('button', { class: 'primary', type: 'submit' }, t('列入清单', 'Add')));
    body.append(card(t('新问题', 'New problem'), f));
    // Surveys: create and see results once closed.
    const sf = h('form', { onsubmit: async (e) => {
      e.preventDefault(); const q = formData(sf);
      const questions = q.questions.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
        const [kind, text, opts] = l.split('|'); return { text, kind, options: opts ? opts.split(/[,，]/) : [] };
      });
      const s = await guard(() => post('/v1/surveys', { title: q.title, closes_at: new Date(q.closes_at).toISOString(), questions }));
      if (s) toast(t('调查已发布：', 'Survey: ') + s.id);
    } }, h('div', { class: 'row' }, field(t('标题', 'Title'), input('title', { required: true })), field(t('截止', 'Closes'), input('closes_at', { type: 'datetime-local', required: true }))),
    h('p', { class: 'muted' }, t('每行一题：类型|题目|选项（choice 用逗号分隔）；类型为 choice、scale 或 text', 'One question a line: kind|text|options (choice: comma separated); kind choice, scale or text')),
    h('textarea', { name: 'questions', required: true, placeholder: 'scale|对本次活动的满意度\nchoice|下次活动时间|周六,周日' }), h('button', { class: 'primary', type: 'submit' }, t('发布调查', 'Publish survey')));
    const sid = input('sid', { size: 8, placeholder: 'id' }); const res = h('div', {});
    body.append(card(t('满意度调查', 'Satisfaction surveys'), sf, h('div', { class: 'row', style: 'margin-top:10px' }, sid, h('button', { onclick: async () => {
      const x = await guard(() => get(`/v1/surveys/${encodeURIComponent(sid.value.trim())}/results`));
      if (x) res.replaceChildren(h('p', {}, t(`共 ${x.responses} 份，满意度 ${x.satisfaction_percent}%`, `${x.responses} responses, ${x.satisfaction_percent}% satisfied`)),
        barChart((x.questions || []).map((qq, i) => ({ label: 'Q' + (i + 1), value: Number((qq.mean || 0).toFixed ? qq.mean.toFixed(1) : 0) }))));
    } }, t('查看结果', 'Results'))), res));
  });
}

export default {
  routes: [
    { path: /^\/proposals$/, render: pipeline },
    { path: /^\/proposal\/([\w-]+)$/, render: proposal },
    { path: /^\/problems$/, render: problems },
  ],
};
