// A mixed load for crash testing, over stewardd's JSON face: tickets, GM
// messages, sanctions, two-person approvals, player reports, VIP
// purchases, directive acknowledgements and monitoring rules, from several
// concurrent clients. Each client writes every acknowledged operation to
// RECORDS (one JSON line, appended and flushed the moment the answer
// arrives); `verify` checks the restarted stewardd against all of them.
//   node crash_mixed.mjs load SECONDS    node crash_mixed.mjs verify
// Environment: CONSOLE_URL, GS_TOKEN, ADMIN_TOKEN, SUP_TOKEN, RECORDS, ROUND
import { appendFileSync, readFileSync, existsSync, openSync, fsyncSync, closeSync } from 'node:fs';

const { CONSOLE_URL: url, GS_TOKEN, ADMIN_TOKEN, SUP_TOKEN, RECORDS, ROUND = '0' } = process.env;
const mode = process.argv[2];

async function rpc(token, method, body, player) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
  if (player) headers['X-Steward-Player'] = player;
  const res = await fetch(`${url}/steward.v1.${method}`, { method: 'POST', headers, body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method}: ${res.status} ${json.message}`);
  return json;
}

function record(r) {
  // Appended and synced before the next operation: what the client knows.
  const fd = openSync(RECORDS, 'a');
  appendFileSync(fd, JSON.stringify(r) + '\n');
  fsyncSync(fd);
  closeSync(fd);
}

async function load(seconds) {
  const end = Date.now() + seconds * 1000;
  const server = 'eu1-crash';
  await rpc(GS_TOKEN, 'GameServerService/RegisterServer', { serverId: server }).catch(() => {});
  let n = 0;
  const tickets = [];
  const ops = {
    async ticket(k) {
      const r = await rpc(GS_TOKEN, 'TicketService/SubmitTicket', { idempotencyKey: k, category: 'TICKET_CATEGORY_BUG',
        subject: `subject ${k}`, context: { realmId: 'eu1', serverId: server } }, `p-${k}`);
      tickets.push(r.ticket.id);
      record({ kind: 'ticket', id: r.ticket.id, subject: `subject ${k}` });
    },
    async message(k) {
      if (!tickets.length) return;
      const id = tickets[Math.floor(Math.random() * tickets.length)];
      await rpc(ADMIN_TOKEN, 'TicketService/AddMessage', { ticketId: id, body: `note ${k}`,
        visibility: 'MESSAGE_VISIBILITY_INTERNAL' });
      record({ kind: 'message', ticket: id, body: `note ${k}` });
    },
    async sanction(k) {
      const r = await rpc(ADMIN_TOKEN, 'ModerationService/IssueSanction', { idempotencyKey: k, spec: {
        type: 'SANCTION_TYPE_TEMP_BAN', subjectId: `s-${k}`, scope: { realmId: 'eu1' }, durationMs: '3600000',
        reason: 'crash test', policyCode: 'test' } });
      record({ kind: 'sanction', id: r.sanction.id, subject: `s-${k}` });
    },
    async approval(k) {
      const r = await rpc(ADMIN_TOKEN, 'ModerationService/IssueSanction', { idempotencyKey: k, spec: {
        type: 'SANCTION_TYPE_BAN', subjectId: `b-${k}`, scope: { realmId: 'eu1' }, reason: 'crash test',
        policyCode: 'test' } });
      record({ kind: 'proposed', id: r.sanction.id });
      await rpc(SUP_TOKEN, 'ModerationService/DecideApproval', { approvalId: r.sanction.approvalId, approve: true,
        reason: 'crash test' });
      record({ kind: 'approved', id: r.sanction.id });
    },
    async report(k) {
      const r = await rpc(GS_TOKEN, 'ReportService/SubmitReport', { idempotencyKey: k, category: 'REPORT_CATEGORY_CHEATING',
        subjectType: 'REPORT_SUBJECT_TYPE_PLAYER', subjectId: 'cheater-1', realmId: 'eu1', serverId: server,
        message: `report ${k}` }, `r-${k}`);
      record({ kind: 'report', id: r.report.id, reporter: `r-${k}` });
    },
    async purchase(k) {
      const player = `v-${ROUND}-${n % 5}`;
      await rpc(GS_TOKEN, 'VipService/RecordPurchase', { idempotencyKey: k, playerId: player, amountCents: '1500' }, player);
      record({ kind: 'purchase', player, cents: 1500 });
    },
    async ack() {
      const list = await rpc(ADMIN_TOKEN, 'GameServerService/ListServers', { realmId: 'eu1' });
      const me = list.servers.find((s) => s.serverId === server);
      const seq = Number(me?.ackedSeq ?? 0) + 1;
      await rpc(GS_TOKEN, 'GameServerService/AckDirectives', { serverId: server, seq: String(seq) });
      record({ kind: 'ack', server, seq });
    },
    async rule(k) {
      await rpc(ADMIN_TOKEN, 'MonitoringService/SaveRule', { rule: { name: `r ${k}`, kind: 'RULE_KIND_THRESHOLD',
        enabled: false, severity: 'SEVERITY_INFO', eventTypes: ['login'], windowSeconds: '60',
        aggregate: 'AGGREGATE_COUNT', comparison: 'COMPARISON_ABOVE', threshold: 1000 } });
      record({ kind: 'rule', name: `r ${k}` });
    },
  };
  const kinds = Object.keys(ops);
  const worker = async (w) => {
    while (Date.now() < end) {
      const kind = kinds[Math.floor(Math.random() * kinds.length)];
      const k = `${ROUND}-${w}-${n++}-${kind}`;
      try { await ops[kind](k); } catch { /* refused or killed: not acknowledged, not recorded */ }
    }
  };
  await Promise.all([0, 1, 2, 3, 4, 5].map(worker));
}

async function verify() {
  const lines = existsSync(RECORDS) ? readFileSync(RECORDS, 'utf8').split('\n').filter(Boolean) : [];
  const recs = lines.map((l) => JSON.parse(l));
  const problems = [];
  const count = {};
  const spend = {};
  let highestAck = 0;
  for (const r of recs) {
    count[r.kind] = (count[r.kind] ?? 0) + 1;
    try {
      switch (r.kind) {
        case 'ticket': {
          const t = await rpc(ADMIN_TOKEN, 'TicketService/GetTicket', { ticketId: r.id });
          if (t.ticket.subject !== r.subject) problems.push(`ticket ${r.id}: subject ${t.ticket.subject}`);
          break;
        }
        case 'message': {
          const t = await rpc(ADMIN_TOKEN, 'TicketService/GetTicket', { ticketId: r.ticket });
          if (!t.messages.some((m) => m.body === r.body)) problems.push(`ticket ${r.ticket}: message "${r.body}" lost`);
          break;
        }
        case 'sanction':
        case 'proposed': {
          const s = await rpc(ADMIN_TOKEN, 'ModerationService/GetSanction', { sanctionId: r.id });
          if (!s.id) problems.push(`sanction ${r.id} lost`);
          break;
        }
        case 'approved': {
          const s = await rpc(ADMIN_TOKEN, 'ModerationService/GetSanction', { sanctionId: r.id });
          if (s.state !== 'SANCTION_STATE_ACTIVE' || !s.approvedBy) problems.push(`sanction ${r.id}: approval lost (${s.state})`);
          break;
        }
        case 'report': {
          const mine = await rpc(GS_TOKEN, 'ReportService/ListMyReports', { pageSize: 50 }, r.reporter);
          if (!mine.reports.some((x) => x.reportId === r.id)) problems.push(`report ${r.id} lost`);
          break;
        }
        case 'purchase':
          spend[r.player] = (spend[r.player] ?? 0) + r.cents;
          break;
        case 'ack':
          highestAck = Math.max(highestAck, r.seq);
          break;
        case 'rule':
          break;
        default:
          problems.push(`unknown record ${JSON.stringify(r)}`);
      }
    } catch (e) {
      problems.push(`${r.kind} ${r.id ?? ''}: ${e.message}`);
    }
  }
  for (const [player, cents] of Object.entries(spend)) {
    const p = await rpc(ADMIN_TOKEN, 'VipService/GetVipProfile', { playerId: player, realmId: 'eu1' }).catch((e) => ({ error: e }));
    const have = Number(p.profile?.lifetimeSpendCents ?? 0);
    if (have < cents) problems.push(`VIP ${player}: spend ${have} < acknowledged ${cents}`);
  }
  if (highestAck > 0) {
    const list = await rpc(ADMIN_TOKEN, 'GameServerService/ListServers', { realmId: 'eu1' });
    const me = list.servers.find((s) => s.serverId === 'eu1-crash');
    if (Number(me?.ackedSeq ?? 0) < highestAck) problems.push(`directive ack ${highestAck} lost (server has ${me?.ackedSeq})`);
  }
  const rules = recs.filter((r) => r.kind === 'rule').map((r) => r.name);
  if (rules.length) {
    const have = new Set((await rpc(ADMIN_TOKEN, 'MonitoringService/ListRules', {})).rules.map((r) => r.name));
    for (const n of rules) if (!have.has(n)) problems.push(`rule "${n}" lost`);
  }
  const chain = await rpc(ADMIN_TOKEN, 'AuditService/VerifyAuditChain', {});
  if (!chain.intact) problems.push(`audit chain broken at ${chain.firstBadId}: ${chain.problem}`);
  const summary = Object.entries(count).map(([k, v]) => `${v} ${k}`).join(', ');
  if (problems.length) {
    console.log(problems.slice(0, 20).join('\n'));
    console.log(`crash_mixed: ${problems.length} problem(s) in ${recs.length} acknowledged operations (${summary})`);
    process.exit(1);
  }
  console.log(`crash_mixed: all ${recs.length} acknowledged operations found (${summary}); audit chain intact (${chain.recordsChecked} records)`);
}

if (mode === 'load') await load(Number(process.argv[3] ?? 2));
else await verify();
