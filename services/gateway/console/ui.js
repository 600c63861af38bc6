// ui - small DOM helpers shared by the views.
import { t } from './i18n.js';
import { get, qs, ApiError } from './api.js';

// h('div', {class: 'x', onclick: fn}, child, 'text', [more]) -> element
export function h (tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, val] of Object.entries(attrs || {})) {
    if (val === undefined || val === null || val === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), val);
    else if (k === 'html') el.innerHTML = val;
    else if (k === 'value') el.value = val;
    else if (k === 'checked') el.checked = !!val;
    else el.setAttribute(k, val === true ? '' : val);
  }
  add(el, kids);
  return el;
}
function add (el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) add(el, k);
    else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

export function toast (msg, bad) {
  const el = document.getElementById('toast');
  el.textContent = msg; el.className = 'show' + (bad ? ' bad' : '');
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { el.className = ''; }, bad ? 6000 : 2500);
}

// Run an action; errors become a red toast (and are returned as false).
export async function guard (fn) {
  try { return await fn(); } catch (e) {
    toast((e instanceof ApiError ? e.status + ' ' : '') + (e.message || e), true);
    return false;
  }
}

export function card (title, ...kids) { return h('section', { class: 'card' }, title ? h('h3', {}, title) : null, kids); }

export function table (cols, rows, opts = {}) {
  if (!rows.length) return h('p', { class: 'muted' }, opts.empty || t('暂无记录', 'Nothing yet'));
  return h('div', { class: 'wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c[0])))),
    h('tbody', {}, rows.map((r) => h('tr', { class: opts.hot && opts.hot(r) ? 'hot' : null }, cols.map((c) => h('td', {}, c[1](r))))))));
}

export function field (label, input) { return h('label', {}, label, input); }
export function input (name, attrs = {}) { return h('input', Object.assign({ name }, attrs)); }
export function select (name, options, value, attrs = {}) {
  return h('select', Object.assign({ name }, attrs), options.map(([v, label]) => h('option', { value: v, selected: v === value ? 'selected' : null }, label)));
}
export function formData (form) {
  const o = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') o[el.name] = el.checked;
    else o[el.name] = el.value.trim();
  }
  return o;
}

// Calendar month in Asia/Shanghai, YYYY-MM.
export function month (offset = 0) {
  const d = new Date(Date.now() + 8 * 3600e3);
  d.setUTCDate(1); d.setUTCMonth(d.getUTCMonth() + offset);
  return d.toISOString().slice(0, 7);
}
export function when (ms) {
  if (!ms) return '';
  const d = new Date(Number(ms) + 8 * 3600e3);
  return d.toISOString().slice(0, 16).replace('T', ' ');
}
export function age (birthYear) { return birthYear ? new Date().getFullYear() - birthYear : null; }
// As the API masks names: first and last character kept (王*国), 2: 王*, 1: *.
export function maskName (name) {
  const c = Array.from(name || '');
  return c.length <= 1 ? (c.length ? '*' : '') : c.length === 2 ? c[0] + '*' : c[0] + '*'.repeat(c.length - 2) + c[c.length - 1];
}

// A 404 from a route that is not there yet: a clear "not available" notice.
export function unavailable (what) {
  return h('div', { class: 'notice' }, h('strong', {}, t('暂不可用', 'Not available yet')), ' — ',
    what, t('：该功能的接口尚未上线（网关返回 404）。上线后本页自动可用。',
      ': its API is not deployed on this gateway yet (404). This page works as soon as it is.'));
}
export async function orUnavailable (el, what, fn) {
  try { await fn(); } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.code === 'not_found' && /no route/.test(e.message)) {
      el.replaceChildren(unavailable(what));
    } else throw e;
  }
}

// Horizontal-axis bar chart as SVG: items [{label, value}].
export function barChart (items, opts = {}) {
  const w = 640, hgt = 240, pad = 34, n = Math.max(items.length, 1);
  const max = Math.max(1, ...items.map((i) => Math.abs(i.value)));
  const min = Math.min(0, ...items.map((i) => i.value));
  const span = max - min || 1, bw = Math.min((w - pad * 2) / n, 80);
  const x0 = (w - bw * n) / 2;
  const y = (val) => pad + (hgt - 2 * pad) * (max - val) / span;
  const ns = 'http://www.w3.org/2000/svg';
  const s = document.createElementNS(ns, 'svg');
  s.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  s.setAttribute('role', 'img');
  s.setAttribute('aria-label', opts.title || 'chart');
  const el = (tag, a, text) => { const e = document.createElementNS(ns, tag); for (const k in a) e.setAttribute(k, a[k]); if (text !== undefined) e.textContent = text; s.append(e); return e; };
  el('line', { x1: pad, x2: w - pad, y1: y(0), y2: y(0), stroke: '#999' });
  // Narrow bars: smaller figures, and every k-th label so none overlap.
  const font = bw < 28 ? 9 : 12;
  const every = Math.max(1, Math.ceil(font * 5 / bw));
  items.forEach((it, i) => {
    const x = x0 + i * bw + bw * 0.15, top = Math.min(y(it.value), y(0)), bh = Math.abs(y(it.value) - y(0));
    el('rect', { x, y: top, width: bw * 0.7, height: Math.max(bh, 1), fill: it.value < 0 ? '#888' : '#c8372d' });
    el('text', { x: x + bw * 0.35, y: top - 4, 'text-anchor': 'middle', 'font-size': font }, String(it.value));
    if (i % every === 0)
      el('text', { x: x + bw * 0.35, y: hgt - pad + 16, 'text-anchor': 'middle', 'font-size': font }, it.label);
  });
  return h('div', { class: 'chart' }, s);
}

// Pick a person without typing an id: building + room -> masked names.
export function personPicker (onPick, label) {
  const out = h('div', {});
  const b = input('building', { placeholder: t('楼栋号', 'Building'), size: 6 });
  const r = input('room', { placeholder: t('房号', 'Room'), size: 6 });
  const find = async () => {
    const res = await guard(() => get('/v1/residents/lookup' + qs({ building: b.value.trim(), room: r.value.trim() })));
    if (!res) return;
    out.replaceChildren(res.persons.length ? h('div', { class: 'row' }, res.persons.map((p) =>
      h('button', { type: 'button', class: 'small', 'data-person': p.person_id, onclick: () => onPick(p) },
        `${p.building}-${p.unit ? p.unit + '-' : ''}${p.room} ${p.masked_name}`)))
      : h('span', { class: 'muted' }, t('没有找到住户', 'No residents found')));
  };
  return h('div', {}, h('div', { class: 'row' }, label ? h('span', {}, label) : null, b, r,
    h('button', { type: 'button', onclick: find }, t('查找', 'Find'))), out);
}

export function stateChip (map, s, vfn) {
  const cls = ['good', 'confirmed', 'completed', 'served', 'done', 'upheld'].includes(s) ? 'ok'
    : ['watch', 'open', 'pending', 'tendering'].includes(s) ? 'warn'
      : ['suspended', 'rejected', 'failed'].includes(s) ? 'red' : '';
  return h('span', { class: 'chip ' + cls }, vfn(map, s));
}

// Names for person ids (ops reads the household file): id -> name.
export async function personNames (ids) {
  const out = {};
  await Promise.all([...new Set(ids.filter(Boolean))].map(async (id) => {
    try { out[id] = (await get('/v1/persons/' + id)).name; } catch (e) { out[id] = id; }
  }));
  return out;
}
