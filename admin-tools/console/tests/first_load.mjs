// The console's first load in headless Chromium on loopback, cache empty:
// bytes transferred and the time until the sign-in form can be used.
//   CONSOLE_URL=http://127.0.0.1:8080 node first_load.mjs [runs]
import puppeteer from 'puppeteer-core';

const url = process.env.CONSOLE_URL;
const runs = Number(process.argv[2] ?? 5);
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu'] });
const times = [];
let bytes = 0;
for (let i = 0; i < runs; i++) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let total = 0;
  cdp.on('Network.loadingFinished', (e) => { total += e.encodedDataLength; });
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForSelector('#token');
  times.push(performance.now() - t0);
  await new Promise((r) => setTimeout(r, 200));
  bytes = total;
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(`console first load (${runs} runs, empty cache): ${(bytes / 1024).toFixed(1)} KiB transferred; ` +
  `sign-in form usable after ${times[Math.floor(runs / 2)].toFixed(0)} ms median, ${times[0].toFixed(0)} ms best`);
