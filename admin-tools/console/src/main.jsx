import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.js';
import { t, prefs, setPrefs, languages } from './i18n.js';
import { SignIn } from './pages/signin.jsx';
import { Shift } from './pages/shift.jsx';
import { Queue } from './pages/queue.jsx';
import { Ticket } from './pages/ticket.jsx';
import { Monitoring } from './pages/monitoring.jsx';
import { Audit } from './pages/audit.jsx';
import { Moderation } from './pages/moderation.jsx';
import { Player } from './pages/player.jsx';
import { Cases } from './pages/cases.jsx';
import { Announcements } from './pages/announcements.jsx';
import { Desk } from './pages/desk.jsx';
import { Incidents } from './pages/incidents.jsx';
import { atLeast } from './roles.js';
import './app.css';
import 'uplot/dist/uPlot.min.css';


// Pages by hash (#/queue, #/ticket/42) and the least role each needs.
const PAGES = [
  { path: 'shift', role: 'agent', view: Shift },
  { path: 'queue', role: 'agent', view: Queue },
  { path: 'ticket', role: 'agent', view: Ticket, hidden: true },
  { path: 'player', role: 'agent', view: Player },
  { path: 'moderation', role: 'agent', view: Moderation },
  { path: 'incidents', role: 'agent', view: Incidents },
  { path: 'cases', role: 'agent', view: Cases },
  { path: 'monitoring', role: 'agent', view: Monitoring },
  { path: 'announcements', role: 'agent', view: Announcements },
  { path: 'desk', role: 'agent', view: Desk },
  { path: 'audit', role: 'admin', view: Audit },
];

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '').split('/');
}

const ZONES = ['UTC', 'Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles'];

function Prefs({ onChange }) {
  const zones = ZONES.includes(prefs.zone) ? ZONES : [prefs.zone, ...ZONES];
  return (
    <span class="prefs">
      <label>{t('prefs.language')}{' '}
        <select id="lang" value={prefs.lang} onChange={(e) => { setPrefs({ lang: e.target.value }); onChange(); }}>
          {languages.map((l) => <option value={l}>{t(`lang.${l}`)}</option>)}
        </select>
      </label>
      <label>{t('prefs.zone')}{' '}
        <select id="zone" value={prefs.zone} onChange={(e) => { setPrefs({ zone: e.target.value }); onChange(); }}>
          {zones.map((z) => <option value={z}>{z}</option>)}
        </select>
      </label>
    </span>
  );
}

function App() {
  const [me, setMe] = useState(undefined);  // undefined: asking; null: signed out
  const [, setTick] = useState(0);
  const [path, ...rest] = useHash();
  useEffect(() => { api.session().then(setMe, () => setMe(null)); }, []);
  const rerender = () => setTick((n) => n + 1);
  if (me === undefined) return <p class="loading">{t('common.loading')}</p>;
  if (me === null) {
    return (
      <div class="signin-page">
        <header class="bar"><strong>Steward</strong><Prefs onChange={rerender} /></header>
        <SignIn onSignedIn={setMe} />
      </div>
    );
  }
  const page = PAGES.find((p) => p.path === path) ?? PAGES[0];
  const allowed = atLeast(me, page.role);
  const View = page.view;
  const onAuthLost = () => setMe(null);
  return (
    <div class="shell">
      <header class="bar">
        <strong>Steward</strong>
        <nav>
          {PAGES.filter((p) => !p.hidden && atLeast(me, p.role)).map((p) => (
            <a href={`#/${p.path}`} class={p === page ? 'active' : ''}>{t(`nav.${p.path}`)}</a>
          ))}
        </nav>
        <Prefs onChange={rerender} />
        <span class="who">{t('shell.signedInAs', { name: me.name, role: t(`role.${me.role}`) })}</span>
        <button id="signout" onClick={async () => { await api.signOut(); setMe(null); }}>{t('shell.signOut')}</button>
      </header>
      <main>
        {allowed ? <View me={me} args={rest} onAuthLost={onAuthLost} />
                 : <p class="error" role="alert">{t('shell.notForRole')}</p>}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
