import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtTime, fmtDuration, label } from '../i18n.js';
import { atLeast } from '../roles.js';
import { useLoad, ErrorLine } from './common.jsx';

const TYPES = ['SANCTION_TYPE_WARNING', 'SANCTION_TYPE_MUTE', 'SANCTION_TYPE_TEMP_BAN', 'SANCTION_TYPE_BAN',
  'SANCTION_TYPE_RESTRICT', 'SANCTION_TYPE_KICK', 'SANCTION_TYPE_SHADOW_MUTE'];
const DURATIONS = [[3600_000, 'h1'], [86400_000, 'd1'], [3 * 86400_000, 'd3'], [7 * 86400_000, 'd7'],
  [30 * 86400_000, 'd30']];
const DECISIONS = ['APPEAL_DECISION_UPHOLD', 'APPEAL_DECISION_REDUCE', 'APPEAL_DECISION_REVOKE'];

// Issue one sanction, or the same for many players (bulk), with the
// penalty ladder's suggestion for the first player.
function IssueForm() {
  const [f, setF] = useState({ subjects: '', realm: '', type: 'SANCTION_TYPE_TEMP_BAN', durationMs: 86400_000,
    policy: '', reason: '', evidence: '' });
  const [suggestion, setSuggestion] = useState(null);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const players = f.subjects.split(/[\s,]+/).filter(Boolean);
  const suggest = async () => {
    try {
      const s = await api.call('ModerationService', 'SuggestPenalty', { playerId: players[0], realmId: f.realm,
        policyCode: f.policy });
      setSuggestion(s);
      setF({ ...f, type: s.suggestedType, durationMs: Number(s.suggestedDurationMs) || f.durationMs });
    } catch (err) { setError(err); }
  };
  const spec = (subjectId) => ({
    type: f.type, subjectId, scope: { realmId: f.realm }, reason: f.reason, policyCode: f.policy,
    evidence: f.evidence.split('\n').map((s) => s.trim()).filter(Boolean),
    durationMs: ['SANCTION_TYPE_TEMP_BAN', 'SANCTION_TYPE_MUTE', 'SANCTION_TYPE_RESTRICT'].includes(f.type)
      ? String(f.durationMs) : '0',
  });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const key = `console-${Date.now()}`;
    try {
      if (players.length === 1) {
        const r = await api.call('ModerationService', 'IssueSanction', { idempotencyKey: key, spec: spec(players[0]) });
        setResult([r.sanction]);
      } else {
        const r = await api.call('ModerationService', 'BulkIssueSanctions', { idempotencyKey: key,
          specs: players.map(spec) });
        setResult(r.sanctions ?? []);
      }
    } catch (err) { setError(err); }
  };
  return (
    <form class="card" onSubmit={submit} id="issue-form">
      <h2>{t('mod.issue')}</h2>
      <div class="filters">
        <label>{t('mod.players')}<input id="issue-subjects" value={f.subjects} onInput={set('subjects')} required /></label>
        <label>{t('queue.realm')}<input id="issue-realm" value={f.realm} onInput={set('realm')} /></label>
        <label>{t('mod.policy')}<input id="issue-policy" value={f.policy} onInput={set('policy')} /></label>
        <button type="button" onClick={suggest} disabled={!players.length}>{t('mod.suggest')}</button>
      </div>
      {suggestion && <p class="muted" id="suggestion">{t('mod.suggested', { type: label(suggestion.suggestedType),
        d: fmtDuration(Number(suggestion.suggestedDurationMs)), why: suggestion.explanation })}</p>}
      <div class="filters">
        <label>{t('mod.type')}<select id="issue-type" value={f.type} onChange={set('type')}>
          {TYPES.map((x) => <option value={x}>{label(x)}</option>)}</select></label>
        <label>{t('mod.duration')}<select value={f.durationMs} onChange={(e) => setF({ ...f, durationMs: Number(e.target.value) })}>
          {DURATIONS.map(([ms, k]) => <option value={ms}>{t(`mod.dur.${k}`)}</option>)}</select></label>
      </div>
      <label>{t('ticket.reason')}<input id="issue-reason" value={f.reason} onInput={set('reason')} required /></label>
      <label>{t('mod.evidence')}<textarea value={f.evidence} onInput={set('evidence')} /></label>
      <button type="submit" id="issue-submit" class="primary">{t(players.length > 1 ? 'mod.issueMany' : 'mod.issueOne',
        { n: players.length })}</button>
      <ErrorLine error={error} />
      {result && <ul class="plain" id="issue-result">{result.map((s) => (
        <li>#{s.id} {s.spec.subjectId}: {label(s.state)}</li>))}</ul>}
    </form>
  );
}

function Approvals({ me }) {
  const [list, error, reload] = useLoad(() => api.call('ModerationService', 'ListApprovals', { pendingOnly: true }), []);
  const [reason, setReason] = useState('');
  const [actError, setActError] = useState(null);
  const decide = async (id, approve) => {
    try {
      await api.call('ModerationService', 'DecideApproval', { approvalId: id, approve, reason });
      setActError(null); reload();
    } catch (err) { setActError(err); }
  };
  return (
    <section class="card" id="approvals">
      <h2>{t('mod.approvals')}</h2>
      <ErrorLine error={error ?? actError} />
      {list && !list.approvals.length && <p class="muted">{t('mod.noApprovals')}</p>}
      {list?.approvals.length > 0 && (
        <label>{t('ticket.reason')}<input id="approval-reason" value={reason} onInput={(e) => setReason(e.target.value)} /></label>)}
      <ul class="plain">{list?.approvals.map((a) => (
        <li class="approval">
          #{a.id} · {a.whyNeeded} · {t('mod.proposedBy', { who: a.proposedBy, when: fmtTime(a.proposedAtMs) })}
          {' '}<span class="muted">{t('mod.sanctions', { ids: a.sanctionIds.join(', ') })}</span>{' '}
          {a.proposedBy === me.name ? <span class="tag">{t('mod.yours')}</span> : [
            <button class="approve" onClick={() => decide(a.id, true)}>{t('mod.approve')}</button>,
            <button class="reject" onClick={() => decide(a.id, false)}>{t('mod.reject')}</button>]}
        </li>))}
      </ul>
    </section>
  );
}

function Appeals() {
  const [list, error, reload] = useLoad(() => api.call('ModerationService', 'ListAppeals', { openOnly: true }), []);
  const [reply, setReply] = useState('');
  const [actError, setActError] = useState(null);
  const decide = async (id, decision) => {
    try {
      await api.call('ModerationService', 'DecideAppeal', { appealId: id, decision, reply,
        newDurationMs: decision === 'APPEAL_DECISION_REDUCE' ? String(86400_000) : '0' });
      setActError(null); reload();
    } catch (err) { setActError(err); }
  };
  return (
    <section class="card">
      <h2>{t('mod.appeals')}</h2>
      <ErrorLine error={error ?? actError} />
      {list && !list.appeals.length && <p class="muted">{t('mod.noAppeals')}</p>}
      {list?.appeals.length > 0 && (
        <label>{t('mod.replyToPlayer')}<input value={reply} onInput={(e) => setReply(e.target.value)} /></label>)}
      <ul class="plain">{list?.appeals.map((a) => (
        <li>#{a.id} · {a.playerId} · {label(a.reason)} · <span class="text">{a.text}</span>{' '}
          {DECISIONS.map((d) => <button onClick={() => decide(a.id, d)}>{label(d)}</button>)}</li>))}
      </ul>
    </section>
  );
}

export function Moderation({ me }) {
  return (
    <div class="page">
      <h1>{t('mod.title')}</h1>
      <div class="columns">
        <IssueForm />
        <div>
          {atLeast(me, 'supervisor') && <Approvals me={me} />}
          {atLeast(me, 'lead') && <Appeals />}
        </div>
      </div>
    </div>
  );
}
