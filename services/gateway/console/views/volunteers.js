// volunteers - closed-loop service orders, circles and hours (SPEC §4
// "Volunteers"). Degrades to a notice while the routes answer 404.
import { t, v, STATES, CATEGORIES, KINDS } from '../i18n.js';
import { get, post, qs, newKey } from '../api.js';
import { h, card, table, field, input, select, formData, guard, toast, when, personPicker, orUnavailable, stateChip, month, barChart, personNames } from '../ui.js';
import { go } from '../app.js';

const ORDER_STATES = ['open', 'dispatched', 'accepted', 'done', 'confirmed'];
const escalated = (o) => o.escalated || (o.events || []).some((e) => e.state === 'escalated' || /escalat/.test(e.note || ''));

async function page (main, mt, params) {
  const state = params.get('state') || 'open';
  main.append(h('h2', {}, t('志愿服务 · 按需服务、闭环运作', 'Volunteer service: the closed loop')));
  const body = h('div', {});
  main.append(body);
  await orUnavailable(body, t('志愿服务', 'Volunteers'), async () => {
    const r = await get('/v1/service-orders' + qs({ state }));
    const names = await personNames((r.orders || []).flatMap((o) => [o.volunteer_person_id, o.requester_person_id]));
    const act = (o) => {
      const done = (msg) => { toast(msg); go('#/volunteers?state=' + state + '&' + Date.now()); };
      if (o.state === 'dispatched') return h('div', { class: 'row' },
        h('button', { class: 'small primary', onclick: async () => { if (await guard(() => post(`/v1/service-orders/${o.id}/accept`, { volunteer_person_id: o.volunteer_person_id }))) done(t('已接单', 'Accepted')); } }, t('接单', 'Accept')),
        h('button', { class: 'small', onclick: async () => { const reason = prompt(t('婉拒原因', 'Reason')); if (reason && await guard(() => post(`/v1/service-orders/${o.id}/decline`, { volunteer_person_id: o.volunteer_person_id, reason }))) done(t('已改派', 'Re-dispatched')); } }, t('婉拒', 'Decline')));
      if (o.state === 'accepted') return h('button', { class: 'small primary', onclick: async () => { const m = Number(prompt(t('服务分钟数', 'Minutes served'), '60')); if (m && await guard(() => post(`/v1/service-orders/${o.id}/done`, { minutes: m }))) done(t('已完成', 'Done')); } }, t('完成', 'Done'));
      if (o.state === 'done') return h('button', { class: 'small primary', onclick: async () => { const rt = Number(prompt(t('居民评分 1–5', 'Rating 1–5'), '5')); if (rt && await guard(() => post(`/v1/service-orders/${o.id}/confirm`, { rating: rt }))) done(t('已确认，时长计入', 'Confirmed; hours counted')); } }, t('居民确认', 'Confirm'));
      return '';
    };
    body.append(card(null, h('div', { class: 'tabs' }, ORDER_STATES.map((s) => h('button', { class: s === state ? 'on' : null, onclick: () => go('#/volunteers?state=' + s) }, v(STATES, s)))),
      table([[t('类别', 'Category'), (o) => v(CATEGORIES, o.category)], [t('内容', 'Detail'), (o) => o.detail],
        [t('求助居民', 'Resident'), (o) => names[o.requester_person_id] || ''],
        [t('状态', 'State'), (o) => [stateChip(STATES, o.state, v), escalated(o) ? h('span', { class: 'chip red' }, t('已督办', 'escalated')) : '']],
        [t('志愿者', 'Volunteer'), (o) => names[o.volunteer_person_id] || ''], [t('最近', 'Last'), (o) => { const e = (o.events || []).slice(-1)[0]; return e ? (e.at || '').slice(5, 16).replace('T', ' ') + ' ' + (e.note || '') : ''; }],
        ['', act]], r.orders || [], { hot: escalated })));
    let requester = null;
    const who = h('span', { class: 'muted' });
    const f = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      if (!requester) return toast(t('请选择求助居民', 'Choose the resident'), true);
      const q = formData(f);
      const o = await guard(() => post('/v1/service-orders', { requester_person_id: requester.person_id, category: q.category, detail: q.detail, idempotency_key: newKey('order') }));
      if (o) { toast(t('已下单：', 'Order: ') + v(STATES, o.state)); go('#/volunteers?state=' + o.state); }
    } }, field(t('类别', 'Category'), select('category', Object.keys(CATEGORIES).map((k) => [k, v(CATEGORIES, k)]), 'repair')),
    field(t('内容', 'Detail'), input('detail', { size: 24, required: true })), h('button', { class: 'primary', type: 'submit' }, t('派单', 'Dispatch')));
    body.append(card(t('新服务单', 'New service order'), personPicker((p) => { requester = p; who.textContent = p.masked_name + ' ' + p.room; }, t('求助居民', 'Resident')), who, f));
    // Circles and this month's hours.
    const [circles, hours0] = await Promise.all([get('/v1/circles'), get('/v1/volunteer-hours' + qs({ month: month() }))]);
    const hrs = (min) => (Number(min || 0) / 60).toFixed(1);
    body.append(h('div', { class: 'cols' },
      card(t('服务圈', 'Circles'), table([[t('名称', 'Name'), (c) => c.name], [t('类型', 'Kind'), (c) => v(KINDS, c.kind)],
        [t('成员', 'Members'), (c) => (c.members || []).length], [t('本月时长', 'This month (h)'), (c) => hrs(c.month_minutes)], [t('累计', 'Total (h)'), (c) => hrs(c.total_minutes)]], circles.circles || [])),
      card(t('本月各服务圈时长（小时）', "This month's hours by circle"), (hours0.circles || []).length
        ? barChart(hours0.circles.map((c) => ({ label: c.name, value: Number(hrs(c.minutes)) })))
        : h('p', { class: 'muted' }, t('本月暂无', 'None this month')))));
    // Volunteers, circles, hours.
    let vol = null;
    const vwho = h('span', { class: 'muted' });
    const hours = h('div', {});
    const skills = input('skills', { size: 20, placeholder: 'repair, tutoring' });
    const circle = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      if (!vol) return toast(t('请先选择圈长', 'Choose the leader first'), true);
      const q = formData(circle);
      if (await guard(() => post('/v1/circles', { name: q.name, kind: q.kind, leader_person_id: vol.person_id }))) toast(t('服务圈已建立', 'Circle created'));
    } }, field(t('圈名', 'Name'), input('name', { required: true })),
    field(t('类型', 'Kind'), select('kind', ['party_pioneer', 'elderly_mutual_aid', 'interest', 'moms_help'].map((k) => [k, v(KINDS, k)]), 'interest')),
    h('button', { type: 'submit' }, t('以所选志愿者为圈长建圈', 'Create circle led by the chosen volunteer')));
    body.append(card(t('志愿者、服务圈与时长', 'Volunteers, circles and hours'),
      personPicker(async (p) => {
        vol = p; vwho.textContent = p.masked_name + ' ' + p.room;
        const r2 = await get('/v1/volunteers/' + p.person_id).catch(() => null);
        hours.replaceChildren(r2 ? h('div', { class: 'stats' },
          [[t('累计时长', 'Total hours'), (r2.total_minutes / 60).toFixed(1)], [t('本月时长', 'This month'), (r2.month_minutes / 60).toFixed(1)],
            [t('完成服务', 'Orders confirmed'), r2.orders_confirmed], [t('服务圈', 'Circles'), (r2.circles || []).length]].map(([k, x]) => h('div', { class: 'stat' }, h('div', { class: 'muted' }, k), h('div', { class: 'big' }, x))))
          : h('p', { class: 'muted' }, t('尚未登记为志愿者', 'Not a volunteer yet')));
      }, t('志愿者', 'Volunteer')), vwho, hours,
      h('div', { class: 'row' }, field(t('技能（逗号分隔）', 'Skills'), skills), h('button', { onclick: async () => {
        if (!vol) return;
        if (await guard(() => post('/v1/volunteers', { person_id: vol.person_id, skills: skills.value.split(/[,，\s]+/).filter(Boolean) }))) toast(t('已登记为志愿者', 'Registered'));
      } }, t('登记为志愿者', 'Register as volunteer'))), circle));
  });
}

export default { routes: [{ path: /^\/volunteers$/, render: page }] };
