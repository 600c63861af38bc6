// merchants - 一户一码: registry, QR poster, markets with live stats, notices.
import { t, v, KINDS, STATES } from '../i18n.js';
import { get, post, qs, all, svg } from '../api.js';
import { h, card, table, field, input, select, formData, guard, toast, barChart, stateChip, when } from '../ui.js';
import { go, session } from '../app.js';

const kindOptions = () => Object.keys(KINDS).slice(0, 3).map((k) => [k, v(KINDS, k)]);
const list = (s) => s.split(/[,，、]+/).map((x) => x.trim()).filter(Boolean);
export const publicUrl = (code) => location.origin + '/c/' + encodeURIComponent(code);

async function registry (main, mt, params) {
  main.append(h('h2', {}, t('一户一码 · 商户名录', 'Merchant registry')));
  const ms = await all('/v1/merchants', 'merchants', 5);
  const out = h('div', {});
  const f = h('form', { class: 'row', oninput: () => show(), onsubmit: (e) => e.preventDefault() },
    field(t('名称', 'Name'), input('q', { size: 10 })),
    field(t('类型', 'Kind'), select('kind', [['', t('全部', 'All')]].concat(kindOptions()), '')),
    field(t('行业', 'Category'), select('category', [['', t('全部', 'All')]].concat([...new Set(ms.map((m) => m.category))].map((c) => [c, c])), '')),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'co' }), t('只看共建单位', 'Co-building units only')));
  const show = () => {
    const q = formData(f);
    const rows = ms.filter((m) => (!q.q || m.name.includes(q.q)) && (!q.kind || m.kind === q.kind) && (!q.category || m.category === q.category) && (!q.co || m.co_building));
    out.replaceChildren(h('p', { class: 'muted' }, t(`共 ${rows.length} 家`, `${rows.length} merchants`)), table([
      [t('名称', 'Name'), (m) => h('a', { href: '#/merchant/' + m.id }, m.name)],
      [t('类型', 'Kind'), (m) => v(KINDS, m.kind)],
      [t('行业', 'Category'), (m) => m.category],
      [t('共建', 'Co-building'), (m) => m.co_building ? h('span', { class: 'chip ok' }, t('共建单位', 'co-building')) : ''],
      [t('诚信', 'Standing'), (m) => stateChip(STATES, m.standing, v)]], rows));
  };
  const nf = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    const q = formData(nf);
    const m = await guard(() => post('/v1/merchants', { name: q.name, kind: q.kind, category: q.category, address: q.address,
      services: list(q.services), free_services: list(q.free_services), licence_no: q.licence_no, co_building: q.co_building }));
    if (m) { toast(t('商户已登记', 'Merchant registered')); go('#/merchant/' + m.id); }
  } },
  field(t('名称', 'Name'), input('name', { required: true, maxlength: 64 })),
  field(t('类型', 'Kind'), select('kind', kindOptions(), 'individual')),
  field(t('行业', 'Category'), input('category', { required: true, size: 8 })),
  field(t('地址', 'Address'), input('address', { size: 14 })),
  field(t('营业执照号', 'Licence no.'), input('licence_no', { size: 12 })),
  field(t('服务项目（逗号分隔）', 'Services (comma separated)'), input('services', { size: 16 })),
  field(t('免费服务', 'Free services'), input('free_services', { size: 12 })),
  h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'co_building' }), t('共建单位', 'Co-building unit')),
  h('button', { class: 'primary', type: 'submit' }, t('登记商户', 'Register')));
  main.append(card(null, f), out, card(t('登记新商户', 'Register a merchant'), nf));
  show();
}

