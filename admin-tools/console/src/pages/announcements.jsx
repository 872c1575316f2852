import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtTime, fmtDuration, label } from '../i18n.js';
import { useLoad, ErrorLine } from './common.jsx';

const CHANNELS = ['ANNOUNCEMENT_CHANNEL_SYSTEM_CHAT', 'ANNOUNCEMENT_CHANNEL_BANNER', 'ANNOUNCEMENT_CHANNEL_MAIL'];
const REPEATS = [[0, 'once'], [3600_000, 'hourly'], [86400_000, 'daily']];

function Deliveries({ id }) {
  const [d, error] = useLoad(() => api.call('AnnouncementService', 'GetDeliveries', { announcementId: id }), [id]);
  if (!d) return <ErrorLine error={error} />;
  return (
    <div class="card">
      <h3>{t('ann.deliveries', { acked: d.acknowledged, total: d.servers.length })}</h3>
      <ul class="plain">{d.servers.map((s) => (
        <li>{s.realmId}/{s.serverId} · {t(s.acknowledged ? 'ann.acked' : 'ann.notAcked')}
          {!s.online && <span class="tag warn">{t('ann.offline')}</span>}</li>))}</ul>
    </div>
  );
}

export function Announcements({ onAuthLost }) {
  const [list, error, reload] = useLoad(() => api.call('AnnouncementService', 'ListAnnouncements', { pageSize: 50 }), [], onAuthLost);
  const [f, setF] = useState({ title: '', body: '', channel: CHANNELS[1], realm: '', startsAt: '', repeat: 0 });
  const [shown, setShown] = useState(null);
  const [actError, setActError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const create = async (e) => {
    e.preventDefault();
    try {
      await api.call('AnnouncementService', 'CreateAnnouncement', { idempotencyKey: `console-${Date.now()}`, spec: {
        title: f.title, body: f.body, channel: f.channel, target: { realmId: f.realm },
        startsAtMs: f.startsAt ? String(new Date(f.startsAt).getTime()) : '0', repeatEveryMs: String(f.repeat) } });
      setActError(null); setF({ ...f, title: '', body: '' }); reload();
    } catch (err) { setActError(err); }
  };
  const cancel = async (id) => {
    try { await api.call('AnnouncementService', 'CancelAnnouncement', { announcementId: id, reason: t('ann.cancelledInConsole') }); reload(); }
    catch (err) { setActError(err); }
  };
  return (
    <div class="page">
      <h1>{t('ann.title')}</h1>
      <div class="columns">
        <section class="card">
          <ErrorLine error={error ?? actError} />
          <table class="grid"><tbody>{list?.announcements.map((a) => (
            <tr><td>#{a.id}</td><td class="text">{a.spec.title}</td><td>{label(a.spec.channel)}</td><td>{label(a.state)}</td>
              <td>{a.state === 'ANNOUNCEMENT_STATE_SCHEDULED' ? fmtTime(a.nextAtMs) : t('ann.shown', { n: a.showings })}</td>
              <td>{Number(a.spec.repeatEveryMs) > 0 ? t('ann.every', { d: fmtDuration(Number(a.spec.repeatEveryMs)) }) : ''}</td>
              <td><button onClick={() => setShown(a.id)}>{t('ann.delivery')}</button>
                {a.state === 'ANNOUNCEMENT_STATE_SCHEDULED' && <button onClick={() => cancel(a.id)}>{t('ann.cancel')}</button>}</td>
            </tr>))}</tbody></table>
          {list && !list.announcements.length && <p class="muted">{t('shift.none')}</p>}
          {shown && <Deliveries id={shown} />}
        </section>
        <form class="card" onSubmit={create}>
          <h2>{t('ann.create')}</h2>
          <label>{t('ann.titleField')}<input value={f.title} onInput={set('title')} required /></label>
          <label>{t('ann.body')}<textarea value={f.body} onInput={set('body')} required /></label>
          <label>{t('ann.channel')}<select value={f.channel} onChange={set('channel')}>
            {CHANNELS.map((c) => <option value={c}>{label(c)}</option>)}</select></label>
          <label>{t('queue.realm')}<input value={f.realm} onInput={set('realm')} /></label>
          <label>{t('ann.startsAt')}<input type="datetime-local" value={f.startsAt} onInput={set('startsAt')} /></label>
          <label>{t('ann.repeat')}<select value={f.repeat} onChange={(e) => setF({ ...f, repeat: Number(e.target.value) })}>
            {REPEATS.map(([ms, k]) => <option value={ms}>{t(`ann.repeat.${k}`)}</option>)}</select></label>
          <button type="submit" class="primary">{t('ann.send')}</button>
        </form>
      </div>
    </div>
  );
}
