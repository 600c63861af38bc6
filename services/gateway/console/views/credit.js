// credit - 诚信: boards and rankings (with the A4 print view), a person's
// credit file and statement, appeals, card codes, the school's pupil view.
import { t, v, RULES, KINDS, STATES } from '../i18n.js';
import { get, post, qs, all, svg } from '../api.js';
import { h, card, table, field, input, select, guard, toast, month, age, barChart, stateChip, when, maskName } from '../ui.js';

const APPEAL = { open: ['待裁定', 'Open'], accepted: ['已支持', 'Upheld'], rejected: ['已驳回', 'Dismissed'] };
import { go, session } from '../app.js';

function monthPicker (m, onChange) {
  return h('input', { type: 'month', value: m, max: month(), onchange: (e) => onChange(e.target.value) });
}

// Ops closes a past month: its boards are published as they stand and
// nothing more is dated into it (a later correction counts in this month).
async function closeMonth (m) {
  if (!window.confirm(t(`结束 ${m} 的评定并公示？此后不能再记入该月。`, `Close ${m} and publish its boards? Nothing more can be dated into it.`))) return;
  try {
    const c = await post('/v1/credit/months/' + m + '/close');
    toast(t('已公示：', 'Published: ') + c.published_at);
    go('#/board?month=' + m + '&t=' + Date.now());
  } catch (e) { toast(e.message, true); }
}

async function board (main, mt, params) {
  const m = params.get('month') || month();
  main.append(h('h2', {}, t('诚信红灰榜与评比', 'Honour board and rankings')));
  const tools = h('div', { class: 'row' },
    field(t('月份', 'Month'), monthPicker(m, (x) => go('#/board?month=' + x))),
    session.role === 'ops' ? h('button', { class: 'primary', onclick: () => go('#/print/board?month=' + m) }, t('打印公示版（A4）', 'Print view (A4)')) : null);
  main.append(card(null, tools));
  const [hb, homes, blds] = await Promise.all([
    get('/v1/credit/honor-board' + qs({ month: m })),
    get('/v1/credit/rankings/households' + qs({ month: m })),
    get('/v1/credit/rankings/buildings' + qs({ month: m }))]);
  //  A past month still open can be closed; a closed one says when.
  if (hb.published_at) tools.append(h('span', { class: 'muted' }, t('已公示：', 'Published: ') + hb.published_at.slice(0, 16).replace('T', ' ')));
  else if (session.role === 'ops' && m < month()) tools.append(h('button', { id: 'close-month', onclick: () => closeMonth(m) }, t('结束本月评定并公示', 'Close the month and publish')));
  const rowCols = [['#', (r) => r.i], [t('姓名', 'Name'), (r) => session.role === 'ops' ? h('a', { href: '#/person/' + r.person_id }, r.name) : r.name],
    [t('本月积分', 'Month points'), (r) => r.month_points], [t('诚信指数', 'Index'), (r) => r.index]];
  const num = (rows) => rows.map((r, i) => Object.assign({ i: i + 1 }, r));
  main.append(h('div', { class: 'cols' },
    card(t('红榜', 'Red list'), table(rowCols, num(hb.red), { empty: t('本月暂无', 'None this month') })),
    card(t('灰榜', 'Grey list'), table(rowCols, num(hb.grey), { empty: t('本月暂无', 'None this month') }))));
  main.append(h('div', { class: 'cols' },
    card(t('最美家庭', 'Most beautiful families'), table([['#', (r) => r.rank], [t('住户', 'Household'), (r) => r.building_number + t('号楼 ', ' · ') + r.id],
      [t('人数', 'Members'), (r) => r.members], [t('本月积分', 'Points'), (r) => r.month_points]], homes.rows.slice(0, 10))),
    card(t('和谐楼宇', 'Harmonious buildings'), table([['#', (r) => r.rank], [t('楼栋', 'Building'), (r) => r.building_number || r.id],
      [t('人均', 'Per person'), (r) => Number(r.average_points).toFixed(1)], [t('本月积分', 'Points'), (r) => r.month_points]], blds.rows))));
  main.append(card(t('本月各楼积分', "This month's points by building"),
    barChart(blds.rows.map((r) => ({ label: r.building_number || r.id, value: Number(r.month_points) })), { title: 'points by building' })));
}

