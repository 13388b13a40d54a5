// Browser tests of `armory serve --demo`: a shoot day played through the web UI by different
// people on a phone-sized screen, unsafe acts tried and their refusals checked on screen, and a
// screenshot of every main screen in e2e/artifacts/. Prints `N passed, N failed`.
'use strict';
const { chromium } = require('playwright-core');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const bin = process.env.ARMORY_BIN || path.join(root, 'target', 'debug', 'armory');
const artifacts = path.join(__dirname, 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });
let passed = 0, failed = 0;

async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}: ${e.message.split('\n')[0]}`); }
}
function expect(cond, what) { if (!cond) throw new Error(what); }

function startServer() {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-e2e-'));
  const child = spawn(bin, ['--data', path.join(data, 'd'), 'serve', '--demo', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      const m = out.match(/on (http:\/\/[0-9.:]+)\//);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`armory serve exited ${code}`)));
    setTimeout(() => reject(new Error('armory serve did not start')), 60000);
  });
}

(async () => {
  const { child, url } = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
  const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  const signIn = async (page, who) => {
    await page.goto(`${url}/signin`);
    await page.fill('#person', who);
    await page.fill('#password', `demo-${who}-pass`);
    await page.click('button[type=submit]');
  };
  const act = async (page, legend, fields) => {
    const set = page.locator('fieldset', { has: page.locator('legend', { hasText: legend }) });
    for (const [k, v] of Object.entries(fields || {})) await set.locator(`[name=${k}]`).fill(v);
    await set.locator('button[type=submit]').click();
  };
  try {
    const ctx = await browser.newContext(phone);
    const page = await ctx.newPage();
    await check('the sign-in page shows and a PIN does not sign in', async () => {
      await page.goto(`${url}/signin`);
      await shot(page, '01-sign-in');
      await page.fill('#person', 'alec'); await page.fill('#password', '1111');
      await page.click('button[type=submit]');
      expect(await page.locator('.error').isVisible(), 'no error shown for a PIN used as password');
    });
    await check('the armorer signs in and sees every firearm on the status board', async () => {
      await signIn(page, 'hannah');
      for (const id of ['REV-1', 'REV-2', 'REV-3', 'RUB-1']) expect(await page.locator(`a[href="/item/${id}"]`).count() > 0, `${id} missing`);
      await shot(page, '02-status-board');
    });
    await check('the scan box opens an item (keyboard wedge: id + Enter)', async () => {
      await page.fill('#scan', 'REV-1'); await page.press('#scan', 'Enter');
      await page.waitForURL(/\/item\/REV-1$/);
      await shot(page, '03-item');
    });
    await check('take out and load REV-1 cold', async () => {
      await act(page, 'Take out'); expect(await page.locator('.done').isVisible(), 'take out not done');
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'Load or inspect'); expect(await page.locator('.done').isVisible(), 'load not done');
    });
    await check('issuing without a show check is refused on screen with rule, why and needed', async () => {
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'Issue', { performer: 'alec', scene: 'CHURCH' });
      const text = await page.locator('.refusal').innerText();
      expect(/SHOW-CHECK/.test(text) && /Why:/.test(text) && /Needed:/.test(text), `refusal: ${text}`);
      await shot(page, '04-refusal');
    });
    await check('a wrong PIN does not confirm a show check', async () => {
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'Show check', { scene: 'CHURCH', performer: 'alec', performer_pin: '0000', first_ad: 'dave', first_ad_pin: '2222' });
      expect(await page.locator('.error').isVisible(), 'wrong PIN accepted');
    });
    await check('the performer and 1st AD confirm the show check with their PINs; REV-1 is issued and returned', async () => {
      await page.goto(`${url}/item/REV-1`);
      await shot(page, '05-show-check');
      await act(page, 'Show check', { scene: 'CHURCH', performer: 'alec', performer_pin: '1111', first_ad: 'dave', first_ad_pin: '2222' });
      expect(await page.locator('.done').isVisible(), 'show check not done');
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'Issue', { performer: 'alec', scene: 'CHURCH' });
      expect(await page.locator('.done').isVisible(), 'issue not done: ' + await page.locator('main').innerText());
      await page.goto(`${url}/`);
      expect((await page.locator('#board').innerText()).includes('ISSUED'), 'board does not show the issue');
      await shot(page, '06-board-issued');
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'Return'); expect(await page.locator('.done').isVisible(), 'return not done');
      await page.goto(`${url}/item/REV-1`);
      expect(await page.locator('ol.history li').count() >= 6, 'history too short');
    });
    await check('the 1st AD cannot issue a firearm (custodian only)', async () => {
      await page.locator('form[action="/signout"] button').click();
      await signIn(page, 'dave');
      await page.goto(`${url}/item/REV-2`);
      await act(page, 'Issue', { performer: 'alec', scene: 'CHURCH-TAKE' });
      const text = await page.locator('.refusal').innerText();
      expect(/Refused/.test(text) && /Needed:/.test(text), `refusal: ${text}`);
    });
    await check('a performer reports an incident anonymously', async () => {
      await page.locator('form[action="/signout"] button').click();
      await signIn(page, 'alec');
      await page.goto(`${url}/incident`);
      await page.selectOption('#severity', 'note');
      await page.fill('#description', 'a muzzle swept the crew during blocking');
      await page.check('input[name=anonymous]');
      await shot(page, '07-incident');
      await page.click('form[action="/act"] button[type=submit]');
      expect(await page.locator('.done').isVisible(), 'report not done');
    });
    await check('the log page shows a verified checkpoint and the tiles link', async () => {
      await page.goto(`${url}/log`);
      expect(await page.locator('#checkpoint').innerText().then((t) => t.startsWith('armory.local/demo')), 'no checkpoint');
      expect(await page.locator('a[href$="/checkpoint"]').count() > 0, 'no tiles link');
      await shot(page, '08-log');
    });
    await ctx.close();
  } finally {
    await browser.close();
    child.kill('SIGTERM');
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.log(`error: ${e.message}`); console.log(`${passed} passed, ${failed + 1} failed`); process.exit(1); });
