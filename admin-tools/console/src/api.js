// Calls to stewardd's JSON face with the session cookie and its CSRF
// token. The GM's token never reaches this page: the session holds it.
let csrf = '';

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function parse(res) {
  const text = await res.text();
  let body = {};
  try { body = text ? JSON.parse(text) : {}; } catch { body = { code: 'unknown', message: text }; }
  if (!res.ok) throw new ApiError(body.code ?? 'unknown', body.message ?? res.statusText, res.status);
  return body;
}

export async function session() {
  const me = await parse(await fetch('/console/session', { credentials: 'same-origin' }));
  csrf = me.csrf;
  return me;
}

export async function signIn(token) {
  const me = await parse(await fetch('/console/session', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  }));
  csrf = me.csrf;
  return me;
}

export async function signOut() {
  await fetch('/console/session', { method: 'DELETE', credentials: 'same-origin', headers: { 'X-Steward-CSRF': csrf } });
  csrf = '';
}

// call('TicketService', 'ListTickets', {...})
export async function call(service, method, request = {}) {
  const res = await fetch(`/steward.v1.${service}/${method}`, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Steward-CSRF': csrf, 'Connect-Protocol-Version': '1' },
    body: JSON.stringify(request),
  });
  return parse(res);
}

// A server stream as server-sent events; returns a function that ends it.
export function stream(service, method, request, onMessage, onError) {
  const url = `/console/stream/steward.v1.${service}/${method}?request=${encodeURIComponent(JSON.stringify(request))}`;
  const es = new EventSource(url);
  es.onmessage = (e) => onMessage(JSON.parse(e.data));
  es.addEventListener('error', (e) => {
    if (e.data) {
      const body = JSON.parse(e.data);
      onError?.(new ApiError(body.code, body.message));
      es.close();
    }
  });
  return () => es.close();
}