async function merchant (main, mt) {
  const id = mt[1];
  const m = await get('/v1/merchants/' + id);
  main.append(h('h2', {}, m.name, ' ', stateChip(STATES, m.standing, v), m.co_building ? h('span', { class: 'chip ok' }, t('共建单位', 'co-building')) : ''));
  const url = publicUrl(m.code);
  main.append(h('div', { class: 'cols' },
    card(t('基本信息', 'Details'), table([[t('项目', 'Field'), (r) => r[0]], [t('内容', 'Value'), (r) => r[1]]], [
      [t('类型', 'Kind'), v(KINDS, m.kind)], [t('行业', 'Category'), m.category], [t('地址', 'Address'), m.address],
      [t('营业执照', 'Licence'), m.licence_no], [t('服务项目', 'Services'), m.services.join('、')], [t('免费服务', 'Free services'), m.free_services.join('、')]])),
    card(t('商户码', 'Merchant code'), h('div', { class: 'qr', html: await svg('/v1/qr.svg' + qs({ text: url })) }),
      h('p', {}, h('a', { href: url, target: '_blank', id: 'public-link' }, t('公示页面', 'Public page'))),
      h('button', { class: 'primary', onclick: () => go('#/poster/' + id) }, t('打印二维码海报', 'Print QR poster')))));
  const comp = await get(`/v1/merchants/${id}/complaints`);
  const cf = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    if (await guard(() => post(`/v1/merchants/${id}/complaints`, { summary: formData(cf).summary }))) { toast(t('已记录投诉', 'Complaint recorded')); go('#/merchant/' + id + '?' + Date.now()); }
  } }, field(t('投诉内容', 'Complaint'), input('summary', { size: 30, required: true })), h('button', { type: 'submit' }, t('记录投诉', 'Record')));
  main.append(card(t('投诉', 'Complaints'), table([[t('时间', 'When'), (c) => when(c.created_at_ms)], [t('内容', 'Summary'), (c) => c.summary], [t('状态', 'Status'), (c) => c.status]], comp.complaints || []), cf));
}

async function poster (main, mt) {
  const m = await get('/v1/merchants/' + mt[1]);
  main.append(h('div', { class: 'noprint row', style: 'margin-bottom:10px' },
    h('button', { class: 'primary', onclick: () => window.print() }, t('打印', 'Print')),
    h('button', { onclick: () => go('#/merchant/' + m.id) }, t('返回', 'Back'))));
  main.append(h('div', { class: 'sheet poster' }, h('h1', {}, m.name),
    h('div', { class: 'sub' }, t('塔山社区 一户一码 · 扫码查看商户公示信息', 'Tashan community · scan for this merchant\'s public record')),
    h('div', { class: 'qr', id: 'poster-qr', html: await svg('/v1/qr.svg' + qs({ text: publicUrl(m.code) })) }),
    h('p', {}, m.services.join(' · ')),
    m.co_building ? h('p', { class: 'chip ok' }, t('共建单位', 'Co-building unit')) : null,
    h('p', { class: 'muted' }, publicUrl(m.code))));
}

async function markets (main) {
  main.append(h('h2', {}, t('便民集市', 'Convenience markets')));
  // Each market comes with its stats (services, residents served...).
  const ms = (await all('/v1/markets', 'markets', 3)).map((m) => Object.assign({ id: m.market_id, s: m }, m))
    .sort((a, b) => a.date.localeCompare(b.date));
  const f = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    const mk = await guard(() => post('/v1/markets', formData(f)));
    if (mk) { toast(t('集市已创建', 'Market created')); go('#/market/' + mk.id); }
  } }, field(t('日期', 'Date'), input('date', { type: 'date', required: true })), field(t('地点', 'Place'), input('place', { required: true })),
  field(t('名称', 'Title'), input('title', { size: 16 })), h('button', { class: 'primary', type: 'submit' }, t('新建集市', 'New market')));
  main.append(card(t('新建集市', 'New market'), f));
  main.append(card(t('各场集市服务次数', 'Services per market over time'),
    barChart(ms.map((m) => ({ label: m.date.slice(5), value: m.checkins })), { title: 'services per market' })));
  main.append(card(t('集市场次', 'Sessions'), table([
    [t('日期', 'Date'), (m) => h('a', { href: '#/market/' + m.id }, m.date)],
    [t('名称', 'Title'), (m) => m.title], [t('地点', 'Place'), (m) => m.place],
    [t('服务次数', 'Services'), (m) => m.s ? m.s.checkins : ''], [t('服务居民', 'Residents'), (m) => m.s ? m.s.residents_served : ''],
    [t('参加商户', 'Merchants'), (m) => m.s ? m.s.merchants : '']], ms.slice().reverse())));
}

