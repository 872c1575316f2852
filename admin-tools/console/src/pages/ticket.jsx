import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtTime, label } from '../i18n.js';
import { atLeast } from '../roles.js';
import { useLoad, useNow, ErrorLine, ReportsAbout } from './common.jsx';
import { Clock } from './queue.jsx';

const NEXT_STATUSES = ['TICKET_STATUS_IN_PROGRESS', 'TICKET_STATUS_WAITING_PLAYER', 'TICKET_STATUS_RESOLVED',
  'TICKET_STATUS_CLOSED'];

function Context({ tk }) {
  const c = tk.context ?? {};
  const rows = [
    ['who', `${tk.playerId}${tk.vipTier ? ` · VIP ${tk.vipTier}` : ''}`],
    ['where', [c.realmId, c.serverId, c.map].filter(Boolean).join(' / ')],
    ['when', fmtTime(tk.occurredAtMs || tk.createdAtMs)],
    ['how', [c.platform, c.clientBuild].filter(Boolean).join(' · ')],
    ['language', c.language || '—'],
  ];
  return (
    <dl class="context">
      {rows.map(([k, v]) => [<dt>{t(`ticket.ctx.${k}`)}</dt>, <dd>{v || '—'}</dd>])}
    </dl>
  );
}

function Message({ m }) {
  const mine = m.authorKind === 'AUTHOR_KIND_GM';
  return (
    <li class={`msg ${mine ? 'gm' : 'player'} ${m.visibility === 'MESSAGE_VISIBILITY_INTERNAL' ? 'internal' : ''}`}>
      <header>
        <strong>{m.author}</strong> · {fmtTime(m.createdAtMs)}
        {m.visibility === 'MESSAGE_VISIBILITY_INTERNAL' && <span class="tag">{t('ticket.internal')}</span>}
        {mine && m.visibility === 'MESSAGE_VISIBILITY_PUBLIC' &&
          <span class={`delivery ${m.delivery}`} data-delivery={m.delivery}>{label(m.delivery)}</span>}
        {Number(m.kbEntryId) > 0 && <span class="tag">{t('ticket.citesAnswer', { id: m.kbEntryId })}</span>}
        {Number(m.incidentId) > 0 && <span class="tag">{t('ticket.incidentReply', { id: m.incidentId })}</span>}
        {m.sensitiveFreeAnswer && <span class="tag warn">{t('ticket.freeAnswer')}</span>}
      </header>
      <p class="text">{m.body}</p>
    </li>
  );
}

