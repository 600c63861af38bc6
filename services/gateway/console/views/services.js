// services - health of every daemon, where logs and backups are.
import { t } from '../i18n.js';
import { h, card, table } from '../ui.js';

async function services (main) {
  main.append(h('h2', {}, t('系统状态', 'Services')));
  const box = h('div', {});
  main.append(card(t('各服务运行状况', 'Health of every service'), box));
  const refresh = async () => {
    if (!document.body.contains(box)) return clearInterval(timer);
    let j;
    try { j = await (await fetch('/healthz')).json(); } catch (e) { box.replaceChildren(h('p', { class: 'error' }, t('网关无法连接', 'Gateway unreachable'))); return; }
    box.replaceChildren(h('p', {}, j.status === 'ok' ? h('span', { class: 'chip ok' }, t('全部正常', 'All up')) : h('span', { class: 'chip red' }, t('部分服务异常', 'Degraded'))),
      table([[t('服务', 'Service'), (s) => s.name], [t('状态', 'State'), (s) => s.up ? h('span', { class: 'chip ok' }, t('运行中', 'up')) : h('span', { class: 'chip red' }, t('停止', 'down'))],
        [t('版本', 'Version'), (s) => s.version], [t('已运行', 'Uptime'), (s) => s.up ? Math.round(s.uptime_ms / 60000) + t(' 分钟', ' min') : ''],
        [t('事件序号', 'Events'), (s) => s.outbox_head_seq], [t('错误', 'Error'), (s) => s.error]], j.services));
  };
  const timer = setInterval(refresh, 5000);
  await refresh();
  main.append(card(t('日志与备份在哪里', 'Where logs and backups are'), h('ul', {},
    h('li', {}, t('日志：服务器上 <数据目录>/logs/<服务>.log（up.sh 的日志为 up.log）；systemd 部署用 journalctl -u tashan-<服务>。', 'Logs: <data-dir>/logs/<service>.log on the server (up.sh\'s own: up.log); under systemd: journalctl -u tashan-<service>.')),
    h('li', {}, t('备份：tashanctl backup <目录> 在线备份每个服务的 LMDB；tashanctl restore 恢复（见 README“Backup and restore”）。', 'Backups: tashanctl backup <dir> copies every daemon\'s LMDB online; tashanctl restore brings it back (README, "Backup and restore").')),
    h('li', {}, t('监控指标：GET /metrics（Prometheus 文本格式）。', 'Metrics: GET /metrics (Prometheus text format).')))));
}

export default { routes: [{ path: /^\/services$/, render: services }] };
