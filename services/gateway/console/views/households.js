// households - 一户一档: search, the household file, members, needs & matches.
import { t, v, TAGS, CATEGORIES, STATES } from '../i18n.js';
import { get, post, put, qs, all } from '../api.js';
import { h, card, table, field, input, select, formData, guard, toast, when, age, stateChip } from '../ui.js';
import { go } from '../app.js';

const tagOptions = () => [['', t('全部标签', 'Any tag')]].concat(Object.keys(TAGS).map((k) => [k, v(TAGS, k)]));
const catOptions = () => Object.keys(CATEGORIES).map((k) => [k, v(CATEGORIES, k)]);
const label = (x) => `${x.building}${t('号楼', '#')} ${x.unit ? x.unit + t('单元', '-') : ''}${x.room}${t('室', '')}`;

async function buildings () { return all('/v1/buildings', 'buildings'); }

function tagBoxes (name, chosen = []) {
  return h('div', { class: 'row', 'data-tags': name }, Object.keys(TAGS).map((k) =>
    h('label', { class: 'check' }, h('input', { type: 'checkbox', value: k, checked: chosen.includes(k) }), v(TAGS, k))));
}
const tagsOf = (box) => Array.from(box.querySelectorAll('input:checked'), (i) => i.value);
const list = (s) => s.split(/[,，、\s]+/).map((x) => x.trim()).filter(Boolean);

function memberFields (m = {}) {
  const box = h('div', { class: 'member card' },
    h('div', { class: 'row' },
      field(t('姓名', 'Name'), input('name', { value: m.name, required: true, maxlength: 64 })),
      field(t('出生年份', 'Birth year'), input('birth_year', { type: 'number', min: 1900, max: 2100, value: m.birth_year || '' })),
      field(t('手机', 'Phone'), input('phone', { value: m.phone && !m.phone.includes('*') ? m.phone : '', placeholder: m.phone || '' })),
      field(t('身份证号', 'ID number'), input('id_number', { placeholder: m.has_id_number ? t('已登记（不显示）', 'on file (hidden)') : '', maxlength: 18 })),
      field(t('学校', 'School'), input('school_id', { value: m.school_id, size: 6 })),
      field(t('学号', 'Pupil no.'), input('pupil_no', { value: m.pupil_no, size: 8 })),
      field(t('优势特长（逗号分隔）', 'Skills (comma separated)'), input('skills', { value: (m.skills || []).join('，') }))),
    tagBoxes('tags', m.tags || []));
  return box;
}
function readMember (box, keepBlank) {
  const o = {};
  for (const el of box.querySelectorAll('input[name]')) o[el.name] = el.value.trim();
  const m = { name: o.name, tags: tagsOf(box.querySelector('[data-tags]')), skills: list(o.skills || '') };
  if (o.birth_year) m.birth_year = Number(o.birth_year);
  for (const k of ['phone', 'id_number', 'school_id', 'pupil_no']) if (o[k] || keepBlank) if (o[k]) m[k] = o[k];
  return m;
}

async function search (main, match, params) {
  main.append(h('h2', {}, t('一户一档 · 住户档案', 'Households')));
  const bs = await buildings();
  const res = h('div', {});
  const f = h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); run(); } },
    field(t('楼栋', 'Building'), select('building', [['', t('全部', 'All')]].concat(bs.map((b) => [b.number, b.number + t('号楼', '')])), params.get('building') || '')),
    field(t('房号', 'Room'), input('room', { size: 6, value: params.get('room') || '' })),
    field(t('姓名', 'Name'), input('name', { size: 8 })),
    field(t('标签', 'Tag'), select('tag', tagOptions(), '')),
    h('button', { class: 'primary', type: 'submit' }, t('查找', 'Search')),
    h('button', { type: 'button', onclick: () => go('#/households/new') }, t('新建户档', 'New household')));
  const run = async () => {
    const q = formData(f);
    if (q.name || q.tag) {
      const r = await guard(() => get('/v1/residents/lookup' + qs({ building: q.building, room: q.room, name: q.name, tag: q.tag })));
      if (!r) return;
      res.replaceChildren(table([
        [t('住址', 'Address'), (p) => h('a', { href: '#/household/' + p.household_id }, label(p))],
        [t('姓名', 'Name'), (p) => p.masked_name],
        ['', (p) => h('a', { href: '#/person/' + p.person_id }, t('诚信档案', 'Credit'))]], r.persons));
      return;
    }
    const rows = (await guard(() => all('/v1/households' + qs({ building: q.building }), 'households'))) || [];
    const shown = rows.filter((x) => !q.room || x.room === q.room);
    res.replaceChildren(h('p', { class: 'muted' }, t(`共 ${shown.length} 户`, `${shown.length} households`)), table([
      [t('住址', 'Address'), (x) => h('a', { href: '#/household/' + x.id }, label(x))],
      [t('网格', 'Grid'), (x) => x.grid],
      [t('人数', 'Members'), (x) => x.members],
      [t('待办需求', 'Open needs'), (x) => x.open_needs ? h('span', { class: 'chip warn' }, x.open_needs) : '0'],
      [t('版本', 'Version'), (x) => 'v' + x.version]], shown));
  };
  main.append(card(null, f), res);
  run();
}

