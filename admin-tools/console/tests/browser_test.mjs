// The console in a real browser (Debian's Chromium, headless) against a
// real stewardd on loopback. tests/console/browser.sh starts stewardd and
// passes where it is:
//   CONSOLE_URL, AGENT_TOKEN, SUP_TOKEN, ADMIN_TOKEN, GS_TOKEN, SHOTS (a dir)
// Screenshots of the main pages, in both languages, go to SHOTS for a
// reviewer (not committed).
import puppeteer from 'puppeteer-core';
import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const en = JSON.parse(readFileSync(resolve(here, '../src/i18n/en.json')));
const zh = JSON.parse(readFileSync(resolve(here, '../src/i18n/zh-CN.json')));
const { CONSOLE_URL: url, AGENT_TOKEN, ADMIN_TOKEN, GS_TOKEN, SHOTS } = process.env;
let failures = 0;
let passed = 0;
function check(ok, what) {
  if (ok) { passed++; console.log(`ok: ${what}`); } else { failures++; console.log(`FAIL: ${what}`); }
}

// The JSON face as a script would use it: a bearer token, no session.
async function rpc(token, method, body, player) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
  if (player) headers['X-Steward-Player'] = player;
  const res = await fetch(`${url}/steward.v1.${method}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// A game server watching its directives over the SSE face; acknowledges
// each ticket reply it receives (what a real server does once shown).
async function gameServer(serverId, stop) {
  await rpc(GS_TOKEN, 'GameServerService/RegisterServer', { serverId });
  const req = encodeURIComponent(JSON.stringify({ serverId, fromLastAck: true }));
  const res = await fetch(`${url}/console/stream/steward.v1.GameServerService/WatchDirectives?request=${req}`,
    { headers: { Authorization: `Bearer ${GS_TOKEN}` }, signal: stop });
  const reader = res.body.getReader();
  let buf = '';
  const seen = [];
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const event = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (!event.startsWith('data: ')) continue;
          const batch = JSON.parse(event.slice(6));
          for (const d of batch.directives) {
            seen.push(d);
            await rpc(GS_TOKEN, 'GameServerService/AckDirectives', { serverId, seq: d.seq });
          }
        }
      }
    } catch { /* stopped */ }
  })();
  return seen;
}

const xss = '<img src=x onerror=alert(1)>';
async function fileTicket(player, subject, category = 'TICKET_CATEGORY_QUESTION') {
  const r = await rpc(GS_TOKEN, 'TicketService/SubmitTicket', {
    idempotencyKey: `browser-${player}-${Date.now()}`, category, subject,
    description: 'Filed by the browser test.', context: { realmId: 'eu1', serverId: 'eu1-s1', language: 'en' },
  }, player);
  return r.ticket.id;
}

const t0 = Date.now();
const stop = new AbortController();
const directives = await gameServer('eu1-s1', stop.signal);
await rpc(ADMIN_TOKEN, 'KnowledgeService/SaveEntry', { entry: {
  title: 'Stuck in terrain', body: 'Use /unstuck, or log out and back in: you will be moved to the nearest town.',
  locale: 'en', tags: ['stuck'] } });
const first = await fileTicket('p-100', 'Stuck in the harbor wall');
const complaint = await fileTicket('p-200', xss, 'TICKET_CATEGORY_COMPLAINT');

const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--lang=en-US', '--window-size=1280,800'],
});
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 800 });
let dialogs = 0;
page.on('dialog', async (d) => { dialogs++; await d.dismiss(); });
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
const shot = (name) => SHOTS && page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
const text = (sel) => page.$eval(sel, (e) => e.textContent);

// Sign in as an agent; the token is not kept anywhere in the page.
await page.goto(url, { waitUntil: 'networkidle0' });
await shot('signin-en');
// By keyboard: the token, then Enter.
await page.type('#token', AGENT_TOKEN);
await page.keyboard.press('Enter');
await page.waitForSelector('#signout');
const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
check(!stored.includes(AGENT_TOKEN), 'the token is in no storage the page can read');
await shot('shift-en');

// The queue: the hostile subject is text, and runs nothing.
await page.goto(`${url}/#/queue`, { waitUntil: 'networkidle0' });
await page.waitForSelector('td.subject');
const subjects = await page.$$eval('td.subject', (tds) => tds.map((td) => td.textContent));
check(subjects.includes(xss), 'a subject with markup shows as the text the player wrote');
check((await page.$$('td.subject img')).length === 0 && dialogs === 0, 'the markup made no element and ran no script');
await shot('queue-en');
// A ticket filed now appears without a reload (the queue is a live stream).
await fileTicket('p-150', 'Mount vanished after the patch');
await page.waitForFunction(() => [...document.querySelectorAll('td.subject')]
  .some((td) => td.textContent === 'Mount vanished after the patch'), { timeout: 10000 });
check(true, 'a new ticket appears in the open queue without a reload');

// Pull next, answer with a unified answer, see it delivered.
// Tab through the page to "pull next" and press Enter: the queue works
// from the keyboard.
let tabs = 0;
while (tabs < 40 && await page.evaluate(() => document.activeElement?.id) !== 'pull-next') {
  await page.keyboard.press('Tab');
  tabs++;
}
check(tabs < 40, `"pull next" is reachable with the Tab key (${tabs} presses)`);
await page.keyboard.press('Enter');
await page.waitForSelector('#ticket-subject');
const pulled = (await text('#ticket-subject')).match(/#(\d+)/)[1];
// The complaint goes first: complaints are dispatched within the hour.
check(pulled === complaint, `pull next took the most urgent ticket (#${pulled}, the complaint)`);
await page.type('#kb-query', 'stuck');
await page.click('#kb-search');
await page.waitForSelector('.kb-insert');
await page.click('.kb-insert');
await page.waitForFunction(() => document.querySelector('#reply-body').value.startsWith('Use /unstuck'));
check(true, 'the unified answer was inserted');
await page.click('#reply-send');
await page.waitForSelector('[data-delivery]');
await shot('ticket-en');
await page.waitForSelector('[data-delivery=DELIVERY_STATE_DELIVERED], [data-delivery=DELIVERY_STATE_READ]', { timeout: 15000 });
check(directives.some((d) => d.ticketReply && d.ticketReply.ticketId === pulled), 'the game server received the reply');
check(true, 'the reply shows delivered once the game server acknowledged it');

// An agent cannot open the audit page nor call an admin RPC.
await page.goto(`${url}/#/audit`, { waitUntil: 'networkidle0' });
const denied = await page.$eval('main', (m) => m.textContent);
check(denied.includes(en['shell.notForRole']), 'the audit page is refused to an agent');
const status = await page.evaluate(async () => {
  const me = await (await fetch('/console/session')).json();
  const r = await fetch('/steward.v1.AuditService/VerifyAuditChain', { method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Steward-CSRF': me.csrf }, body: '{}' });
  return r.status;
});
check(status === 403, `an admin RPC through the JSON face is refused to an agent (${status})`);

// Chinese: the queue renders with no English label left, keeps its
// filter, and shows dates in the chosen zone.
await page.goto(`${url}/#/queue`, { waitUntil: 'networkidle0' });
await page.select('#f-category', 'TICKET_CATEGORY_COMPLAINT');
await page.waitForFunction(() => document.querySelectorAll('td.subject').length === 1);
await page.select('#zone', 'Asia/Shanghai');
await page.select('#lang', 'zh-CN');
await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
const keptFilter = await page.$eval('#f-category', (e) => e.value);
check(keptFilter === 'TICKET_CATEGORY_COMPLAINT', 'switching language kept the page\'s filter');
// Every catalogue string that differs between the languages must not
// appear in English on the page (player-written text is the player's).
const leftovers = async () => {
  const visible = await page.evaluate(() => {
    const out = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.parentElement.closest('.subject, .text, .kb, option[value^="Asia"], .who')) continue;
      const s = n.textContent.trim();
      if (s) out.push(s);
    }
    for (const o of document.querySelectorAll('option')) out.push(o.textContent.trim());
    return out;
  });
  const englishOnly = new Set(Object.entries(en)
    .filter(([k, v]) => zh[k] !== v && !v.includes('{') && /[A-Za-z]/.test(v)).map(([, v]) => v));
  return visible.filter((s) => englishOnly.has(s));
};
let left = await leftovers();
check(left.length === 0, `the queue in Chinese has no English label left ${JSON.stringify(left)}`);
const created = await page.$eval('tbody tr td:last-child', (e) => e.textContent);
const listed = await rpc(ADMIN_TOKEN, 'TicketService/ListTickets', { category: 'TICKET_CATEGORY_COMPLAINT' });
const expected = new Intl.DateTimeFormat('zh-CN', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Shanghai' })
  .format(new Date(Number(listed.tickets[0].createdAtMs)));
check(created === expected, `a date shows in the chosen zone (${created})`);
await shot('queue-zh');
await page.goto(`${url}/#/ticket/${first}`, { waitUntil: 'networkidle0' });
await page.waitForSelector('#ticket-subject');
left = await leftovers();
check(left.length === 0, `the ticket page in Chinese has no English label left ${JSON.stringify(left)}`);
await shot('ticket-zh');
await page.select('#lang', 'en');

// An alert raised by streamed events appears live on the monitoring page.
await rpc(ADMIN_TOKEN, 'MonitoringService/SaveRule', { rule: {
  name: 'gold sellers', kind: 'RULE_KIND_PATTERN', enabled: true, severity: 'SEVERITY_CRITICAL',
  eventTypes: ['chat'], groupBy: ['player'], pattern: 'cheap\\s+gold', caseInsensitive: true, threshold: 2,
  action: { kind: 'ACTION_KIND_PAGE' } } });
await page.goto(`${url}/#/monitoring`, { waitUntil: 'networkidle0' });
await new Promise((r) => setTimeout(r, 500));  // the stream is open
await rpc(GS_TOKEN, 'EventService/PublishEvents', { batch: { realmId: 'eu1', serverId: 'eu1-s1', events: [
  { type: 'chat', playerId: 'p-9', text: 'Cheap gold at example.com' },
  { type: 'chat', playerId: 'p-9', text: 'cheap  GOLD, fast' }] } });
await page.waitForFunction(() => document.querySelector('#alerts tbody')?.textContent.includes('player=p-9'), { timeout: 15000 });
check(true, 'an alert raised by streamed events appeared without a reload');
await shot('monitoring-en');

// Signed out, nothing can be called.
await page.click('#signout');
await page.waitForSelector('#token');
const after = await page.evaluate(async () => (await fetch('/steward.v1.TicketService/ListTickets', { method: 'POST',
  headers: { 'Content-Type': 'application/json' }, body: '{}' })).status);
check(after === 401, `a signed-out page can call nothing (${after})`);

// A supervisor approves a permanent ban another GM proposed; the game
// server receives it at once.
const proposed = await rpc(ADMIN_TOKEN, 'ModerationService/IssueSanction', { idempotencyKey: `perm-${Date.now()}`,
  spec: { type: 'SANCTION_TYPE_BAN', subjectId: 'p-300', scope: { realmId: 'eu1' }, reason: 'Gold selling',
    policyCode: 'rmt' } });
check(proposed.sanction.state === 'SANCTION_STATE_PENDING_APPROVAL', 'a permanent ban waits for a second GM');
await page.type('#token', process.env.SUP_TOKEN);
await page.click('#signin');
await page.waitForSelector('#signout');
await page.goto(`${url}/#/moderation`, { waitUntil: 'networkidle0' });
await page.waitForSelector('#approvals .approve');
await page.type('#approval-reason', 'Trade logs confirm it');
await shot('moderation-en');
await page.click('#approvals .approve');
await page.waitForFunction(() => !document.querySelector('#approvals .approve'));
const banned = async () => directives.some((d) => d.sanction && JSON.stringify(d.sanction).includes('p-300'));
for (let i = 0; i < 50 && !(await banned()); i++) await new Promise((r) => setTimeout(r, 100));
check(await banned(), 'the game server received the approved ban');
const after2 = await rpc(ADMIN_TOKEN, 'ModerationService/GetSanction', { sanctionId: proposed.sanction.id });
check(after2.state === 'SANCTION_STATE_ACTIVE' && after2.approvedBy === 'gm-sup', 'the ban is in force, approved by the supervisor');
await rpc(GS_TOKEN, 'ReportService/SubmitReport', { idempotencyKey: `rep-${Date.now()}`, category: 'REPORT_CATEGORY_CHEATING',
  subjectType: 'REPORT_SUBJECT_TYPE_PLAYER', subjectId: 'p-300', realmId: 'eu1', serverId: 'eu1-s1',
  message: 'Sells gold in trade chat' }, 'p-301');
await page.goto(`${url}/#/player/eu1/p-300`, { waitUntil: 'networkidle0' });
await page.waitForFunction(() => document.querySelector('#player-reports li')?.textContent.includes('1'));
check(true, 'the player page lists the open report case about the player');
await page.waitForSelector('#player-status dd');
const canLogin = await page.$eval('#player-status dd', (e) => e.textContent);
check(canLogin === en['player.no'], 'the player page says the banned player cannot log in');
await shot('player-en');
// A rule with a broken pattern is refused, and the page shows why at the field.
await page.goto(`${url}/#/monitoring`, { waitUntil: 'networkidle0' });
await page.click('#rule-new');
await page.type('#rule-name', 'broken pattern');
await page.select('#rule-kind', 'RULE_KIND_PATTERN');
await page.type('#rule-eventTypes', 'chat');
await page.type('#rule-pattern', 'cheap(');
await page.click('#rule-save');
await page.waitForSelector('#rule-pattern[aria-invalid=true]');
const fieldError = await page.$eval('#rule-pattern + .field-error', (e) => e.textContent);
check(fieldError.startsWith('rule.pattern'), `a rule's validation error shows at its field (${fieldError.slice(0, 60)})`);
await shot('rule-editor-en');
// An incident: opened in the page, linking two login complaints; one reply
// to both; a grant above the supervisor's own limit waits for another GM.
const loginA = await fileTicket('p-400', 'Cannot login after maintenance', 'TICKET_CATEGORY_COMPLAINT');
await fileTicket('p-401', 'login fails with error 503', 'TICKET_CATEGORY_COMPLAINT');
await page.goto(`${url}/#/incidents`, { waitUntil: 'networkidle0' });
await page.type('#open-incident input[name=title]', 'Login outage after maintenance');
await page.type('#open-incident input[name=realm]', 'eu1');
await page.type('#open-incident input[name=words]', 'login');
await page.click('#open-incident button[type=submit]');
await page.waitForFunction(() => document.querySelectorAll('#incident-tickets tr').length === 2);
check(true, 'an incident opened in the page links the two matching complaints');
await page.type('#incident textarea[name=reply]', 'We are restoring the login service.');
await page.click('#incident form button[type=submit]');
await page.waitForFunction(() => document.querySelector('#incident')?.textContent.includes('replies sent: 1'));
await page.type('#grants input[name=item]', 'gems');
await page.type('#grants input[name=value]', '20000');
await page.type('#grants input[name=reason]', 'login outage');
await page.click('#grants form button[type=submit]');
await page.waitForFunction(() => document.querySelector('#grants tbody')?.textContent.includes('above the supervisor limit'));
check(!(await page.$('#grants .primary')) && !(await page.evaluate(() => [...document.querySelectorAll('#grants button')]
  .some((b) => b.textContent === 'Approve'))), 'the proposer is not offered to approve their own grant');
const ticketView = await rpc(ADMIN_TOKEN, 'TicketService/GetTicket', { ticketId: loginA });
check(ticketView.messages.some((m) => m.body === 'We are restoring the login service.' && Number(m.incidentId) > 0),
  'the incident reply is on each linked ticket');
await page.evaluate(() => scrollTo(0, 0));
await shot('incidents-en');
await page.evaluate(() => scrollTo(0, document.body.scrollHeight));
await page.select('#lang', 'zh-CN');
await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
await shot('incidents-zh');
await page.select('#lang', 'en');
// The remaining pages render for a supervisor, with their data.
await page.goto(`${url}/#/desk`, { waitUntil: 'networkidle0' });
await page.waitForSelector('#report-chart canvas');
check(await page.$('#report-csv') !== null, 'the desk report draws its chart and offers a CSV');
await shot('desk-en');
await page.goto(`${url}/#/cases`, { waitUntil: 'networkidle0' });
await shot('cases-en');
await page.goto(`${url}/#/announcements`, { waitUntil: 'networkidle0' });
await shot('announcements-en');
await page.click('#signout');
await page.waitForSelector('#token');
// An admin verifies the audit chain in the page.
await page.type('#token', ADMIN_TOKEN);
await page.click('#signin');
await page.waitForSelector('#signout');
await page.goto(`${url}/#/audit`, { waitUntil: 'networkidle0' });
await page.click('#audit-verify');
await page.waitForSelector('#audit-verdict');
check((await text('#audit-verdict')).startsWith('The chain is intact'), 'an admin sees the audit chain verified');
await shot('audit-en');
await page.click('#signout');
await page.waitForSelector('#token');

check(pageErrors.length === 0, `no script errors in the page ${JSON.stringify(pageErrors)}`);

await browser.close();
stop.abort();
console.log(`console browser test: ${passed} passed, ${failures} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failures === 0 ? 0 : 1);