// The A4 sheet the office posts: names masked (as the ledger prints them),
// minors left out (their birth year from the household file).
async function printBoard (main, mt, params) {
  const m = params.get('month') || month();
  const [hb, homes, blds] = await Promise.all([
    get('/v1/credit/honor-board' + qs({ month: m })),
    get('/v1/credit/rankings/households' + qs({ month: m })),
    get('/v1/credit/rankings/buildings' + qs({ month: m }))]);
  const ids = [...new Set(hb.red.concat(hb.grey).map((r) => r.person_id))];
  const adult = {};
  await Promise.all(ids.map(async (id) => {
    try { const p = await get('/v1/persons/' + id); adult[id] = !p.birth_year || age(p.birth_year) >= 18; } catch (e) { adult[id] = false; }
  }));
  const rows = (list) => list.filter((r) => adult[r.person_id]);
  const [y, mo] = m.split('-');
  const tbl = (list) => table([['#', (r) => r.i], [t('姓名', 'Name'), (r) => maskName(r.name)], [t('本月积分', 'Points'), (r) => (r.month_points > 0 ? '+' : '') + r.month_points]],
    rows(list).map((r, i) => Object.assign({ i: i + 1 }, r)), { empty: t('本月暂无', 'None') });
  main.append(h('div', { class: 'noprint row', style: 'margin-bottom:10px' },
    h('button', { class: 'primary', onclick: () => window.print() }, t('打印', 'Print')),
    h('button', { onclick: () => go('#/board?month=' + m) }, t('返回', 'Back'))));
  main.append(h('div', { class: 'sheet', id: 'print-sheet' },
    h('h1', {}, t(`塔山社区 ${y}年${Number(mo)}月 诚信红灰榜`, `Tashan community honour board, ${m}`)),
    h('div', { class: 'sub' }, t('姓名已脱敏，未成年人不上榜', 'Names masked; minors are not listed'),
      hb.published_at ? t('　·　公示于 ', ' · published ') + hb.published_at.slice (0, 10) : t('　·　未公示（本月评定尚未结束）', ' · not yet published (the month is still open)')),
    h('div', { class: 'cols' }, h('div', {}, h('h3', {}, t('红榜', 'Red list')), tbl(hb.red)), h('div', {}, h('h3', {}, t('灰榜', 'Grey list')), tbl(hb.grey))),
    h('div', { class: 'cols', style: 'margin-top:16px' },
      h('div', {}, h('h3', {}, t('最美家庭', 'Most beautiful families')), table([['#', (r) => r.rank], [t('楼栋', 'Building'), (r) => r.building_number + t('号楼', '')], [t('积分', 'Points'), (r) => r.month_points]], homes.rows.slice(0, 5))),
      h('div', {}, h('h3', {}, t('和谐楼宇', 'Harmonious buildings')), table([['#', (r) => r.rank], [t('楼栋', 'Building'), (r) => (r.building_number || r.id) + t('号楼', '')], [t('人均积分', 'Per person'), (r) => Number(r.average_points).toFixed(1)]], blds.rows.slice(0, 5)))),
    h('h3', { style: 'margin-top:16px' }, t('各楼本月积分', 'Points by building')),
    barChart(blds.rows.map((r) => ({ label: r.building_number || r.id, value: Number(r.month_points) }))),
    h('p', { class: 'sub', style: 'margin-top:18px' }, t('塔山社区居委会 · 评定小组', 'Tashan residents\' committee · evaluation panel'))));
}

