import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import * as api from '../api.js';
import { t, fmtTime, fmtNumber, label, prefs } from '../i18n.js';
import { useLoad, ErrorLine } from './common.jsx';

// Alerts as they are raised (a server stream), newest first.
function LiveAlerts({ onAuthLost }) {
  const [alerts, error, reload] = useLoad(() => api.call('MonitoringService', 'ListAlerts', { limit: 50 }), [], onAuthLost);
  const [live, setLive] = useState([]);
  const [streamError, setStreamError] = useState(null);
  useEffect(() => api.stream('MonitoringService', 'WatchAlerts', { minSeverity: 'SEVERITY_INFO' },
    (a) => { if (Number(a.id) > 0) setLive((l) => [a, ...l.filter((x) => x.id !== a.id)].slice(0, 200)); },
    setStreamError), []);
  const seen = new Set(live.map((a) => a.id));
  const all = [...live, ...(alerts?.alerts ?? []).filter((a) => !seen.has(a.id))];
  const ack = async (id) => { await api.call('MonitoringService', 'AcknowledgeAlert', { id, note: '' }); reload(); setLive((l) => l.filter((a) => a.id !== id)); };
  return (
    <section class="card">
      <h2>{t('mon.alerts')}</h2>
      <ErrorLine error={error ?? streamError} />
      {!all.length && <p class="muted">{t('mon.noAlerts')}</p>}
      <table class="grid" id="alerts">
        <thead><tr><th>{t('mon.col.raised')}</th><th>{t('mon.col.rule')}</th><th>{t('mon.col.severity')}</th>
          <th>{t('mon.col.key')}</th><th>{t('mon.col.value')}</th><th>{t('mon.col.state')}</th><th></th></tr></thead>
        <tbody>{all.map((a) => (
          <tr class={`sev ${a.severity}`}>
            <td>{fmtTime(a.raisedAtMs)}</td><td>{a.ruleName}</td><td>{label(a.severity)}</td>
            <td>{a.key}</td><td>{fmtNumber(a.value, 2)}</td><td>{label(a.state)}</td>
            <td>{a.state === 'ALERT_STATE_OPEN' && <button onClick={() => ack(a.id)}>{t('mon.ack')}</button>}</td>
          </tr>))}
        </tbody>
      </table>
    </section>
  );
}

// One metric per minute over the last hours, drawn with uPlot.
function Chart({ onAuthLost }) {
  const [type, setType] = useState('ccu');
  const [realm, setRealm] = useState('');
  const [hours, setHours] = useState(6);
  const [data, error] = useLoad(() => api.call('MonitoringService', 'QueryMetrics', {
    type, realmId: realm, resolution: 'RESOLUTION_MINUTE', fromMs: String(Date.now() - hours * 3600_000) }),
  [type, realm, hours], onAuthLost);
  const box = useRef(null);
  useEffect(() => {
    if (!box.current || !data?.points.length) return undefined;
    // Points come per server: add them up per minute.
    const byMinute = new Map();
    for (const p of data.points) {
      const k = Number(p.startMs);
      const v = type === 'ccu' ? Number(p.max) : Number(p.count);
      byMinute.set(k, (byMinute.get(k) ?? 0) + v);
    }
    const xs = [...byMinute.keys()].sort((a, b) => a - b);
    const plot = new uPlot({
      width: Math.max(400, box.current.clientWidth - 20), height: 260, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), prefs.zone),
      series: [{ label: t('mon.time') }, { label: t(`mon.metric.${type}`), stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.08)' }],
      axes: [{}, { values: (u, vals) => vals.map((v) => fmtNumber(v)) }],
    }, [xs.map((x) => x / 1000), xs.map((x) => byMinute.get(x))], box.current);
    return () => plot.destroy();
  }, [data]);
  return (
    <section class="card">
      <h2>{t('mon.metrics')}</h2>
      <div class="filters">
        <label>{t('mon.metric')}<select id="metric-type" value={type} onChange={(e) => setType(e.target.value)}>
          {['ccu', 'login', 'crash', 'purchase'].map((m) => <option value={m}>{t(`mon.metric.${m}`)}</option>)}</select></label>
        <label>{t('queue.realm')}<input value={realm} onChange={(e) => setRealm(e.target.value)} /></label>
        <label>{t('mon.hours')}<select value={hours} onChange={(e) => setHours(Number(e.target.value))}>
          {[1, 6, 24].map((h) => <option value={h}>{t('mon.lastHours', { n: h })}</option>)}</select></label>
      </div>
      <ErrorLine error={error} />
      {data && !data.points.length && <p class="muted">{t('mon.noPoints')}</p>}
      <div ref={box} class="chart" id="metric-chart" />
    </section>
  );
}

export function Monitoring({ onAuthLost }) {
  return (
    <div class="page">
      <h1>{t('mon.title')}</h1>
      <LiveAlerts onAuthLost={onAuthLost} />
      <Chart onAuthLost={onAuthLost} />
    </div>
  );
}
