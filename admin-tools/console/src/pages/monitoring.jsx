import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import * as api from '../api.js';
import { t, fmtTime, fmtNumber, label, prefs } from '../i18n.js';
import { useLoad, ErrorLine } from './common.jsx';
import { atLeast } from '../roles.js';

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
      {data?.points.length > 0 && <div ref={box} class="chart" id="metric-chart" />}
    </section>
  );
}

const KINDS = ['RULE_KIND_THRESHOLD', 'RULE_KIND_RATE_OF_CHANGE', 'RULE_KIND_PATTERN', 'RULE_KIND_DISTINCT',
  'RULE_KIND_ABSENCE'];
const SEVERITIES = ['SEVERITY_INFO', 'SEVERITY_WARNING', 'SEVERITY_CRITICAL'];
const ACTIONS = ['ACTION_KIND_NONE', 'ACTION_KIND_PAGE', 'ACTION_KIND_OPEN_CASE', 'ACTION_KIND_SANCTION'];
const AGGREGATES = ['AGGREGATE_COUNT', 'AGGREGATE_SUM', 'AGGREGATE_MIN', 'AGGREGATE_MAX'];
const EMPTY_RULE = { name: '', kind: 'RULE_KIND_THRESHOLD', enabled: true, severity: 'SEVERITY_WARNING', eventTypes: '',
  groupBy: '', windowSeconds: '60', aggregate: 'AGGREGATE_COUNT', comparison: 'COMPARISON_ABOVE', threshold: '10',
  pattern: '', caseInsensitive: true, distinctOf: '', absenceSeconds: '0', action: 'ACTION_KIND_NONE' };

// The field a validation error names ("rule.event_types: ..." -> eventTypes).
function errorField(message) {
  const m = /^rule\.([a-z_.]+)/.exec(message ?? '');
  if (!m) return null;
  const f = m[1].split('.')[0];
  return f === 'action' ? 'action' : f.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

function RuleEditor({ rule, onSaved }) {
  const [f, setF] = useState(() => rule ? { ...EMPTY_RULE, ...rule, eventTypes: rule.eventTypes.join(','),
    groupBy: rule.groupBy.join(','), action: rule.action?.kind ?? 'ACTION_KIND_NONE' } : EMPTY_RULE);
  const [error, setError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const list = (v) => v.split(',').map((x) => x.trim()).filter(Boolean);
  const save = async (e) => {
    e.preventDefault();
    try {
      await api.call('MonitoringService', 'SaveRule', { rule: {
        id: rule?.id ?? '0', version: rule?.version ?? '0', name: f.name, kind: f.kind, enabled: f.enabled,
        severity: f.severity, eventTypes: list(f.eventTypes), groupBy: list(f.groupBy),
        windowSeconds: String(f.windowSeconds), aggregate: f.aggregate, comparison: f.comparison,
        threshold: Number(f.threshold), pattern: f.pattern, caseInsensitive: f.caseInsensitive, distinctOf: f.distinctOf,
        absenceSeconds: String(f.absenceSeconds), action: { kind: f.action } } });
      setError(null);
      onSaved();
    } catch (err) { setError(err); }
  };
  const field = errorField(error?.message);
  const Err = ({ name }) => (field === name ? <span class="field-error" role="alert">{error.message}</span> : null);
  const input = (name, props = {}) => [<input id={`rule-${name}`} value={f[name]} onInput={set(name)}
    aria-invalid={field === name} {...props} />, <Err name={name} />];
  const select = (name, values) => [<select id={`rule-${name}`} value={f[name]} onChange={set(name)}>
    {values.map((v) => <option value={v}>{label(v)}</option>)}</select>, <Err name={name} />];
  return (
    <form class="card rule-editor" onSubmit={save}>
      <h2>{rule ? t('mon.editRule', { name: rule.name }) : t('mon.newRule')}</h2>
      <div class="filters">
        <label>{t('mon.rule.name')}{input('name')}</label>
        <label>{t('mon.rule.kind')}{select('kind', KINDS)}</label>
        <label>{t('mon.col.severity')}{select('severity', SEVERITIES)}</label>
        <label class="inline"><input type="checkbox" checked={f.enabled} onChange={set('enabled')} /> {t('mon.rule.enabled')}</label>
      </div>
      <div class="filters">
        <label>{t('mon.rule.eventTypes')}{input('eventTypes')}</label>
        <label>{t('mon.rule.groupBy')}{input('groupBy')}</label>
        <label>{t('mon.rule.window')}{input('windowSeconds', { type: 'number' })}</label>
      </div>
      <div class="filters">
        <label>{t('mon.rule.aggregate')}{select('aggregate', AGGREGATES)}</label>
        <label>{t('mon.rule.threshold')}{input('threshold', { type: 'number', step: 'any' })}</label>
        <label>{t('mon.rule.pattern')}{input('pattern')}</label>
        <label>{t('mon.rule.distinctOf')}{input('distinctOf')}</label>
        <label>{t('mon.rule.absence')}{input('absenceSeconds', { type: 'number' })}</label>
      </div>
      <div class="filters">
        <label>{t('mon.rule.action')}{select('action', ACTIONS)}</label>
        <button type="submit" id="rule-save" class="primary">{t('mon.rule.save')}</button>
      </div>
      {error && !field && <ErrorLine error={error} />}
    </form>
  );
}

function Rules({ me, onAuthLost }) {
  const [list, error, reload] = useLoad(() => api.call('MonitoringService', 'ListRules', {}), [], onAuthLost);
  const [editing, setEditing] = useState(undefined);  // undefined: none; null: new
  const lead = atLeast(me, 'lead');
  return (
    <section class="card">
      <h2>{t('mon.rules')}</h2>
      <ErrorLine error={error} />
      <table class="grid" id="rules"><tbody>{list?.rules.map((r) => (
        <tr><td>{r.name}</td><td>{label(r.kind)}</td><td>{label(r.severity)}</td>
          <td>{t(r.enabled ? 'mon.rule.on' : 'mon.rule.off')}</td>
          <td>{lead && <button onClick={() => setEditing(r)}>{t('mon.rule.edit')}</button>}</td></tr>))}</tbody></table>
      {lead && editing === undefined && <button id="rule-new" onClick={() => setEditing(null)}>{t('mon.newRule')}</button>}
      {editing !== undefined && <RuleEditor key={editing?.id ?? 'new'} rule={editing}
        onSaved={() => { setEditing(undefined); reload(); }} />}
    </section>
  );
}

export function Monitoring({ me, onAuthLost }) {
  return (
    <div class="page">
      <h1>{t('mon.title')}</h1>
      <LiveAlerts onAuthLost={onAuthLost} />
      <Chart onAuthLost={onAuthLost} />
      <Rules me={me} onAuthLost={onAuthLost} />
    </div>
  );
}