async function person (main, mt) {
  const id = mt[1];
  const [p, c, rules] = await Promise.all([get('/v1/persons/' + id), get('/v1/credit/persons/' + id), get('/v1/credit/rules')]);
  const desc = Object.fromEntries((rules.rules || []).map((r) => [r.code, r.description]));
  main.append(h('h2', {}, p.name, ' ', h('span', { class: 'muted' }, p.birth_year ? age(p.birth_year) + t('岁', ' y') : ''), ' ',
    h('a', { href: '#/household/' + p.household_id, style: 'font-size:14px' }, t('户档', 'Household file'))));
  main.append(card(null, h('div', { class: 'stats' },
    h('div', { class: 'stat' }, h('div', { class: 'muted' }, t('诚信指数', 'Index')), h('div', { class: 'big' }, c.index)),
    h('div', { class: 'stat' }, h('div', { class: 'muted' }, t('等级', 'Tier')), h('div', { class: 'big' }, c.tier)),
    h('div', { class: 'stat' }, h('div', { class: 'muted' }, t('储值卡积分', 'Card')), h('div', { class: 'big' }, c.card)),
    h('div', { class: 'stat' }, h('div', { class: 'muted' }, t('本月积分', 'This month')), h('div', { class: 'big' }, c.month_points)))));
  const entries = await all(`/v1/credit/persons/${id}/entries`, 'entries', 5);
  main.append(card(t('积分明细（对账单）', 'Statement'), table([
    [t('时间', 'When'), (e) => e.created_at.slice(0, 16).replace('T', ' ')],
    [t('月份', 'Month'), (e) => e.month],
    [t('类型', 'Kind'), (e) => v(KINDS, e.kind)],
    [t('事项', 'What'), (e) => h('span', { title: desc[e.rule] || '' }, v(RULES, e.rule))],
    [t('分值', 'Points'), (e) => (e.points > 0 ? '+' : '') + e.points],
    [t('计入', 'Counted'), (e) => e.effective_points + (e.reason ? ' (' + e.reason + ')' : '')],
    [t('来源', 'Source'), (e) => e.source + (e.evaluator ? ' · ' + e.evaluator : '')],
    [t('备注', 'Note'), (e) => e.note],
    ['', (e) => e.kind === 'penalty' || e.kind === 'earning' ? h('button', { class: 'small', onclick: async () => {
      const reason = prompt(t('申诉理由', 'Reason for the appeal'));
      if (reason && await guard(() => post('/v1/credit/appeals', { entry_id: e.id, reason }))) toast(t('申诉已提交', 'Appeal filed'));
    } }, t('申诉', 'Appeal')) : '']], entries.slice().reverse())));
  // Card codes: issue, list, revoke; print a pupil's card; phone page.
  const codes = await get(`/v1/persons/${id}/card-codes`);
  const hours = input('valid_hours', { type: 'number', min: 1, max: 9000, value: 24, size: 5 });
  const printed = h('input', { type: 'checkbox' });
  main.append(card(t('储值共享卡 · 亮码', 'Card code'),
    h('div', { class: 'row' }, field(t('有效小时', 'Valid hours'), hours),
      h('label', { class: 'check' }, printed, t('印在学生卡上', 'printed card')),
      h('button', { class: 'primary', onclick: async () => {
        const r = await guard(() => post(`/v1/persons/${id}/card-code`, { valid_hours: Number(hours.value), printed: printed.checked, replace: printed.checked }));
        if (r) { sessionStorage.setItem('tashan_code_' + id, JSON.stringify(r)); go(printed.checked ? '#/cardprint/' + id : '#/mycode/' + id); }
      } }, t('生成亮码', 'Issue code'))),
    table([[t('签发', 'Issued'), (x) => x.issued_at.slice(0, 16).replace('T', ' ')], [t('有效至', 'Expires'), (x) => x.expires_at.slice(0, 16).replace('T', ' ')],
      [t('等级', 'Tier'), (x) => x.tier], [t('卡片', 'Printed'), (x) => x.printed ? t('是', 'yes') : ''],
      [t('状态', 'State'), (x) => x.revoked_at ? h('span', { class: 'chip red' }, t('已作废', 'revoked')) : h('button', { class: 'small', onclick: async () => {
        if (await guard(() => post(`/v1/card-codes/${x.id}/revoke`, { reason: 'lost' }))) { toast(t('已作废', 'Revoked')); go('#/person/' + id + '?' + Date.now()); }
      } }, t('作废', 'Revoke'))]], codes.codes || [])));
}

async function codeSheet (main, mt, pupilCard) {
  const id = mt[1];
  const saved = JSON.parse(sessionStorage.getItem('tashan_code_' + id) || 'null');
  if (!saved) { main.append(h('p', {}, t('请先在诚信档案里生成亮码。', 'Issue a code from the credit file first.'))); return; }
  const p = await get('/v1/persons/' + id);
  const qr = h('div', { class: 'qr', id: 'code-qr', html: await svg('/v1/qr.svg' + qs({ text: saved.code })) });
  const back = h('div', { class: 'noprint row', style: 'margin-bottom:10px' },
    pupilCard ? h('button', { class: 'primary', onclick: () => window.print() }, t('打印', 'Print')) : null,
    h('button', { onclick: () => go('#/person/' + id) }, t('返回', 'Back')));
  if (pupilCard) {
    main.append(back, h('div', { class: 'sheet' }, h('div', { class: 'pcard' }, qr,
      h('div', {}, h('strong', { style: 'color:#a61b1b' }, t('塔山社区 储值共享卡', 'Tashan shared card')), h('div', {}, maskName(p.name)),
        h('div', { class: 'muted' }, (p.school_id || '') + ' ' + (p.pupil_no || '')),
        h('div', { class: 'muted' }, t('有效至 ', 'Valid to ') + saved.expires_at.slice(0, 10))))));
  } else {
    main.append(back, h('div', { class: 'phone card' }, h('h3', {}, t('我的储值共享卡', 'My shared card')),
      h('p', { class: 'muted' }, t('结账时请向商户出示此码', 'Show this code at the till')), qr,
      h('div', { class: 'big' }, saved.tier || ''), h('p', { class: 'muted' }, t('有效至 ', 'Valid until ') + saved.expires_at.slice(0, 16).replace('T', ' '))));
  }
}

