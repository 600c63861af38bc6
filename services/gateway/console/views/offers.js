// offers - the shared card's catalogue (shop items, course seats) and
// redemptions; a merchant sees its own offers and month's redemptions.
import { t, v, KINDS } from '../i18n.js';
import { get, post, patch, qs, all, newKey } from '../api.js';
import { h, card, table, field, input, select, formData, guard, toast, month, personPicker } from '../ui.js';
import { go, session } from '../app.js';

async function offers (main, mt, params) {
  main.append(h('h2', {}, t('储值共享卡 · 兑换商品与课程', 'Card offers: shop items and course seats')));
  const mine = session.role === 'merchant' ? session.binding : '';
  const list = await all('/v1/offers' + qs({ merchant_id: mine }), 'offers', 3);
  let chosen = null;
  const who = h('span', { class: 'muted' }, t('未选择居民', 'no resident chosen'));
  const picker = session.role === 'ops' ? personPicker((p) => { chosen = p; who.textContent = t('兑换人：', 'For: ') + p.masked_name + ' ' + p.room; who.className = 'chip ok'; }, t('兑换人', 'Resident')) : null;
  main.append(card(t('商品与课程', 'Catalogue'), picker ? h('div', { style: 'margin-bottom:10px' }, picker, who) : null, table([
    [t('名称', 'Title'), (o) => o.title],
    [t('商户', 'Merchant'), (o) => o.merchant_name || o.merchant_id],
    [t('类型', 'Kind'), (o) => v(KINDS, o.kind)],
    [t('所需积分', 'Points'), (o) => o.points],
    [t('剩余', 'Left'), (o) => `${o.stock_left} / ${o.stock}`],
    ['', (o) => session.role === 'ops' && !o.retired ? h('button', { class: 'small primary', disabled: o.stock_left ? null : true, onclick: async () => {
      if (!chosen) return toast(t('请先查找并选择兑换的居民', 'Find and choose the resident first'), true);
      const r = await guard(() => post(`/v1/offers/${o.id}/redemptions`, { person_id: chosen.person_id, idempotency_key: newKey('redeem') }));
      if (r) { toast(t(`已兑换，卡内余 ${r.card_after} 分`, `Redeemed; card now ${r.card_after}`)); go('#/offers?' + Date.now()); }
    } }, t('兑换', 'Redeem')) : ''],
    ['', (o) => session.role === 'ops' && !o.retired ? h('div', { class: 'row' },
      h('button', { class: 'small', onclick: async () => {
        const n = Number(prompt(t('补充库存数量', 'Add how many to the stock?'), '10'));
        if (n > 0 && await guard(() => patch('/v1/offers/' + o.id, { add_stock: n }))) { toast(t('已补货', 'Restocked')); go('#/offers?' + Date.now()); }
      } }, t('补货', 'Restock')),
      h('button', { class: 'small', onclick: async () => {
        if (confirm(t('确定下架？', 'Retire this offer?')) && await guard(() => patch('/v1/offers/' + o.id, { retire: true }))) { toast(t('已下架', 'Retired')); go('#/offers?' + Date.now()); }
      } }, t('下架', 'Retire'))) : (o.retired ? h('span', { class: 'chip' }, t('已下架', 'retired')) : '')]], list)));
  if (session.role === 'ops') {
    const ms = await all('/v1/merchants', 'merchants', 5);
    const f = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      const q = formData(f);
      if (await guard(() => post('/v1/offers', { merchant_id: q.merchant_id, title: q.title, kind: q.kind, points: Number(q.points), stock: Number(q.stock) }))) { toast(t('已上架', 'Offer created')); go('#/offers?' + Date.now()); }
    } }, field(t('商户', 'Merchant'), select('merchant_id', ms.map((m) => [m.id, m.name]), '')),
    field(t('名称', 'Title'), input('title', { required: true })),
    field(t('类型', 'Kind'), select('kind', [['item', v(KINDS, 'item')], ['course_seat', v(KINDS, 'course_seat')]], 'item')),
    field(t('积分', 'Points'), input('points', { type: 'number', min: 1, required: true, size: 5 })),
    field(t('库存', 'Stock'), input('stock', { type: 'number', min: 1, required: true, size: 5 })),
    h('button', { class: 'primary', type: 'submit' }, t('上架', 'Create offer')));
    main.append(card(t('新增兑换项', 'New offer'), f));
  }
  // A merchant's redemptions this month (a merchant: its own).
  const mid = mine || params.get('merchant') || (list[0] && list[0].merchant_id);
  if (mid) {
    const m = params.get('month') || month();
    const r = await get(`/v1/merchants/${mid}/redemptions` + qs({ month: m }));
    main.append(card(t(`${m} 兑换记录（${r.completed} 笔，${r.points} 分）`, `Redemptions ${m} (${r.completed}, ${r.points} points)`), table([
      [t('时间', 'When'), (x) => x.created_at.slice(0, 16).replace('T', ' ')], [t('项目', 'Offer'), (x) => x.title],
      [t('积分', 'Points'), (x) => x.points], [t('状态', 'State'), (x) => x.state]], r.redemptions || [])));
  }
}

export default { routes: [{ path: /^\/offers$/, render: offers }] };
