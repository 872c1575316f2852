import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtDuration, fmtTime, label } from '../i18n.js';
import { useNow, ErrorLine, slaClock, ticketLink } from './common.jsx';

const STATUSES = ['TICKET_STATUS_UNSPECIFIED', 'TICKET_STATUS_NEW', 'TICKET_STATUS_ASSIGNED',
  'TICKET_STATUS_IN_PROGRESS', 'TICKET_STATUS_WAITING_PLAYER', 'TICKET_STATUS_RESOLVED', 'TICKET_STATUS_CLOSED'];
export const CATEGORIES = ['TICKET_CATEGORY_UNSPECIFIED', 'TICKET_CATEGORY_QUESTION', 'TICKET_CATEGORY_COMPLAINT',
  'TICKET_CATEGORY_SUGGESTION', 'TICKET_CATEGORY_BUG', 'TICKET_CATEGORY_PLAYER_REPORT', 'TICKET_CATEGORY_ACCOUNT',
  'TICKET_CATEGORY_PAYMENT', 'TICKET_CATEGORY_OTHER'];

export function Clock({ ticket, now }) {
  const c = slaClock(ticket, now);
  if (c.state === 'done') return <span class="clock done">{t('sla.done')}</span>;
  const text = c.state === 'breached' ? t('sla.overdue', { d: fmtDuration(-c.left) })
    : t(`sla.${c.state}`, { d: fmtDuration(c.left) });
  return <span class={`clock ${c.state}`}>{text}</span>;
}

export function Queue({ me, onAuthLost }) {
  const [filter, setFilter] = useState({ status: 'TICKET_STATUS_UNSPECIFIED', category: 'TICKET_CATEGORY_UNSPECIFIED',
    realmId: '', who: 'all' });
  const [error, setError] = useState(null);
  const [list, setList] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const now = useNow(1000);
  // The page arrives again whenever it changes (a server stream), so the
  // queue stays current without a reload.
  useEffect(() => {
    setLoadError(null);
    return api.stream('TicketService', 'WatchTickets', {
      status: filter.status, category: filter.category, realmId: filter.realmId, pageSize: 100,
      unassigned: filter.who === 'unassigned', assignee: filter.who === 'mine' ? me.name : '',
    }, (page) => { setList(page); setLoadError(null); }, (err) => {
      if (err.code === 'unauthenticated') onAuthLost();
      setLoadError(err);
    });
  }, [filter]);
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.target.value });
  const pull = async () => {
    setError(null);
    try {
      const r = await api.call('TicketService', 'PullNextTicket', {
        category: filter.category, realmId: filter.realmId });
      location.hash = ticketLink(r.ticket.id);
    } catch (err) {
      setError(err.code === 'not_found' ? { message: t('queue.nothingToPull') } : err);
    }
  };
  return (
    <div class="page">
      <h1>{t('queue.title')}</h1>
      <div class="filters">
        <label>{t('queue.status')}<select id="f-status" value={filter.status} onChange={set('status')}>
          {STATUSES.map((s) => <option value={s}>{label(s)}</option>)}</select></label>
        <label>{t('queue.category')}<select id="f-category" value={filter.category} onChange={set('category')}>
          {CATEGORIES.map((s) => <option value={s}>{label(s)}</option>)}</select></label>
        <label>{t('queue.realm')}<input id="f-realm" value={filter.realmId} onChange={set('realmId')} /></label>
        <label>{t('queue.owner')}<select id="f-who" value={filter.who} onChange={set('who')}>
          {['all', 'mine', 'unassigned'].map((w) => <option value={w}>{t(`queue.who.${w}`)}</option>)}</select></label>
        <button id="pull-next" class="primary" onClick={pull}>{t('queue.pullNext')}</button>
      </div>
      <ErrorLine error={error ?? loadError} />
      <table class="grid">
        <thead><tr>
          <th>{t('queue.col.id')}</th><th>{t('queue.col.subject')}</th><th>{t('queue.col.category')}</th>
          <th>{t('queue.col.status')}</th><th>{t('queue.col.priority')}</th><th>{t('queue.col.player')}</th>
          <th>{t('queue.col.owner')}</th><th>{t('queue.col.clock')}</th><th>{t('queue.col.created')}</th>
        </tr></thead>
        <tbody>
          {list?.tickets?.map((tk) => (
            <tr>
              <td><a href={ticketLink(tk.id)}>#{tk.id}</a></td>
              <td class="subject"><a href={ticketLink(tk.id)}>{tk.subject}</a></td>
              <td>{label(tk.category)}</td>
              <td>{label(tk.status)}</td>
              <td>{label(tk.priority)}</td>
              <td>{tk.playerId}</td>
              <td>{tk.assignee || t('queue.nobody')}</td>
              <td><Clock ticket={tk} now={now} /></td>
              <td>{fmtTime(tk.createdAtMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list && !list.tickets?.length && <p class="muted">{t('queue.empty')}</p>}
    </div>
  );
}
