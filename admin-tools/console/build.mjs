// Builds the console into OUT (default ../../build/console): index.html
// and assets/ with one script and one stylesheet. No network at run time.
//   node build.mjs [OUT]
import * as esbuild from 'esbuild';
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? resolve(here, '../../build/console'));
mkdirSync(resolve(out, 'assets'), { recursive: true });

await esbuild.build({
  entryPoints: { app: resolve(here, 'src/main.jsx') },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'esm',
  target: ['chrome110'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  loader: { '.json': 'json' },
  outdir: resolve(out, 'assets'),
  logLevel: 'warning',
});

// No inline script or style: the Content-Security-Policy forbids both.
writeFileSync(resolve(out, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Steward</title>
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body><div id="app"></div></body>
</html>
`);
const kb = (f) => (statSync(resolve(out, 'assets', f)).size / 1024).toFixed(1);
console.log(`console: built into ${out} (app.js ${kb('app.js')} KiB, app.css ${kb('app.css')} KiB)`);
