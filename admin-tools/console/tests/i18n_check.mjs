// Fails when a catalogue lacks a key another has, when the code uses a
// key no catalogue defines, or when a protobuf enum value the code names
// has no label. Run by ctest (console.i18n).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const dir = join(src, 'i18n');
const cats = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(join(dir, f)))]));
const problems = [];
const all = new Set(Object.values(cats).flatMap((c) => Object.keys(c)));
for (const [name, c] of Object.entries(cats)) {
  for (const k of all) if (!(k in c)) problems.push(`${name} lacks "${k}"`);
  for (const [k, v] of Object.entries(c)) if (typeof v !== 'string' || !v.trim()) problems.push(`${name}: "${k}" is empty`);
}
const files = [];
(function walk(d) {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p); else if (/\.(jsx?|mjs)$/.test(f)) files.push(p);
  }
})(src);
let used = 0;
for (const f of files) {
  const code = readFileSync(f, 'utf8');
  // t('key') with a literal key must be defined.
  for (const m of code.matchAll(/\bt\('([\w.-]+)'/g)) {
    used++;
    if (!all.has(m[1])) problems.push(`${f}: t('${m[1]}') is in no catalogue`);
  }
  // t(`prefix.${x}`): some key must have the prefix.
  for (const m of code.matchAll(/\bt\(`([\w.-]+)\$\{/g)) {
    used++;
    if (![...all].some((k) => k.startsWith(m[1]))) problems.push(`${f}: no key starts with "${m[1]}"`);
  }
  // Enum values listed for a page to offer (const X = [...]) are shown
  // with label(): each needs one.
  for (const list of code.matchAll(/=\s*\[([^\]]*)\]/g)) {
    for (const m of list[1].matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) {
      if (!all.has(`enum.${m[1]}`)) problems.push(`${f}: enum value ${m[1]} has no "enum.${m[1]}" label`);
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`i18n: ${Object.keys(cats).length} catalogues agree on ${all.size} keys; ${used} uses in ${files.length} files all defined`);
