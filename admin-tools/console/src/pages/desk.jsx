import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import * as api from '../api.js';
import { t, fmtTime, fmtDay, fmtDuration, fmtNumber, label, prefs } from '../i18n.js';
import { atLeast } from '../roles.js';
import { useLoad, ErrorLine, ticketLink } from './common.jsx';

const OUTCOMES = ['ATTEMPT_OUTCOME_REACHED', 'ATTEMPT_OUTCOME_NO_ANSWER', 'ATTEMPT_OUTCOME_LEFT_MESSAGE',
  'ATTEMPT_OUTCOME_WRONG_CONTACT'];
// The default quality sheet ([quality] criteria); the server says when the
// configured sheet differs.
const CRITERIA = ['wording', 'attitude', 'understanding', 'handling'];

function csv(rows) {
  const head = ['period_start', 'received', 'resolved', 'first_response_p50_ms', 'resolution_p50_ms',
    'sla_compliance_pct', 'csat_average', 'callbacks_due', 'callbacks_reached'];
  const lines = rows.map((r) => [new Date(Number(r.periodStartMs)).toISOString(), r.received, r.resolved,
    r.firstResponseP50Ms, r.resolutionP50Ms, r.slaCompliancePct, r.csatAverage, r.callbacksDue, r.callbacksReached].join(','));
  return [head.join(','), ...lines].join('\n') + '\n';
}

function Report({ onAuthLost }) {
  const [days, setDays] = useState(14);
  const [realm, setRealm] = useState('');
  const [report, error] = useLoad(() => {
    const day = 86400_000;
    const to = Math.ceil(Date.now() / day) * day;
    return api.call('DeskService', 'GetDeskReport', { fromMs: String(to - days * day), toMs: String(to),
      granularity: 'REPORT_GRANULARITY_DAY', realmId: realm });
  }, [days, realm], onAuthLost);
  const box = useRef(null);
  useEffect(() => {
    if (!box.current || !report?.rows.length) return undefined;
    const xs = report.rows.map((r) => Number(r.periodStartMs) / 1000);
    const plot = new uPlot({
      width: Math.max(400, box.current.clientWidth - 20), height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), prefs.zone),
      series: [{ label: t('mon.time') },
        { label: t('desk.received'), stroke: '#2563eb', width: 2 },
        { label: t('desk.resolved'), stroke: '#16a34a', width: 2 }],
      axes: [{}, { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000], values: (u, vals) => vals.map((v) => fmtNumber(v)) }],
    }, [xs, report.rows.map((r) => r.received), report.rows.map((r) => r.resolved)], box.current);
    return () => plot.destroy();
  }, [report]);
  const href = report ? URL.createObjectURL(new Blob([csv(report.rows)], { type: 'text/csv' })) : null;
  return (
    <section class="card">
      <h2>{t('desk.report')}</h2>
      <div class="filters">
        <label>{t('mon.hours')}<select value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {[7, 14, 30, 90].map((d) => <option value={d}>{t('desk.lastDays', { n: d })}</option>)}</select></label>
        <label>{t('queue.realm')}<input value={realm} onChange={(e) => setRealm(e.target.value)} /></label>
        {href && <a class="button" href={href} download={`desk-report-${days}d.csv`} id="report-csv">{t('desk.csv')}</a>}
      </div>
      <ErrorLine error={error} />
      <div ref={box} class="chart" id="report-chart" />
      <table class="grid">
        <thead><tr><th>{t('desk.day')}</th><th>{t('desk.received')}</th><th>{t('desk.resolved')}</th>
          <th>{t('desk.firstResponse')}</th><th>{t('desk.resolution')}</th><th>{t('desk.sla')}</th><th>{t('desk.csat')}</th></tr></thead>
        <tbody>{report?.rows.map((r) => (
          <tr><td>{fmtDay(r.periodStartMs)}</td><td>{fmtNumber(r.received)}</td><td>{fmtNumber(r.resolved)}</td>
            <td>{Number(r.firstResponseP50Ms) ? fmtDuration(Number(r.firstResponseP50Ms)) : '—'}</td>
            <td>{Number(r.resolutionP50Ms) ? fmtDuration(Number(r.resolutionP50Ms)) : '—'}</td>
            <td>{r.resolved ? `${fmtNumber(r.slaCompliancePct, 1)}%` : '—'}</td><td>{r.csatCount ? fmtNumber(r.csatAverage, 2) : '—'}</td></tr>))}
        </tbody>
      </table>
    </section>
  );
}

