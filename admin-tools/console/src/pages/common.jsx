// Small pieces the pages share.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, label } from '../i18n.js';

// Runs `load` now and on each change of `deps`; gives [data, error, reload].
export function useLoad(load, deps, onAuthLost) {
  const [state, setState] = useState({ data: null, error: null });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data, error: null }),
      (error) => {
        if (!live) return;
        if (error.code === 'unauthenticated' && onAuthLost) onAuthLost();
        setState((s) => ({ data: s.data, error }));
      });
    return () => { live = false; };
  }, [...deps, n]);
  return [state.data, state.error, () => setN((x) => x + 1)];
}

// Re-renders every `ms` (clocks that count down).
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

export function ErrorLine({ error }) {
  if (!error) return null;
  return <p class="error" role="alert">{t('common.error', { message: error.message })}</p>;
}

export const ticketLink = (id) => `#/ticket/${id}`;

// A ticket's time limit as the desk reads it: which clock runs (dispatch
// until someone owns it, then the answer), its state and the time left.
export function slaClock(ticket, now) {
  const sla = ticket.sla ?? {};
  const closed = ['TICKET_STATUS_RESOLVED', 'TICKET_STATUS_CLOSED'].includes(ticket.status);
  const dispatched = Number(sla.dispatchedAtMs) > 0;
  const answered = Number(sla.answeredAtMs) > 0;
  if (closed || (dispatched && answered)) return { state: 'done', left: 0 };
  const due = Number(dispatched ? sla.answerDueMs : sla.dispatchDueMs);
  const breached = dispatched ? sla.answerBreached : sla.dispatchBreached;
  if (Number(sla.pausedSinceMs) > 0) return { state: 'paused', left: due - Number(sla.pausedSinceMs) };
  if (!due) return { state: 'done', left: 0 };
  const left = due - now;
  if (breached || left < 0) return { state: 'breached', left };
  return { state: sla.atRisk ? 'risk' : 'ok', left };
}

// Open report cases about a player: how many reports, of what, in what state.
export function ReportsAbout({ realm, player, onAuthLost }) {
  const [cases] = useLoad(() => api.call('ReportService', 'ListCases', { realmId: realm, subjectId: player }),
    [realm, player], onAuthLost);
  return (
    <div class="reports-about">
      <h3>{t('player.reports')}</h3>
      {cases && !cases.cases.length && <p class="muted">{t('player.noReports')}</p>}
      <ul class="plain">{cases?.cases.map((c) => (
        <li>{t('cases.case', { id: c.id, subject: c.family })} · {label(c.state)} ·{' '}
          {t('cases.counts', { n: c.reportCount, people: c.distinctReporters })}</li>))}</ul>
    </div>
  );
}
