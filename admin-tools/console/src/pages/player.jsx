import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t, fmtTime, label } from '../i18n.js';
import { useLoad, ErrorLine, ticketLink, ReportsAbout } from './common.jsx';

// One player: can they play and chat now, their sanctions, tickets and VIP
// profile (contact details only for the roles that may see them; each
// view is audited by the VIP service).
function PlayerView({ realm, player, onAuthLost }) {
  const [status, statusError] = useLoad(() => api.call('ModerationService', 'CheckPlayer', { playerId: player, realmId: realm }),
    [realm, player], onAuthLost);
  const [sanctions] = useLoad(() => api.call('ModerationService', 'ListSanctions', { subjectId: player, pageSize: 50 }),
    [player], onAuthLost);
  const [tickets] = useLoad(() => api.call('TicketService', 'ListPlayerTickets', { playerId: player, realmId: realm }),
    [realm, player], onAuthLost);
  const [vip, vipError] = useLoad(() => api.call('VipService', 'GetVipProfile', { playerId: player, realmId: realm }),
    [realm, player], onAuthLost);
  const yes = (b) => t(b ? 'player.yes' : 'player.no');
  return (
    <div class="columns">
      <div>
        <section class="card" id="player-status">
          <h2>{t('player.now')}</h2>
          <ErrorLine error={statusError} />
          {status && <dl class="context">
            <dt>{t('player.canLogin')}</dt><dd>{yes(status.canLogin)}</dd>
            <dt>{t('player.canChat')}</dt><dd>{yes(status.canChat)}</dd>
            <dt>{t('player.restricted')}</dt><dd>{status.restrictedFeatures.join(', ') || '—'}</dd>
          </dl>}
        </section>
        <section class="card">
          <h2>{t('ticket.sanctions')}</h2>
          <table class="grid"><tbody>{sanctions?.sanctions.map((s) => (
            <tr><td>#{s.id}</td><td>{label(s.spec.type)}</td><td>{label(s.state)}</td><td>{fmtTime(s.issuedAtMs)}</td>
              <td>{s.issuedBy}</td><td class="text">{s.spec.reason}</td></tr>))}</tbody></table>
          {sanctions && !sanctions.sanctions.length && <p class="muted">{t('ticket.noSanctions')}</p>}
        </section>
        <section class="card" id="player-reports">
          <ReportsAbout realm={realm} player={player} onAuthLost={onAuthLost} />
        </section>
        <section class="card">
          <h2>{t('player.tickets')}</h2>
          <ul class="plain">{tickets?.tickets.map((tk) => (
            <li><a href={ticketLink(tk.id)}>#{tk.id}</a> <span class="text">{tk.subject}</span>
              <span class="tag">{label(tk.status)}</span> {fmtTime(tk.createdAtMs)}</li>))}</ul>
          {tickets && !tickets.tickets.length && <p class="muted">{t('shift.none')}</p>}
        </section>
      </div>
      <section class="card">
        <h2>{t('ticket.vip')}</h2>
        {vip?.profile?.tier ? (
          <dl class="context">
            <dt>{t('player.tier')}</dt><dd>{vip.profile.tier}</dd>
            <dt>{t('player.tierSince')}</dt><dd>{fmtTime(vip.profile.tierSinceMs)}</dd>
            <dt>{t('player.careGm')}</dt><dd>{vip.profile.careGm || '—'}</dd>
            <dt>{t('player.contact')}</dt><dd>{vip.profile.contact?.email || vip.profile.contact?.phone || t('player.hidden')}</dd>
          </dl>) : <p class="muted">{vipError?.code === 'not_found' || !vip?.profile?.tier ? t('ticket.notVip') : ''}</p>}
      </section>
    </div>
  );
}

export function Player({ args, onAuthLost }) {
  const [realm, setRealm] = useState(args[0] ?? '');
  const [player, setPlayer] = useState(args[1] ?? '');
  const [shown, setShown] = useState(args[1] ? { realm: args[0] ?? '', player: args[1] } : null);
  return (
    <div class="page">
      <h1>{t('player.title')}</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setShown({ realm, player }); }}>
        <label>{t('queue.realm')}<input id="player-realm" value={realm} onInput={(e) => setRealm(e.target.value)} required /></label>
        <label>{t('player.id')}<input id="player-id" value={player} onInput={(e) => setPlayer(e.target.value)} required /></label>
        <button type="submit">{t('player.look')}</button>
      </form>
      {shown && <PlayerView realm={shown.realm} player={shown.player} onAuthLost={onAuthLost} />}
    </div>
  );
}