async function market (main, mt) {
  const id = mt[1];
  const [m, all_] = await Promise.all([get('/v1/markets/' + id), all('/v1/merchants', 'merchants', 5)]);
  main.append(h('h2', {}, `${m.title || t('便民集市', 'Market')} · ${m.date} · ${m.place}`));
  const live = h('div', {});
  const refresh = async () => {
    if (!document.body.contains(live)) return clearInterval(timer);
    const s = await get(`/v1/markets/${id}/stats`).catch(() => null);
    if (!s) return;
    live.replaceChildren(h('div', { class: 'stats' },
      [[t('服务次数', 'Services'), s.checkins], [t('服务居民', 'Residents served'), s.residents_served], [t('报名商户', 'Merchants enrolled'), s.merchants],
        [t('活跃商户', 'Active merchants'), s.merchants_active], [t('免费服务', 'Free services'), s.free_services_given]].map(([k, x]) =>
        h('div', { class: 'stat' }, h('div', { class: 'muted' }, k), h('div', { class: 'big' }, x)))),
    (s.services || []).length ? barChart(s.services.map((x) => ({ label: x.service, value: x.count }))) : '',
    h('p', { class: 'muted' }, t('每 10 秒自动刷新', 'Refreshes every 10 s')));
  };
  const timer = setInterval(refresh, 10000);
  await refresh();
  const good = all_.filter((x) => x.standing === 'good');
  const f = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    if (await guard(() => post(`/v1/markets/${id}/merchants`, { merchant_id: formData(f).merchant_id }))) { toast(t('已报名', 'Enrolled')); refresh(); }
  } }, field(t('商户（仅诚信良好）', 'Merchant (good standing only)'), select('merchant_id', good.map((x) => [x.id, x.name]), '')),
  h('button', { class: 'primary', type: 'submit' }, t('报名参加', 'Enrol')));
  main.append(card(t('实时统计', 'Live stats'), live), card(t('商户报名', 'Enrol a merchant'), f));
}

async function notices (main) {
  main.append(h('h2', {}, t('企业微圈 · 通知', 'Notices to merchants')));
  if (session.role === 'ops') {
    const f = h('form', { onsubmit: async (e) => {
      e.preventDefault();
      const q = formData(f);
      if (await guard(() => post('/v1/notices', { title: q.title, body: q.body, audience: q.audience }))) { toast(t('已发布', 'Posted')); go('#/notices?' + Date.now()); }
    } }, h('div', { class: 'row' }, field(t('标题', 'Title'), input('title', { required: true, size: 30 })),
      field(t('对象', 'Audience'), select('audience', [['all', t('全部商户', 'All merchants')], ['co_building', t('共建单位', 'Co-building units')]], 'all'))),
    h('p', {}, h('textarea', { name: 'body', required: true })), h('button', { class: 'primary', type: 'submit' }, t('发布通知', 'Post notice')));
    main.append(card(t('发布新通知', 'New notice'), f));
  }
  const r = await get('/v1/notices');
  main.append(card(t('已发布', 'Posted'), table([[t('时间', 'When'), (n) => when(n.created_at_ms)], [t('标题', 'Title'), (n) => n.title],
    [t('内容', 'Body'), (n) => n.body], [t('对象', 'Audience'), (n) => n.audience]], (r.notices || []).slice().reverse())));
}

export default {
  routes: [
    { path: /^\/merchants$/, render: registry },
    { path: /^\/merchant\/([\w-]+)$/, render: merchant },
    { path: /^\/poster\/([\w-]+)$/, render: poster },
    { path: /^\/markets$/, render: markets },
    { path: /^\/market\/([\w-]+)$/, render: market },
    { path: /^\/notices$/, render: notices },
  ],
};
