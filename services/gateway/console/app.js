// app - the community office's console: sign-in, menus by role, hash router.
import { t, lang, setLang, v, ROLES } from './i18n.js';
import { get, token, setToken, ApiError } from './api.js';
import { h, toast } from './ui.js';
import households from './views/households.js';
import panel from './views/panel.js';
import credit from './views/credit.js';
import merchants from './views/merchants.js';
import offers from './views/offers.js';
import volunteers from './views/volunteers.js';
import proposals from './views/proposals.js';
import services from './views/services.js';

// Each view module gives routes: [{path: /regex/, render(main, match), menu?}]
const MODULES = [households, panel, credit, merchants, offers, volunteers, proposals, services];
const ROUTES = MODULES.flatMap((m) => m.routes);

// The menu by role: [hash, label(), roles]
const MENU = [
  ['#/households', () => t('一户一档', 'Households'), ['ops'], () => t('居民', 'Residents')],
  ['#/needs', () => t('需求与资源', 'Needs & resources'), ['ops']],
  ['#/evaluate', () => t('公约评定', 'Evaluations'), ['ops', 'panel']],
  ['#/board', () => t('诚信红灰榜', 'Honour board'), ['ops', 'panel'], () => t('诚信', 'Credit')],
  ['#/appeals', () => t('申诉', 'Appeals'), ['ops']],
  ['#/pupil', () => t('学生信用', 'Pupil credit'), ['school']],
  ['#/merchants', () => t('一户一码商户', 'Merchants'), ['ops'], () => t('商户与集市', 'Merchants & markets')],
  ['#/markets', () => t('便民集市', 'Markets'), ['ops']],
  ['#/notices', () => t('企业微圈', 'Notices'), ['ops', 'merchant']],
  ['#/offers', () => t('兑换商品与课程', 'Card offers'), ['ops', 'merchant']],
  ['#/volunteers', () => t('志愿服务', 'Volunteers'), ['ops'], () => t('志愿与提案', 'Volunteers & proposals')],
  ['#/proposals', () => t('小提案', 'Proposals'), ['ops']],
  ['#/problems', () => t('问题清单与调查', 'Problems & surveys'), ['ops']],
  ['#/services', () => t('系统状态', 'Services'), ['ops'], () => t('系统', 'System')],
];

export const session = { role: '', binding: '', token_id: '' };

function home () {
  return { ops: '#/households', panel: '#/evaluate', school: '#/pupil', merchant: '#/offers' }[session.role] || '#/services';
}

function signIn (root, message) {
  const tok = h('input', { type: 'password', name: 'token', placeholder: 'tsn_…', autocomplete: 'off', style: 'width:100%' });
  const go = async (ev) => {
    ev.preventDefault();
    setToken(tok.value.trim());
    try { Object.assign(session, await get('/v1/session')); } catch (e) {
      setToken(''); signIn(root, e instanceof ApiError && e.status === 401 ? t('令牌无效或已撤销', 'The token is not valid') : String(e.message));
      return;
    }
    location.hash = home(); render();
  };
  root.replaceChildren(h('div', { class: 'signin' },
    h('div', { class: 'card' },
      h('h2', {}, t('塔山社区工作台', 'Tashan community console')),
      h('p', { class: 'muted' }, t('请输入您的访问令牌。社区办公室的令牌在服务器的 <数据目录>/gateway/ops.token；评定小组、学校和商户的令牌由办公室发放。令牌只保存在本浏览器标签页中。',
        'Enter your access token. The office token is in <data-dir>/gateway/ops.token on the server; the office issues tokens for the panel, schools and merchants. It stays in this browser tab only.')),
      h('form', { onsubmit: go },
        h('p', {}, tok),
        message ? h('p', { class: 'error' }, message) : null,
        h('div', { class: 'row' }, h('button', { class: 'primary', type: 'submit' }, t('登录', 'Sign in')), langButton())))));
  tok.focus();
}

function langButton () {
  return h('button', { type: 'button', class: 'lang', onclick: () => { setLang(lang() === 'zh' ? 'en' : 'zh'); render(); } },
    lang() === 'zh' ? 'English' : '中文');
}

function layout (root) {
  const nav = h('nav', { class: 'side' });
  let last = null;
  for (const [hash, label, roles, group] of MENU) {
    if (!roles.includes(session.role)) continue;
    if (group && group !== last) { nav.append(h('div', { class: 'group' }, group())); last = group; }
    nav.append(h('a', { href: hash, class: location.hash.startsWith(hash) ? 'on' : null, onclick: () => nav.classList.remove('open') }, label()));
  }
  const main = h('main', {});
  root.replaceChildren(
    h('header', { class: 'top' },
      h('button', { class: 'menu-toggle', onclick: () => nav.classList.toggle('open'), 'aria-label': 'menu' }, '☰'),
      h('h1', {}, t('塔山社区工作台', 'Tashan community console')),
      h('span', { class: 'who' }, v(ROLES, session.role) + (session.binding ? ' · ' + session.binding : '')),
      langButton(),
      h('button', { onclick: () => { setToken(''); location.hash = ''; render(); } }, t('退出', 'Sign out'))),
    h('div', { class: 'shell' }, nav, main));
  return main;
}

export async function render () {
  const root = document.getElementById('app');
  document.title = t('塔山社区工作台', 'Tashan community console');
  if (!token()) return signIn(root);
  if (!session.role) {
    try { Object.assign(session, await get('/v1/session')); } catch (e) { setToken(''); return signIn(root); }
  }
  if (!location.hash || location.hash === '#/' || location.hash === '#') { location.hash = home(); return; }
  const path = location.hash.slice(1).split('?')[0];
  const route = ROUTES.find((r) => r.path.test(path));
  const main = layout(root);
  if (!route) { main.append(h('p', {}, t('没有这个页面', 'No such page'))); return; }
  if (route.bare) document.body.classList.add('bare'); else document.body.classList.remove('bare');
  try {
    await route.render(main, path.match(route.path), new URLSearchParams(location.hash.split('?')[1] || ''));
  } catch (e) {
    main.append(h('p', { class: 'error' }, (e.status ? e.status + ' ' : '') + e.message));
    toast(e.message, true);
  }
}

export function go (hash) { if (location.hash === hash) render(); else location.hash = hash; }

window.addEventListener('hashchange', render);
render();