async function create (main) {
  main.append(h('h2', {}, t('新建户档', 'New household')));
  const bs = await buildings();
  const members = h('div', {}, memberFields());
  const f = h('form', { onsubmit: async (e) => {
    e.preventDefault();
    const q = formData(f);
    const body = { building: q.building, unit: q.unit, room: q.room, members: Array.from(members.children, (b) => readMember(b)) };
    const hh = await guard(() => post('/v1/households', body));
    if (hh) { toast(t('已建档', 'Household filed')); go('#/household/' + hh.id); }
  } },
  h('div', { class: 'row' },
    field(t('楼栋', 'Building'), select('building', bs.map((b) => [b.number, b.number + t('号楼', '') + ' · ' + b.grid]), '')),
    field(t('单元', 'Unit'), input('unit', { size: 4 })),
    field(t('房号', 'Room'), input('room', { size: 6, required: true }))),
  h('h3', { style: 'margin-top:12px' }, t('家庭成员', 'Members')), members,
  h('div', { class: 'row' },
    h('button', { type: 'button', onclick: () => members.append(memberFields()) }, t('+ 添加成员', '+ Member')),
    h('button', { class: 'primary', type: 'submit' }, t('保存户档', 'Save household'))));
  const nb = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    const q = formData(nb);
    if (await guard(() => post('/v1/buildings', { number: q.number, grid: q.grid }))) { toast(t('楼栋已添加', 'Building added')); go('#/households/new?' + Date.now()); }
  } }, field(t('楼栋号', 'Number'), input('number', { size: 6, required: true })), field(t('网格', 'Grid'), input('grid', { size: 6, required: true })),
  h('button', { type: 'submit' }, t('添加楼栋', 'Add building')));
  main.append(card(null, f), card(t('没有这栋楼？先添加楼栋', 'Building missing? Add it first'), nb));
}