// Unified answers: search, then insert one (expired ones cannot be).
function AnswerSearch({ locale, onInsert }) {
  const [query, setQuery] = useState('');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const search = async (e) => {
    e.preventDefault();
    try {
      const inLocale = await api.call('KnowledgeService', 'Search', { query, locale, includeExpired: true, limit: 10 });
      if (inLocale.entries.length || !locale) return setResult({ entries: inLocale.entries, fallback: false });
      const any = await api.call('KnowledgeService', 'Search', { query, includeExpired: true, limit: 10 });
      setResult({ entries: any.entries, fallback: true });
    } catch (err) { setError(err); }
  };
  const now = Date.now();
  return (
    <div class="answers">
      <form onSubmit={search} class="row">
        <input id="kb-query" placeholder={t('ticket.kbSearch')} value={query} onInput={(e) => setQuery(e.target.value)} />
        <button type="submit" id="kb-search">{t('ticket.kbFind')}</button>
      </form>
      <ErrorLine error={error} />
      {result?.fallback && <p class="muted">{t('ticket.kbNoneInLocale', { locale })}</p>}
      {result && !result.entries.length && <p class="muted">{t('ticket.kbNone')}</p>}
      <ul class="plain">
        {result?.entries.map((e) => {
          const expired = Number(e.validUntilMs) > 0 && Number(e.validUntilMs) < now;
          return (
            <li class="kb">
              <strong>{e.title}</strong> <span class="tag">{e.locale}</span>
              {expired && <span class="tag warn">{t('ticket.kbExpired')}</span>}
              <button type="button" class="kb-insert" disabled={expired} onClick={() => onInsert(e)}>{t('ticket.kbInsert')}</button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Reply({ tk, onSent }) {
  const [body, setBody] = useState('');
  const [kb, setKb] = useState(null);
  const [visibility, setVisibility] = useState('MESSAGE_VISIBILITY_PUBLIC');
  const [error, setError] = useState(null);
  const send = async (e) => {
    e.preventDefault();
    try {
      await api.call('TicketService', 'AddMessage', {
        ticketId: tk.id, body, visibility, kbEntryId: kb?.id ?? '0' });
      setBody(''); setKb(null); setError(null);
      onSent();
    } catch (err) { setError(err); }
  };
  return (
    <section class="card reply">
      <h2>{t('ticket.reply')}</h2>
      <AnswerSearch locale={tk.context?.language ?? ''} onInsert={(e) => { setBody(e.body); setKb(e); }} />
      <form onSubmit={send}>
        {kb && <p class="muted">{t('ticket.citing', { title: kb.title })}</p>}
        <textarea id="reply-body" value={body} onInput={(e) => setBody(e.target.value)} required />
        <div class="row">
          <select id="reply-visibility" value={visibility} onChange={(e) => setVisibility(e.target.value)}>
            <option value="MESSAGE_VISIBILITY_PUBLIC">{t('ticket.public')}</option>
            <option value="MESSAGE_VISIBILITY_INTERNAL">{t('ticket.internalNote')}</option>
          </select>
          <button type="submit" id="reply-send" class="primary">{t('ticket.send')}</button>
        </div>
        <ErrorLine error={error} />
      </form>
    </section>
  );
}

function Actions({ me, tk, onDone }) {
  const [status, setStatus] = useState('TICKET_STATUS_RESOLVED');
  const [reason, setReason] = useState('');
  const [assignee, setAssignee] = useState('');
  const [error, setError] = useState(null);
  const run = (service, method, req) => async (e) => {
    e.preventDefault();
    try { await api.call(service, method, req); setError(null); setReason(''); onDone(); } catch (err) { setError(err); }
  };
  return (
    <div class="card actions">
      <h2>{t('ticket.actions')}</h2>
      <label>{t('ticket.reason')}<input id="action-reason" value={reason} onInput={(e) => setReason(e.target.value)} /></label>
      <form class="row" onSubmit={run('TicketService', 'UpdateTicketStatus', { ticketId: tk.id, status, reason })}>
        <select id="status-select" value={status} onChange={(e) => setStatus(e.target.value)}>
          {NEXT_STATUSES.map((s) => <option value={s}>{label(s)}</option>)}
        </select>
        <button type="submit" id="status-set">{t('ticket.setStatus')}</button>
      </form>
      <form class="row" onSubmit={run('TicketService', 'EscalateTicket', { ticketId: tk.id, level: 0, reason })}>
        <button type="submit" id="escalate">{t('ticket.escalate')}</button>
      </form>
      <form class="row" onSubmit={run('TicketService', 'AssignTicket', { ticketId: tk.id, assignee: me.name, reason })}>
        <button type="submit" id="take">{t('ticket.take')}</button>
      </form>
      {atLeast(me, 'lead') && (
        <form class="row" onSubmit={run('TicketService', 'AssignTicket', { ticketId: tk.id, assignee, reason })}>
          <input id="transfer-to" placeholder={t('ticket.transferTo')} value={assignee} onInput={(e) => setAssignee(e.target.value)} />
          <button type="submit" id="transfer">{t('ticket.transfer')}</button>
        </form>
      )}
      <ErrorLine error={error} />
    </div>
  );
}

function Player({ tk, onAuthLost }) {
  const realm = tk.context?.realmId ?? '';
  const [sanctions] = useLoad(() => api.call('ModerationService', 'ListSanctions', { subjectId: tk.playerId, pageSize: 20 }),
    [tk.playerId], onAuthLost);
  const [vip, vipError] = useLoad(() => api.call('VipService', 'GetVipProfile', { playerId: tk.playerId, realmId: realm }),
    [tk.playerId, realm], onAuthLost);
  return (
    <div class="card">
      <h2>{t('ticket.player', { id: tk.playerId })}</h2>
      <h3>{t('ticket.sanctions')}</h3>
      {!sanctions?.sanctions?.length && <p class="muted">{t('ticket.noSanctions')}</p>}
      <ul class="plain">{sanctions?.sanctions?.map((s) => (
        <li>{label(s.spec.type)} · {label(s.state)} · {s.spec.reason}</li>))}</ul>
      {realm && <ReportsAbout realm={realm} player={tk.playerId} onAuthLost={onAuthLost} />}
      <h3>{t('ticket.vip')}</h3>
      {vip?.profile ? <p>{t('ticket.vipTier', { tier: vip.profile.tier || '—' })}</p>
        : <p class="muted">{vipError?.code === 'not_found' ? t('ticket.notVip') : '—'}</p>}
    </div>
  );
}

function Trail({ id }) {
  const [audit, error] = useLoad(() => api.call('AuditService', 'ListAuditRecords', { target: `ticket/${id}`, pageSize: 50 }), [id]);
  if (error?.code === 'permission_denied') return null;
  return (
    <div class="card">
      <h2>{t('ticket.trail')}</h2>
      <ul class="plain">{audit?.records?.map((r) => (
        <li>{fmtTime(r.atMs)} · {r.actor} · {r.action}{r.reason ? ` · ${r.reason}` : ''}</li>))}</ul>
    </div>
  );
}

export function Ticket({ me, args, onAuthLost }) {
  const id = args[0];
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const now = useNow(1000);
  // The ticket arrives again whenever it changes (a server stream): new
  // messages, status, and the delivered and read marks of replies.
  useEffect(() => {
    setData(null);
    return api.stream('TicketService', 'WatchTicket', { ticketId: id }, (d) => { setData(d); setError(null); },
      (err) => { if (err.code === 'unauthenticated') onAuthLost(); setError(err); });
  }, [id]);
  // After this GM's own change, read at once rather than wait for the stream.
  const reload = () => api.call('TicketService', 'GetTicket', { ticketId: id }).then(setData, setError);
  if (!data) return <div class="page"><ErrorLine error={error} /><p>{t('common.loading')}</p></div>;
  const tk = data.ticket;
  return (
    <div class="page ticket">
      <h1 id="ticket-subject">#{tk.id} {tk.subject}</h1>
      <p class="meta">
        <span class="tag">{label(tk.category)}</span> <span class="tag" id="ticket-status">{label(tk.status)}</span>{' '}
        <span class="tag">{label(tk.priority)}</span> <Clock ticket={tk} now={now} />{' '}
        {t('ticket.owner', { owner: tk.assignee || t('queue.nobody') })}
        {tk.escalationLevel > 0 && <span class="tag warn">{t('ticket.escalated', { level: tk.escalationLevel })}</span>}
      </p>
      {tk.priorityReasons.length > 0 && <p class="muted">{t('ticket.why', { reasons: tk.priorityReasons.join(', ') })}</p>}
      {tk.sensitiveReasons?.length > 0 && <p class="warn-line" id="ticket-sensitive">
        {t('ticket.sensitive', { reasons: tk.sensitiveReasons.join('; ') })}</p>}
      {Number(tk.incidentId) > 0 && <p id="ticket-incident">
        <a href={`#/incidents/${tk.incidentId}`}>{t('ticket.inIncident', { id: tk.incidentId })}</a></p>}
      {Number(tk.detachedFromIncident) > 0 && <p class="muted">{t('ticket.leftIncident', { id: tk.detachedFromIncident })}</p>}
      <ErrorLine error={error} />
      <div class="columns">
        <div>
          <div class="card">
            <Context tk={tk} />
            <p class="text description">{tk.description}</p>
          </div>
          <ol class="conversation" id="conversation">{data.messages.map((m) => <Message m={m} />)}</ol>
          <Reply tk={tk} onSent={reload} />
        </div>
        <aside>
          <Actions me={me} tk={tk} onDone={reload} />
          <Player tk={tk} onAuthLost={onAuthLost} />
          <Trail id={tk.id} />
        </aside>
      </div>
    </div>
  );
}
