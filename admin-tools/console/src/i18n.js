// Message catalogues and the GM's formats. Every string the console shows
// comes from a catalogue (tests/i18n_check.mjs keeps them complete);
// dates, durations and numbers come from Intl in the GM's language and
// time zone. The choice lives in sessionStorage: per browser session.
import en from './i18n/en.json';
import zh from './i18n/zh-CN.json';

export const catalogues = { en, 'zh-CN': zh };
export const languages = Object.keys(catalogues);

function browserLanguage() {
  for (const l of navigator.languages ?? [navigator.language]) {
    if (l.toLowerCase().startsWith('zh')) return 'zh-CN';
    if (l.toLowerCase().startsWith('en')) return 'en';
  }
  return 'en';
}

export const prefs = {
  lang: sessionStorage.getItem('steward.lang') ?? browserLanguage(),
  zone: sessionStorage.getItem('steward.zone') ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
};
if (!catalogues[prefs.lang]) prefs.lang = 'en';

export function setPrefs(p) {
  Object.assign(prefs, p);
  sessionStorage.setItem('steward.lang', prefs.lang);
  sessionStorage.setItem('steward.zone', prefs.zone);
  document.documentElement.lang = prefs.lang;
}
document.documentElement.lang = prefs.lang;

// t("queue.title"), t("ticket.owner", { owner }): {name} is replaced.
// With a number `n`, a "<key>.<plural form>" entry (Intl.PluralRules:
// "one", "few", ...) wins when the catalogue has one: "1 report".
export function t(key, params) {
  if (typeof params?.n === 'number') {
    const form = `${key}.${new Intl.PluralRules(prefs.lang).select(params.n)}`;
    if (form in catalogues[prefs.lang] || form in catalogues.en) key = form;
  }
  let s = catalogues[prefs.lang][key] ?? catalogues.en[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (_, k) => (k in params ? String(params[k]) : `{${k}}`));
  return s;
}

// A protobuf enum value's label: t('enum.TICKET_STATUS_NEW').
export const label = (v) => t(`enum.${v}`);

export function fmtTime(ms) {
  if (!ms || Number(ms) === 0) return '—';
  return new Intl.DateTimeFormat(prefs.lang, {
    dateStyle: 'medium', timeStyle: 'short', timeZone: prefs.zone,
  }).format(new Date(Number(ms)));
}

// A report period's day: periods are UTC days, so the date is the UTC one.
export function fmtDay(ms) {
  return new Intl.DateTimeFormat(prefs.lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(Number(ms)));
}

export function fmtNumber(n, digits = 0) {
  return new Intl.NumberFormat(prefs.lang, { maximumFractionDigits: digits }).format(n);
}

// "2 hr 5 min", "2小时5分钟": the largest two units.
export function fmtDuration(ms) {
  const neg = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  const parts = [];
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]]) {
    const n = Math.floor(s / size);
    if (n > 0 || (unit === 'second' && parts.length === 0)) {
      parts.push(new Intl.NumberFormat(prefs.lang, { style: 'unit', unit, unitDisplay: 'short' }).format(n));
      s -= n * size;
    }
    if (parts.length === 2) break;
  }
  const text = parts.join(' ');
  return neg ? t('time.ago', { d: text }) : text;
}