async function file (main, m) {
  const id = m[1];
  const hh = await get('/v1/households/' + id);
  main.append(h('h2', {}, label(hh), ' ', h('span', { class: 'chip' }, t('网格 ', 'Grid ') + hh.grid), ' ',
    h('span', { class: 'muted' }, 'v' + hh.version)));
  const tabs = h('div', { class: 'tabs' });
  const body = h('div', {});
  const show = (name, fn) => {
    for (const b of tabs.children) b.classList.toggle('on', b.dataset.tab === name);
    body.replaceChildren(); fn(body);
  };
  const T = [['members', t('成员', 'Members'), members], ['needs', t('困难需求', 'Needs'), needs],
    ['history', t('变更历史', 'History'), history], ['audit', t('查阅记录', 'Read audit'), audit]];
  for (const [k, lab, fn] of T) tabs.append(h('button', { 'data-tab': k, onclick: () => show(k, fn) }, lab));
  main.append(tabs, body);
  show('members', members);

  function members (el) {
    el.append(card(null, table([
      [t('姓名', 'Name'), (p) => h('a', { href: '#/person/' + p.id }, p.name)],
      [t('年龄', 'Age'), (p) => p.birth_year ? age(p.birth_year) + t('岁', '') : ''],
      [t('标签', 'Tags'), (p) => p.tags.map((x) => h('span', { class: 'chip' }, v(TAGS, x)))],
      [t('手机', 'Phone'), (p) => p.phone],
      [t('特长', 'Skills'), (p) => p.skills.join('、')],
      [t('信用授权', 'Credit consent'), (p) => p.credit_consent ? t('是', 'yes') : h('span', { class: 'chip red' }, t('已撤回', 'withdrawn'))],
      ['', (p) => h('button', { class: 'small', onclick: () => edit(el, p) }, t('编辑', 'Edit'))]], hh.members)));
    const box = memberFields();
    el.append(card(t('添加成员', 'Add a member'), box, h('button', { class: 'primary', onclick: async () => {
      if (await guard(() => post(`/v1/households/${id}/members`, readMember(box)))) { toast(t('已添加', 'Added')); go('#/household/' + id + '?' + Date.now()); }
    } }, t('添加', 'Add'))));
  }
  function edit (el, p) {
    const box = memberFields(p);
    const consent = h('input', { type: 'checkbox', checked: !p.credit_consent });
    el.prepend(card(t('编辑 ', 'Edit ') + p.name, box,
      h('label', { class: 'check' }, consent, t('撤回信用授权（本人或监护人申请）', 'Credit consent withdrawn (by the person or guardian)')),
      h('div', { class: 'row' }, h('button', { class: 'primary', onclick: async () => {
        const body = readMember(box); body.credit_opt_out = consent.checked;
        if (await guard(() => put('/v1/persons/' + p.id, body))) { toast(t('已保存', 'Saved')); go('#/household/' + id + '?' + Date.now()); }
      } }, t('保存', 'Save')))));
    window.scrollTo(0, 0);
  }
  function needs (el) {
    const f = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      const q = formData(f);
      const n = await guard(() => post('/v1/needs', { household_id: id, person_id: q.person_id, category: q.category, detail: q.detail, urgency: Number(q.urgency) }));
      if (n) { toast(t('需求已登记', 'Need opened')); hh.needs.push(n); show('needs', needs); matches(el, n); }
    } },
    field(t('成员', 'Member'), select('person_id', [['', t('全户', 'Household')]].concat(hh.members.map((p) => [p.id, p.name])), '')),
    field(t('类别', 'Category'), select('category', catOptions(), 'repair')),
    field(t('紧急程度', 'Urgency'), select('urgency', [['1', t('一般', 'Normal')], ['2', t('较急', 'Soon')], ['3', t('紧急', 'Urgent')]], '2')),
    field(t('说明', 'Detail'), input('detail', { size: 30, required: true })),
    h('button', { class: 'primary', type: 'submit' }, t('登记需求', 'Open need')));
    el.append(card(t('登记困难需求', 'Open a need'), f), card(t('需求清单', 'Needs'), table([
      [t('类别', 'Category'), (n) => v(CATEGORIES, n.category)],
      [t('说明', 'Detail'), (n) => n.detail],
      [t('紧急', 'Urgency'), (n) => '!'.repeat(n.urgency)],
      [t('状态', 'Status'), (n) => stateChip(STATES, n.status, v)],
      ['', (n) => n.status === 'open' ? h('button', { class: 'small', onclick: () => matches(el, n) }, t('匹配资源', 'Matches')) : n.resource_id]], hh.needs)));
  }
  async function matches (el, n) {
    const r = await guard(() => get(`/v1/needs/${n.id}/matches`));
    if (!r) return;
    const box = card(t('匹配结果：', 'Matches: ') + n.detail, table([
      ['#', (x) => x.rank],
      [t('资源', 'Resource'), (x) => x.title],
      [t('距离', 'Distance'), (x) => ({ same_building: t('同楼', 'same building'), same_grid: t('同网格', 'same grid'), community: t('社区内', 'community') }[x.distance] || x.distance)],
      [t('剩余容量', 'Capacity left'), (x) => x.capacity_left],
      [t('得分', 'Score'), (x) => x.score],
      [t('理由', 'Reason'), (x) => x.reason],
      ['', (x) => h('button', { class: 'small primary', onclick: async () => {
        if (await guard(() => post(`/v1/needs/${n.id}/assign`, { resource_id: x.resource_id }))) { toast(t('已派给 ', 'Assigned to ') + x.title); go('#/household/' + id + '?' + Date.now()); }
      } }, t('指派', 'Assign'))]], r.matches, { empty: t('暂无可匹配的资源', 'No matching resource yet') }));
    box.id = 'matches';
    el.prepend(box);
  }
  async function history (el) {
    const r = await get(`/v1/households/${id}/history`);
    el.append(card(null, table([
      [t('版本', 'Version'), (x) => 'v' + x.version],
      [t('时间', 'When'), (x) => when(x.at_ms)],
      [t('操作', 'Change'), (x) => x.action],
      [t('经办', 'By'), (x) => x.by_role + ' ' + x.by_principal],
      [t('成员', 'Members'), (x) => (x.household ? x.household.members : []).map((p) => p.name).join('、')]], r.versions.slice().reverse())));
  }
  async function audit (el) {
    const r = await get(`/v1/households/${id}/audit`);
    el.append(card(t('谁查阅过这份档案', 'Who read this file'), table([
      [t('时间', 'When'), (x) => when(x.at_ms)],
      [t('角色', 'Role'), (x) => x.role],
      [t('令牌', 'Token'), (x) => x.principal],
      [t('动作', 'Action'), (x) => x.action]], r.entries.slice().reverse())));
  }
}

async function needsList (main) {
  main.append(h('h2', {}, t('需求清单与资源清单', 'Needs and resources')));
  const needs = await all('/v1/needs?status=open', 'needs', 3);
  main.append(card(t('待处理需求', 'Open needs'), table([
    [t('住址', 'Address'), (n) => h('a', { href: '#/household/' + n.household_id }, n.building + '·' + n.grid)],
    [t('类别', 'Category'), (n) => v(CATEGORIES, n.category)],
    [t('说明', 'Detail'), (n) => n.detail],
    [t('紧急', 'Urgency'), (n) => '!'.repeat(n.urgency)],
    [t('登记时间', 'Opened'), (n) => when(n.created_ms)]], needs, { hot: (n) => n.urgency >= 3 })));
  const res = await all('/v1/resources', 'resources', 3);
  main.append(card(t('资源清单', 'Resources'), table([
    [t('资源', 'Resource'), (x) => x.title],
    [t('类别', 'Category'), (x) => v(CATEGORIES, x.category)],
    [t('提供方', 'Provider'), (x) => x.provider_kind],
    [t('本周剩余', 'Left this week'), (x) => x.capacity_left + ' / ' + x.capacity_per_week]], res)));
}

export default {
  routes: [
    { path: /^\/households\/new$/, render: create },
    { path: /^\/households$/, render: search },
    { path: /^\/household\/([\w-]+)$/, render: file },
    { path: /^\/needs$/, render: needsList },
  ],
};