function Quality() {
  const month = new Date().toISOString().slice(0, 7);
  const [period, setPeriod] = useState(month);
  const [sample, setSample] = useState(null);
  const [scoring, setScoring] = useState(null);
  const [scores, setScores] = useState({});
  const [comment, setComment] = useState('');
  const [error, setError] = useState(null);
  const draw = async () => {
    try { setSample(await api.call('DeskService', 'DrawQualitySample', { period })); setError(null); }
    catch (err) { setError(err); }
  };
  const score = async (e) => {
    e.preventDefault();
    try {
      await api.call('DeskService', 'ScoreTicket', { sampleId: sample.id, ticketId: scoring, comment,
        scores: CRITERIA.map((c) => ({ criterion: c, score: Number(scores[c] ?? 0) })) });
      setSample(await api.call('DeskService', 'GetQualitySample', { id: sample.id }));
      setScoring(null); setScores({}); setComment(''); setError(null);
    } catch (err) { setError(err); }
  };
  return (
    <section class="card">
      <h2>{t('desk.quality')}</h2>
      <div class="filters">
        <label>{t('desk.period')}<input value={period} onInput={(e) => setPeriod(e.target.value)} /></label>
        <button onClick={draw}>{t('desk.draw')}</button>
      </div>
      <ErrorLine error={error} />
      {sample && <ul class="plain">{sample.items.map((i) => (
        <li><a href={ticketLink(i.ticketId)}>#{i.ticketId}</a> · {i.agent} ·{' '}
          {i.scored ? t('desk.scored') : <button onClick={() => setScoring(i.ticketId)}>{t('desk.score')}</button>}</li>))}</ul>}
      {scoring && (
        <form onSubmit={score} class="row">
          {CRITERIA.map((c) => (
            <label>{t(`desk.criterion.${c}`)}<input type="number" min="1" max="5" required value={scores[c] ?? ''}
              onInput={(e) => setScores({ ...scores, [c]: e.target.value })} /></label>))}
          <label>{t('desk.comment')}<input value={comment} onInput={(e) => setComment(e.target.value)} /></label>
          <button type="submit">{t('desk.saveScore')}</button>
        </form>)}
    </section>
  );
}

function CareTasks({ me }) {
  const [queue, setQueue] = useState(false);
  const [list, error, reload] = useLoad(() => api.call('VipService', 'ListCareTasks', {
    owner: queue ? '' : me.name, queueOnly: queue, openOnly: true, pageSize: 100 }), [queue]);
  const [actError, setActError] = useState(null);
  const attempt = async (taskId, outcome) => {
    try { await api.call('VipService', 'RecordAttempt', { taskId, outcome, note: '' }); setActError(null); reload(); }
    catch (err) { setActError(err); }
  };
  return (
    <section class="card">
      <h2>{t('desk.care')}</h2>
      <label class="inline"><input type="checkbox" checked={queue} onChange={(e) => setQueue(e.target.checked)} /> {t('desk.vipQueue')}</label>
      <ErrorLine error={error ?? actError} />
      {list && !list.tasks?.length && <p class="muted">{t('shift.none')}</p>}
      <ul class="plain">{list?.tasks?.map((k) => (
        <li>#{k.id} · {label(k.kind)} · {k.playerId} ({k.tier}) · {t('desk.due', { when: fmtTime(k.dueAtMs) })}
          {' '}<span class="muted">{t('desk.attempts', { n: k.attempts.length, max: k.maxAttempts })}</span>
          <div class="row">{OUTCOMES.map((o) => <button onClick={() => attempt(k.id, o)}>{label(o)}</button>)}</div>
        </li>))}</ul>
    </section>
  );
}

export function Desk({ me, onAuthLost }) {
  return (
    <div class="page">
      <h1>{t('desk.title')}</h1>
      {atLeast(me, 'lead') && <Report onAuthLost={onAuthLost} />}
      <div class="columns">
        <CareTasks me={me} />
        {atLeast(me, 'supervisor') && <Quality />}
      </div>
    </div>
  );
}
