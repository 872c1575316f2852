import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtTime, fmtDuration, label } from '../i18n.js';
import { useLoad, ErrorLine, ticketLink } from './common.jsx';
import { atLeast } from '../roles.js';

const STATES = ['INCIDENT_STATE_SUGGESTED', 'INCIDENT_STATE_OPEN', 'INCIDENT_STATE_RESOLVED', 'INCIDENT_STATE_DISMISSED'];
const CAUSES = ['INCIDENT_CAUSE_OUTAGE', 'INCIDENT_CAUSE_PATCH', 'INCIDENT_CAUSE_EXPLOIT', 'INCIDENT_CAUSE_OTHER'];
const CATEGORIES = ['TICKET_CATEGORY_COMPLAINT', 'TICKET_CATEGORY_QUESTION', 'TICKET_CATEGORY_BUG',
  'TICKET_CATEGORY_PAYMENT', 'TICKET_CATEGORY_ACCOUNT', 'TICKET_CATEGORY_OTHER'];
const active = (i) => i.state === 'INCIDENT_STATE_SUGGESTED' || i.state === 'INCIDENT_STATE_OPEN';

function OpenForm({ onOpened }) {
  const [f, setF] = useState({ title: '', cause: CAUSES[0], realm: '', category: '', words: '', linkExisting: true });
  const [error, setError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    try {
      const r = await api.call('IncidentService', 'OpenIncident', {
        idempotencyKey: `console-${Date.now()}`, title: f.title, cause: f.cause, linkExisting: f.linkExisting,
        filter: { realmId: f.realm, category: f.category || undefined,
          words: f.words.split(/[,\n]/).map((w) => w.trim()).filter(Boolean) } });
      setError(null);
      setF({ ...f, title: '', words: '' });
      onOpened(r.incident.id);
    } catch (err) { setError(err); }
  };
  return (
    <form class="card" onSubmit={submit} id="open-incident">
      <h2>{t('inc.open')}</h2>
      <label>{t('inc.titleField')}<input name="title" value={f.title} onInput={set('title')} required /></label>
      <label>{t('inc.cause')}<select value={f.cause} onChange={set('cause')}>
        {CAUSES.map((c) => <option value={c}>{label(c)}</option>)}</select></label>
      <label>{t('queue.realm')}<input name="realm" value={f.realm} onInput={set('realm')} required /></label>
      <label>{t('inc.category')}<select value={f.category} onChange={set('category')}>
        <option value="">{t('inc.anyCategory')}</option>
        {CATEGORIES.map((c) => <option value={c}>{label(c)}</option>)}</select></label>
      <label>{t('inc.words')}<input name="words" value={f.words} onInput={set('words')} placeholder={t('inc.wordsHint')} /></label>
      <label class="inline"><input type="checkbox" checked={f.linkExisting} onChange={set('linkExisting')} /> {t('inc.linkExisting')}</label>
      <button type="submit" class="primary">{t('inc.openButton')}</button>
      <ErrorLine error={error} />
    </form>
  );
}

