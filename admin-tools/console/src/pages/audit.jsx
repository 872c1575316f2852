import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtTime, fmtNumber } from '../i18n.js';
import { useLoad, ErrorLine } from './common.jsx';

export function Audit({ onAuthLost }) {
  const [target, setTarget] = useState('');
  const [query, setQuery] = useState('');
  const [verify, setVerify] = useState(null);
  const [verifyError, setVerifyError] = useState(null);
  const [list, error] = useLoad(() => api.call('AuditService', 'ListAuditRecords', { target: query, pageSize: 100 }),
    [query], onAuthLost);
  const check = async () => {
    setVerify(null);
    try { setVerify(await api.call('AuditService', 'VerifyAuditChain', {})); } catch (err) { setVerifyError(err); }
  };
  return (
    <div class="page">
      <h1>{t('audit.title')}</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setQuery(target); }}>
        <label>{t('audit.target')}<input id="audit-target" placeholder="ticket/42" value={target}
          onInput={(e) => setTarget(e.target.value)} /></label>
        <button type="submit">{t('audit.search')}</button>
        <button type="button" id="audit-verify" onClick={check}>{t('audit.verify')}</button>
      </form>
      {verify && (
        <p class={verify.intact ? 'ok' : 'error'} id="audit-verdict">
          {verify.intact ? t('audit.intact', { n: fmtNumber(Number(verify.recordsChecked)) })
            : t('audit.broken', { id: verify.firstBadId, problem: verify.problem })}
        </p>)}
      <ErrorLine error={error ?? verifyError} />
      <table class="grid">
        <thead><tr><th>{t('audit.col.at')}</th><th>{t('audit.col.actor')}</th><th>{t('audit.col.action')}</th>
          <th>{t('audit.col.target')}</th><th>{t('audit.col.reason')}</th></tr></thead>
        <tbody>{list?.records?.map((r) => (
          <tr><td>{fmtTime(r.atMs)}</td><td>{r.actor} ({r.actorRole})</td><td>{r.action}</td><td>{r.target}</td><td>{r.reason}</td></tr>))}
        </tbody>
      </table>
    </div>
  );
}
