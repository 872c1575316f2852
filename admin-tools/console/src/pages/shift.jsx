import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtTime, label } from '../i18n.js';
import { useLoad, ErrorLine, ticketLink } from './common.jsx';

function TicketList({ tickets, empty }) {
  if (!tickets?.length) return <p class="muted">{empty}</p>;
  return (
    <ul class="plain">
      {tickets.map((tk) => (
        <li><a href={ticketLink(tk.id)}>#{tk.id}</a> {tk.subject} <span class="tag">{label(tk.status)}</span></li>
      ))}
    </ul>
  );
}

function HandoverForm({ onWritten }) {
  const [f, setF] = useState({ realmId: '', systemState: '', openIssues: '', staffingNotes: '' });
  const [error, setError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    try {
      await api.call('DeskService', 'WriteHandover', {
        realmId: f.realmId, systemState: f.systemState, staffingNotes: f.staffingNotes,
        openIssues: f.openIssues.split('\n').map((s) => s.trim()).filter(Boolean),
      });
      setF({ realmId: '', systemState: '', openIssues: '', staffingNotes: '' });
      setError(null);
      onWritten();
    } catch (err) { setError(err); }
  };
  return (
    <form class="card" onSubmit={submit}>
      <h2>{t('shift.writeHandover')}</h2>
      <label>{t('shift.realm')}<input value={f.realmId} onInput={set('realmId')} /></label>
      <label>{t('shift.systemState')}<textarea value={f.systemState} onInput={set('systemState')} required /></label>
      <label>{t('shift.openIssues')}<textarea value={f.openIssues} onInput={set('openIssues')} /></label>
      <label>{t('shift.staffing')}<textarea value={f.staffingNotes} onInput={set('staffingNotes')} /></label>
      <button type="submit">{t('shift.save')}</button>
      <ErrorLine error={error} />
    </form>
  );
}

export function Shift({ onAuthLost }) {
  const [brief, error, reload] = useLoad(() => api.call('DeskService', 'GetShiftBrief', { limit: 50 }), [], onAuthLost);
  const markRead = async (id) => { await api.call('DeskService', 'MarkHandoverRead', { id }); reload(); };
  return (
    <div class="page">
      <h1>{t('shift.title')}</h1>
      <ErrorLine error={error} />
      <div class="columns">
        <section class="card">
          <h2>{t('shift.handovers')}</h2>
          {!brief?.unreadHandovers?.length && <p class="muted">{t('shift.noHandovers')}</p>}
          {brief?.unreadHandovers?.map((h) => (
            <article class="handover">
              <header>{t('shift.handoverBy', { author: h.author, when: fmtTime(h.writtenAtMs) })}
                {h.realmId && <span class="tag">{h.realmId}</span>}</header>
              <p class="text">{h.systemState}</p>
              {h.openIssues.length > 0 && <ul>{h.openIssues.map((i) => <li>{i}</li>)}</ul>}
              {h.staffingNotes && <p class="text muted">{h.staffingNotes}</p>}
              <button onClick={() => markRead(h.id)}>{t('shift.markRead')}</button>
            </article>
          ))}
        </section>
        <section class="card">
          <h2>{t('shift.escalations')}</h2>
          <TicketList tickets={brief?.openEscalations} empty={t('shift.none')} />
          <h2>{t('shift.breached')}</h2>
          <TicketList tickets={brief?.breached} empty={t('shift.none')} />
          <h2>{t('shift.incidents')}</h2>
          {!brief?.incidents?.length && <p class="muted">{t('shift.none')}</p>}
          <ul class="plain" id="brief-incidents">{brief?.incidents?.map((i) => (
            <li><a href={`#/incidents/${i.id}`}>#{i.id}</a> {i.title} <span class="tag">{label(i.state)}</span>
              {' '}{t('inc.linkedShort', { n: i.linked })}
              {i.suggestedReason && <span class="muted"> · {i.suggestedReason}</span>}</li>))}</ul>
        </section>
      </div>
      <HandoverForm onWritten={reload} />
    </div>
  );
}