function Grants({ me, incident }) {
  const [list, error, reload] = useLoad(() => api.call('CompensationService', 'ListGrants', { incidentId: incident.id }), [incident.id]);
  const [f, setF] = useState({ item: '', payload: '', value: '', reason: '' });
  const [actError, setActError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const act = async (fn) => { try { await fn(); setActError(null); reload(); } catch (err) { setActError(err); } };
  const propose = (e) => {
    e.preventDefault();
    act(() => api.call('CompensationService', 'ProposeGrant', { idempotencyKey: `console-${Date.now()}`, spec: {
      item: f.item, payload: f.payload, valuePerPlayer: String(f.value), reason: f.reason, incidentId: incident.id } }));
  };
  const decide = (id, approve) => act(() => api.call('CompensationService', 'DecideGrant', {
    grantId: id, approve, reason: t(approve ? 'grant.approvedInConsole' : 'grant.rejectedInConsole') }));
  return (
    <section class="card" id="grants">
      <h2>{t('grant.title')}</h2>
      <ErrorLine error={error ?? actError} />
      <table class="grid"><tbody>{list?.grants.map((g) => (
        <tr><td>#{g.id}</td><td>{g.spec.item}</td><td>{label(g.state)}</td>
          <td>{t('grant.players', { n: g.recipients })} · {t('grant.total', { v: g.totalValue })}</td>
          <td>{g.state === 'GRANT_STATE_APPROVED' ? t('grant.progress', { d: g.delivered, a: g.acknowledged, n: g.recipients })
            : g.whyApproval}</td>
          <td>{g.state === 'GRANT_STATE_PENDING_APPROVAL' && atLeast(me, 'supervisor') && g.proposedBy !== me.name && <>
            <button onClick={() => decide(g.id, true)}>{t('grant.approve')}</button>
            <button onClick={() => decide(g.id, false)}>{t('grant.reject')}</button></>}</td>
        </tr>))}</tbody></table>
      {list && !list.grants.length && <p class="muted">{t('grant.none')}</p>}
      {active(incident) && <form onSubmit={propose} class="inline-form">
        <h3>{t('grant.propose')}</h3>
        <label>{t('grant.item')}<input name="item" value={f.item} onInput={set('item')} required /></label>
        <label>{t('grant.payload')}<input name="payload" value={f.payload} onInput={set('payload')} /></label>
        <label>{t('grant.value')}<input name="value" type="number" min="1" value={f.value} onInput={set('value')} required /></label>
        <label>{t('grant.reason')}<input name="reason" value={f.reason} onInput={set('reason')} required /></label>
        <button type="submit">{t('grant.proposeButton')}</button>
      </form>}
    </section>
  );
}

function Detail({ me, id, onChanged }) {
  const [inc, error, reload] = useLoad(() => api.call('IncidentService', 'GetIncident', { incidentId: id }), [id]);
  const [tickets, tError, reloadTickets] = useLoad(() => api.call('IncidentService', 'ListIncidentTickets', { incidentId: id, pageSize: 200 }), [id]);
  const [reply, setReply] = useState('');
  const [cause, setCause] = useState(CAUSES[0]);
  const [resolution, setResolution] = useState('');
  const [actError, setActError] = useState(null);
  const act = async (method, body) => {
    try {
      await api.call('IncidentService', method, { incidentId: id, ...body });
      setActError(null); reload(); reloadTickets(); onChanged();
    } catch (err) { setActError(err); }
  };
  const i = inc?.incident;
  if (!i) return <ErrorLine error={error} />;
  const lead = atLeast(me, 'lead');
  return (
    <div class="incident-detail">
      <section class="card" id="incident">
        <h2>#{i.id} {i.title} <span class="tag">{label(i.state)}</span> <span class="tag">{label(i.cause)}</span></h2>
        <p>{t('inc.summary', { realm: i.filter.realmId, when: fmtTime(i.createdAtMs), by: i.createdBy })}</p>
        {i.suggestedReason && <p class="warn-line">{t('inc.suggestedBecause', { why: i.suggestedReason })}</p>}
        <p>{t('inc.counts', { linked: i.linked, detached: i.detached, replies: i.replies })}</p>
        {i.resolvedAtMs !== '0' && i.resolvedAtMs && <p>{t('inc.closedLine', { when: fmtTime(i.resolvedAtMs), by: i.resolvedBy,
          took: fmtDuration(Number(i.resolvedAtMs) - Number(i.createdAtMs)), text: i.resolution })}</p>}
        <ErrorLine error={error ?? actError} />
        {lead && i.state === 'INCIDENT_STATE_SUGGESTED' && <div class="actions">
          <select value={cause} onChange={(e) => setCause(e.target.value)}>{CAUSES.map((c) => <option value={c}>{label(c)}</option>)}</select>
          <button class="primary" onClick={() => act('ConfirmIncident', { cause })}>{t('inc.confirm')}</button>
          <button onClick={() => act('DismissIncident', { reason: t('inc.dismissedInConsole') })}>{t('inc.dismiss')}</button>
        </div>}
        {lead && active(i) && <form class="inline-form" onSubmit={(e) => { e.preventDefault(); act('ReplyToIncident', { body: reply }).then(() => setReply('')); }}>
          <label>{t('inc.replyAll', { n: i.linked })}<textarea name="reply" value={reply} onInput={(e) => setReply(e.target.value)} required /></label>
          <button type="submit">{t('inc.send')}</button>
        </form>}
        {lead && i.state === 'INCIDENT_STATE_OPEN' && <form class="inline-form" onSubmit={(e) => { e.preventDefault(); act('ResolveIncident', { resolution }); }}>
          <label>{t('inc.resolution')}<input name="resolution" value={resolution} onInput={(e) => setResolution(e.target.value)} required /></label>
          <button type="submit">{t('inc.resolve', { n: i.linked })}</button>
        </form>}
      </section>
      <section class="card" id="incident-tickets">
        <h2>{t('inc.tickets')}</h2>
        <ErrorLine error={tError} />
        {tickets && <p>{t('inc.delivery', { q: tickets.queued, d: tickets.delivered, r: tickets.read })}</p>}
        <table class="grid"><tbody>{tickets?.tickets.map((tk) => (
          <tr><td><a href={ticketLink(tk.ticketId)}>#{tk.ticketId}</a></td><td>{tk.playerId}</td><td>{tk.serverId}</td>
            <td>{label(tk.status)}</td><td>{tk.replyDelivery !== 'DELIVERY_STATE_UNSPECIFIED' ? label(tk.replyDelivery) : '—'}</td>
            <td>{tk.detached && <span class="tag warn">{t('inc.detached')}</span>}</td></tr>))}</tbody></table>
      </section>
      <Grants me={me} incident={i} />
    </div>
  );
}

export function Incidents({ me, args, onAuthLost }) {
  const [state, setState] = useState('');
  const [list, error, reload] = useLoad(() => api.call('IncidentService', 'ListIncidents', { state: state || undefined, pageSize: 100 }), [state], onAuthLost);
  const selected = args[0] ?? list?.incidents[0]?.id;
  return (
    <div class="page">
      <h1>{t('inc.title')}</h1>
      <div class="columns">
        <section class="card">
          <label>{t('inc.state')} <select value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">{t('inc.allStates')}</option>
            {STATES.map((s) => <option value={s}>{label(s)}</option>)}</select></label>
          <ErrorLine error={error} />
          <table class="grid" id="incident-list"><tbody>{list?.incidents.map((i) => (
            <tr class={String(i.id) === String(selected) ? 'selected' : ''}>
              <td><a href={`#/incidents/${i.id}`}>#{i.id}</a></td><td class="text">{i.title}</td><td>{label(i.state)}</td>
              <td>{i.filter.realmId}</td><td>{t('inc.linkedShort', { n: i.linked })}</td><td>{fmtTime(i.createdAtMs)}</td></tr>))}
          </tbody></table>
          {list && !list.incidents.length && <p class="muted">{t('inc.none')}</p>}
        </section>
        {atLeast(me, 'lead') && <OpenForm onOpened={(id) => { reload(); location.hash = `#/incidents/${id}`; }} />}
      </div>
      {selected && <Detail me={me} id={selected} onChanged={reload} />}
    </div>
  );
}