async function appeals (main, mt, params) {
  const status = params.get('status') || 'open';
  main.append(h('h2', {}, t('积分申诉', 'Appeals')));
  main.append(card(null, h('div', { class: 'tabs' }, ['open', 'accepted', 'rejected', ''].map((s) =>
    h('button', { class: s === status ? 'on' : null, onclick: () => go('#/appeals?status=' + s) }, s ? v(APPEAL, s) : t('全部', 'All'))))));
  const list = await all('/v1/credit/appeals' + qs({ status }), 'appeals', 3);
  main.append(card(null, table([
    [t('提交', 'Filed'), (a) => a.created_at.slice(0, 16).replace('T', ' ')],
    [t('居民', 'Person'), (a) => h('a', { href: '#/person/' + a.person_id }, t('查看', 'open'))],
    [t('理由', 'Reason'), (a) => a.reason],
    [t('状态', 'Status'), (a) => stateChip(APPEAL, a.status, v)],
    [t('裁定', 'Decision'), (a) => a.status !== 'open' ? a.decision_reason : decide(a)]], list)));
  function decide (a) {
    const reason = input('reason', { size: 18, placeholder: t('裁定理由（必填）', 'reason (required)') });
    const act = (accept) => async () => {
      if (!reason.value.trim()) { reason.focus(); return toast(t('请填写裁定理由', 'A reason is required'), true); }
      if (await guard(() => post(`/v1/credit/appeals/${a.id}/decision`, { accept, reason: reason.value.trim() }))) { toast(t('已裁定', 'Decided')); go('#/appeals?status=' + status + '&' + Date.now()); }
    };
    return h('div', { class: 'row' }, reason, h('button', { class: 'small primary', onclick: act(true) }, t('支持', 'Uphold')), h('button', { class: 'small', onclick: act(false) }, t('驳回', 'Dismiss')));
  }
}

async function pupil (main) {
  main.append(h('h2', {}, t('学生社区信用', "Pupils' community credit")));
  const no = input('pupil_no', { required: true, size: 10 });
  const mo = h('input', { type: 'month', value: month(), max: month() });
  const out = h('div', {});
  main.append(card(null, h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    const r = await guard(() => get(`/v1/school/pupils/${encodeURIComponent(no.value.trim())}/credit` + qs({ month: mo.value })));
    if (r) out.replaceChildren(card(null, h('div', { class: 'stats' },
      h('div', { class: 'stat' }, h('div', { class: 'muted' }, t('本月积分', 'Month points')), h('div', { class: 'big' }, r.month_points)),
      h('div', { class: 'stat' }, h('div', { class: 'muted' }, t('诚信指数', 'Index')), h('div', { class: 'big' }, r.index)),
      h('div', { class: 'stat' }, h('div', { class: 'muted' }, t('等级', 'Tier')), h('div', { class: 'big' }, r.tier)))));
  } }, field(t('学号', 'Pupil no.'), no), field(t('月份', 'Month'), mo), h('button', { class: 'primary', type: 'submit' }, t('查询', 'Look up')))), out);
}

export default {
  routes: [
    { path: /^\/board$/, render: board },
    { path: /^\/print\/board$/, render: printBoard },
    { path: /^\/person\/([\w-]+)$/, render: person },
    { path: /^\/mycode\/([\w-]+)$/, render: (m, x) => codeSheet(m, x, false) },
    { path: /^\/cardprint\/([\w-]+)$/, render: (m, x) => codeSheet(m, x, true) },
    { path: /^\/appeals$/, render: appeals },
    { path: /^\/pupil$/, render: pupil },
  ],
};
