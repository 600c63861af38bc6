// panel - 评定小组: a whole building's covenant evaluations, quickly in a row.
import { t, v, RULES } from '../i18n.js';
import { get, post, qs, newKey } from '../api.js';
import { h, card, field, input, guard, toast } from '../ui.js';

const AREAS = [
  ['garbage_sorting', () => t('垃圾分类', 'Garbage sorting')],
  ['parking', () => t('停车', 'Parking')],
  ['civil_conduct', () => t('文明行为', 'Civil conduct')],
];

async function evaluate (main, m, params) {
  main.append(h('h2', {}, t('公约评定 · 按楼录入', 'Covenant evaluations, building by building')));
  const building = input('building', { size: 6, value: params.get('building') || '', required: true });
  const room = input('room', { size: 6, placeholder: t('可不填', 'optional') });
  const sheet = h('div', {});
  const f = h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); load(); } },
    field(t('楼栋号', 'Building'), building), field(t('房号', 'Room'), room),
    h('button', { class: 'primary', type: 'submit' }, t('列出住户', 'List residents')));
  main.append(card(null, h('p', { class: 'muted' }, t('每人每项点“好”或“差”，不点即不评；最后一次提交整栋楼。每条记录都记下评定人。',
    'Tap good or bad per person and area (leave blank to skip), then submit the whole building at once. Each entry records its evaluator.')), f), sheet);

  async function load () {
    const r = await guard(() => get('/v1/residents/lookup' + qs({ building: building.value.trim(), room: room.value.trim() })));
    if (!r) return;
    const marks = new Map();   // person -> area -> good|bad
    const notes = new Map();
    const rows = r.persons.map((p) => {
      const segs = AREAS.map(([area]) => {
        const seg = h('span', { class: 'seg', 'data-area': area });
        for (const [val, lab] of [['good', t('好', 'good')], ['bad', t('差', 'bad')]]) {
          seg.append(h('button', { type: 'button', class: val, 'data-val': val, onclick: (e) => {
            const mk = marks.get(p.person_id) || {}; const on = mk[area] === val;
            if (on) delete mk[area]; else mk[area] = val;
            marks.set(p.person_id, mk);
            for (const b of seg.children) b.classList.toggle('on', !on && b.dataset.val === val);
            count();
          } }, lab));
        }
        return h('td', {}, seg);
      });
      const note = input('note', { size: 14, placeholder: t('备注', 'note'), oninput: (e) => notes.set(p.person_id, e.target.value) });
      return h('tr', { 'data-person': p.person_id }, h('td', {}, `${p.unit ? p.unit + '-' : ''}${p.room}`), h('td', {}, p.masked_name), segs, h('td', {}, note));
    });
    const counter = h('span', { class: 'muted' });
    const count = () => { let n = 0; for (const mk of marks.values()) n += Object.keys(mk).length; counter.textContent = t(`已选 ${n} 项`, `${n} marked`); return n; };
    const submit = h('button', { class: 'primary', onclick: async () => {
      const evaluations = [];
      for (const [person_id, mk] of marks) for (const [area, val] of Object.entries(mk))
        evaluations.push({ person_id, rule: `${area}.${val}`, note: notes.get(person_id) || '', idempotency_key: newKey('eval') });
      if (!evaluations.length) return toast(t('还没有选择任何评定', 'Nothing marked yet'), true);
      submit.disabled = true;
      const res = await guard(() => post('/v1/credit/evaluations/batch', { evaluations }));
      submit.disabled = false;
      if (!res) return;
      const rejected = res.rejected || [];
      toast(t(`已记录 ${res.accepted} 条`, `${res.accepted} recorded`) + (rejected.length ? t(`，${rejected.length} 条未通过`, `, ${rejected.length} refused`) : ''), rejected.length > 0);
      done.replaceChildren(h('p', {}, t(`已记录 ${res.accepted} 条评定。`, `${res.accepted} evaluations recorded.`)),
        rejected.length ? h('ul', {}, rejected.map((x) => h('li', { class: 'error' }, x.reason))) : '');
      marks.clear(); sheet.querySelectorAll('.seg button.on').forEach((b) => b.classList.remove('on')); count();
    } }, t('提交本楼评定', 'Submit the building'));
    const done = h('div', {});
    sheet.replaceChildren(card(t(`${building.value} 号楼 · ${r.persons.length} 人`, `Building ${building.value} · ${r.persons.length} residents`),
      h('div', { class: 'wrap' }, h('table', { id: 'eval-sheet' },
        h('thead', {}, h('tr', {}, h('th', {}, t('房号', 'Room')), h('th', {}, t('姓名', 'Name')), AREAS.map(([, lab]) => h('th', {}, lab())), h('th', {}, t('备注', 'Note')))),
        h('tbody', {}, rows))),
      h('div', { class: 'row', style: 'margin-top:10px' }, submit, counter), done,
      h('p', { class: 'muted' }, t('分值：', 'Points: ') + AREAS.flatMap(([a]) => [a + '.good', a + '.bad']).map((r2) => v(RULES, r2)).join(' · '))));
    count();
  }
  if (building.value) load();
}

export default { routes: [{ path: /^\/evaluate$/, render: evaluate }] };
