import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtTime, fmtNumber, label } from '../i18n.js';
import { useLoad, ErrorLine } from './common.jsx';

const BUG_STATUSES = ['BUG_STATUS_NEW', 'BUG_STATUS_CONFIRMED', 'BUG_STATUS_FIXED', 'BUG_STATUS_WONT_FIX'];

function CaseDetail({ id, onDone }) {
  const [data, error, reload] = useLoad(() => api.call('ReportService', 'GetCase', { caseId: id }), [id]);
  const [note, setNote] = useState('');
  const [actError, setActError] = useState(null);
  const resolve = async (actionTaken) => {
    try {
      await api.call('ReportService', 'ResolveCase', { caseId: id, actionTaken, resolution: note });
      setActError(null); reload(); onDone();
    } catch (err) { setActError(err); }
  };
  if (!data) return <ErrorLine error={error} />;
  const c = data.case;
  return (
    <section class="card" id="case-detail">
      <h2>{t('cases.case', { id: c.id, subject: c.subjectId })}</h2>
      <p>{label(c.state)} · {t('cases.counts', { n: c.reportCount, people: c.distinctReporters })}</p>
      <ul class="plain">{data.reports.map((r) => (
        <li><strong>{r.reporterId}</strong> · {fmtTime(r.createdAtMs)} · <span class="text">{r.message}</span>
          {r.evidence?.chatLines?.length > 0 && <ul>{r.evidence.chatLines.map((l) => <li class="text">{l.text ?? JSON.stringify(l)}</li>)}</ul>}
        </li>))}</ul>
      {['CASE_STATE_OPEN', 'CASE_STATE_ESCALATED'].includes(c.state) && (
        <div class="row">
          <input placeholder={t('cases.note')} value={note} onInput={(e) => setNote(e.target.value)} />
          <button onClick={() => resolve(true)}>{t('cases.actioned')}</button>
          <button onClick={() => resolve(false)}>{t('cases.dismiss')}</button>
        </div>)}
      {c.resolution && <p class="muted text">{c.resolution}</p>}
      <ErrorLine error={actError} />
    </section>
  );
}

function BugDetail({ id, onDone }) {
  const [data, error, reload] = useLoad(() => api.call('ReportService', 'GetBug', { bugId: id }), [id]);
  const [f, setF] = useState({ status: 'BUG_STATUS_CONFIRMED', fixedInBuild: '', note: '' });
  const [actError, setActError] = useState(null);
  const update = async (e) => {
    e.preventDefault();
    try { await api.call('ReportService', 'UpdateBugStatus', { bugId: id, ...f }); setActError(null); reload(); onDone(); }
    catch (err) { setActError(err); }
  };
  if (!data) return <ErrorLine error={error} />;
  const b = data.bug;
  return (
    <section class="card" id="bug-detail">
      <h2 class="text">{t('cases.bug', { id: b.id })} {b.title}</h2>
      <p>{label(b.status)} · {label(b.severity)} · {t('cases.bugCounts', { n: b.reportCount, players: b.affectedPlayers })}</p>
      <p class="muted">{t('cases.signature')}: <code>{b.signature}</code></p>
      <ul class="plain">{data.reports.map((r) => (
        <li class="bug-report"><strong>{r.playerId}</strong> · {r.build} · {r.platform} · {fmtTime(r.createdAtMs)}
          <p class="text">{r.reproSteps}</p>
          {r.attachments.map((a) => (
            <a class="attachment" href={`/console/attachment/${r.id}/${a.index}`} download={a.name}>
              {a.name} ({a.contentType}, {fmtNumber(a.size / 1024, 1)} KiB)</a>))}
        </li>))}</ul>
      <form class="row" onSubmit={update}>
        <select value={f.status} onChange={(e) => setF({ ...f, status: e.target.value })}>
          {BUG_STATUSES.map((s) => <option value={s}>{label(s)}</option>)}</select>
        <input placeholder={t('cases.fixedIn')} value={f.fixedInBuild} onInput={(e) => setF({ ...f, fixedInBuild: e.target.value })} />
        <input placeholder={t('cases.noteToPlayers')} value={f.note} onInput={(e) => setF({ ...f, note: e.target.value })} />
        <button type="submit">{t('ticket.setStatus')}</button>
      </form>
      <ErrorLine error={actError} />
    </section>
  );
}

export function Cases({ onAuthLost }) {
  const [cases, casesError, reloadCases] = useLoad(() => api.call('ReportService', 'ListCases', { pageSize: 100 }), [], onAuthLost);
  const [bugs, bugsError, reloadBugs] = useLoad(() => api.call('ReportService', 'ListBugs', { pageSize: 100 }), [], onAuthLost);
  const [open, setOpen] = useState(null);  // { kind, id }
  return (
    <div class="page">
      <h1>{t('cases.title')}</h1>
      <div class="columns">
        <div>
          <section class="card">
            <h2>{t('cases.cases')}</h2>
            <ErrorLine error={casesError} />
            {cases && !cases.cases.length && <p class="muted">{t('shift.none')}</p>}
            <table class="grid"><tbody>{cases?.cases.map((c) => (
              <tr><td><a href="#/cases" onClick={(e) => { e.preventDefault(); setOpen({ kind: 'case', id: c.id }); }}>#{c.id}</a></td>
                <td>{c.subjectId}</td><td>{label(c.state)}</td><td>{fmtNumber(c.reportCount)}</td>
                <td>{fmtTime(c.lastSeenMs)}</td></tr>))}</tbody></table>
          </section>
          <section class="card">
            <h2>{t('cases.bugs')}</h2>
            <ErrorLine error={bugsError} />
            {bugs && !bugs.bugs.length && <p class="muted">{t('shift.none')}</p>}
            <table class="grid"><tbody>{bugs?.bugs.map((b) => (
              <tr><td><a href="#/cases" onClick={(e) => { e.preventDefault(); setOpen({ kind: 'bug', id: b.id }); }}>#{b.id}</a></td>
                <td class="text">{b.title}</td><td>{label(b.status)}</td><td>{label(b.severity)}</td>
                <td>{t('cases.bugCounts', { n: b.reportCount, players: b.affectedPlayers })}</td></tr>))}</tbody></table>
          </section>
        </div>
        <div>
          {open?.kind === 'case' && <CaseDetail id={open.id} onDone={reloadCases} />}
          {open?.kind === 'bug' && <BugDetail id={open.id} onDone={reloadBugs} />}
        </div>
      </div>
    </div>
  );
}
