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
  const signIn = async (page, who, base = url) => {
    await page.goto(`${base}/signin`);
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
      // The chambers field proposes nothing: each chamber is written as it was looked at.
      expect((await page.locator('input[name="chambers"]').first().inputValue()) === '', 'the chambers are pre-filled');
      await act(page, 'Load or inspect', { chambers: 'empty,empty,empty,empty,empty,empty' }); expect(await page.locator('.done').isVisible(), 'load not done');
    });
    await check('the show check lists every chamber as the confirmers must see it', async () => {
      await page.goto(`${url}/item/REV-1`);
      const chambers = page.locator('ol.chambers li');
      expect(await chambers.count() === 6, `chambers shown: ${await chambers.count()}`);
      expect((await chambers.first().innerText()).includes('EMPTY'), 'chamber 1 not shown EMPTY');
      const size = await chambers.first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      expect(size >= 24, `chamber text too small to read in bad light: ${size}px`);
    });
    await check('before a show check there is no Issue form; a show check confirmed by the wrong person is refused on screen', async () => {
      await page.goto(`${url}/item/REV-1`);
      expect(await page.locator('fieldset legend', { hasText: 'Issue' }).count() === 0, 'Issue offered before a show check');
      await act(page, 'Show check', { scene: 'CHURCH', performer: 'alec', performer_pin: '1111', first_ad: 'sam', first_ad_pin: '3333' });
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
      await act(page, 'Issue', { performer: 'alec', scene: 'CHURCH', scanned: 'REV-2' });
      const wrong = await page.locator('.refusal').innerText();
      expect(/HANDOVER-SCAN/.test(wrong) && /scans as firearm REV-2/.test(wrong), 'the wrong revolver was handed over: ' + wrong);
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'Issue', { performer: 'alec', scene: 'CHURCH', scanned: 'REV-1' });
      expect(await page.locator('.done').isVisible(), 'issue not offered: ' + await page.locator('main').innerText());
      await page.goto(`${url}/`);
      const waiting = await page.locator('#board').innerText();
      expect(waiting.includes('WAITING') && !waiting.includes('ISSUED'), 'board does not show the handover waiting: ' + waiting);
      await page.goto(`${url}/item/REV-1`);
      expect(await page.locator('fieldset legend', { hasText: 'Load or inspect' }).count() === 0, 'a firearm waiting for its receiver offers a load');
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'The receiver confirms here', { receiver: 'alec', receiver_pin: '0000' });
      expect(await page.locator('.error').isVisible(), 'a wrong PIN confirmed receiving a firearm');
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'The receiver confirms here', { receiver: 'alec', receiver_pin: '1111' });
      expect(await page.locator('.done').isVisible(), 'receipt not confirmed: ' + await page.locator('main').innerText());
      await page.goto(`${url}/`);
      expect((await page.locator('#board').innerText()).includes('ISSUED'), 'board does not show the issue');
      await shot(page, '06-board-issued');
      await page.goto(`${url}/item/REV-1`);
      await act(page, 'Return', { performer_pin: '1111', scanned: 'REV-1' }); expect(await page.locator('.done').isVisible(), 'return not done: ' + await page.locator('main').innerText());
      await page.goto(`${url}/item/REV-1`);
      const history = await page.locator('ol.history').innerText();
      expect(/firearm_issued[^\n]*alec \(performer, pin\)/.test(history), 'the issue does not carry the performer\'s confirmation: ' + history);
      expect(/firearm_returned[^\n]*alec \(performer, pin\)/.test(history), 'the return does not carry the performer\'s confirmation: ' + history);
    });
    await check('a performer registers a passkey on his phone; the show check he confirms with it carries the assertion', async () => {
      // WebAuthn binds a passkey to a site name: the node is reached as localhost here.
      const named = url.replace('127.0.0.1', 'localhost');
      const ctx2 = await browser.newContext(phone);
      const p = await ctx2.newPage();
      const cdp = await ctx2.newCDPSession(p);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal',
        hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
      await signIn(p, 'alec', named);
      await p.goto(`${named}/admin`);
      // (A click by script: the People page's table scrolls sideways on a phone, and the zoomed-out
      // page puts another form's label over the button where a tap would land.)
      await p.locator('[data-passkey-register]').evaluate(b => b.click());
      await p.waitForFunction(() => /registered|Not registered/.test(document.querySelector('.passkey-status').textContent));
      const said = await p.locator('.passkey-status').first().innerText();
      expect(/Passkey registered/.test(said), 'registration: ' + said);
      await shot(p, '06b-passkey-registered');
      await p.locator('header details.who summary').click(); await p.locator('form[action="/signout"] button').click();
      await signIn(p, 'hannah', named);
      await p.goto(`${named}/item/REV-1`);
      const set = p.locator('fieldset', { has: p.locator('legend', { hasText: 'Show check' }) });
      await set.locator('[name=scene]').fill('CHURCH');
      await set.locator('[name=performer]').fill('alec');
      await set.locator('[name=first_ad]').fill('dave');
      await set.locator('[name=first_ad_pin]').fill('2222');
      await set.locator('[data-passkey-for=performer]').evaluate(b => b.click());
      await p.waitForFunction(() => [...document.querySelectorAll('.passkey-status')].some(e => /confirmed/.test(e.textContent)));
      const status = await set.locator('.passkey-status').first().innerText();
      expect(/alec confirmed with their passkey/.test(status), 'passkey confirmation: ' + status);
      await set.locator('button[type=submit]').click();
      expect(await p.locator('.done').isVisible(), 'show check not done: ' + await p.locator('main').innerText());
      await p.goto(`${named}/item/REV-1`);
      const history = await p.locator('ol.history').innerText();
      expect(/show_checked[^\n]*alec \(performer, passkey\)/.test(history), 'the show check does not carry the passkey: ' + history);
      await ctx2.close();
    });
    await check('the 1st AD is offered no armorer acts on a firearm (custodian only)', async () => {
      await page.locator('header details.who summary').click(); await page.locator('form[action="/signout"] button').click();
      await signIn(page, 'dave');
      await page.goto(`${url}/item/REV-2`);
      expect(await page.locator('fieldset legend').count() === 0, 'armorer forms shown to the 1st AD');
      expect(await page.locator('#no-acts').isVisible(), 'no word on why there is nothing to do');
    });
    await check('a performer reports an incident anonymously', async () => {
      await page.locator('header details.who summary').click(); await page.locator('form[action="/signout"] button').click();
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

    // The day's other flows on a phone: intake, a refusal, verification, scene plan, meeting, wrap.
    const ctx2 = await browser.newContext(phone);
    const p2 = await ctx2.newPage();
    const done = async (what) => expect(await p2.locator('.done').isVisible(), `${what} not done: ` + (await p2.locator('main').innerText()).slice(0, 300));
    const switchTo = async (who) => {
      await p2.locator('header details.who summary').click();
      await p2.locator('form[action="/signout"] button').click();
      await signIn(p2, who);
    };
    await check('the flows menu links every flow of the day', async () => {
      await signIn(p2, 'hannah');
      await p2.click('nav a[href="/flows"]');
      for (const href of ['/intake', '/meeting', '/scene', '/discharge', '/wrap', '/day', '/armory', '/override', '/log', '/admin']) expect(await p2.locator(`main a[href="${href}"]`).count() > 0, `${href} missing`);
      await shot(p2, '09-flows');
    });
    await check('on a phone the header is short, its links are big, and no page scrolls sideways', async () => {
      const pages = ['/', '/flows', '/intake', '/meeting', '/scene', '/discharge', '/wrap', '/day', '/armory', '/override', '/policy', '/log', '/admin', '/near-misses', '/incident', '/item/REV-1'];
      for (const path of pages) {
        await p2.goto(`${url}${path}`);
        const m = await p2.evaluate(() => ({
          header: document.querySelector('header').getBoundingClientRect().height,
          wide: document.documentElement.scrollWidth - window.innerWidth,
          links: [...document.querySelectorAll('header nav a')].map((a) => a.getBoundingClientRect().height),
        }));
        expect(m.header <= 180, `${path}: the header takes ${m.header}px of 844`);
        expect(m.wide <= 0, `${path}: scrolls sideways by ${m.wide}px`);
        expect(m.links.every((h) => h >= 44), `${path}: nav links ${m.links.join(',')}px tall`);
      }
    });
    await check('the armorer receives a lot of dummies into a new container', async () => {
      await p2.goto(`${url}/intake`);
      await p2.fill('#lot', 'DUM-2'); await p2.selectOption('#ammo', 'dummy');
      await p2.fill('#calibre', '.45 Long Colt'); await p2.fill('#count', '12');
      await p2.fill('#maker', 'Starline'); await p2.fill('#headstamp', 'STARLINE 45 COLT');
      await p2.fill('#supplier', 'Prop house'); await p2.fill('#container', 'BOX-3');
      await p2.selectOption('#location', 'SAFE');
      await shot(p2, '10-intake');
      await p2.click('form[action="/act"] button[type=submit]');
      await done('receive lot');
      await p2.goto(`${url}/intake`);
      expect((await p2.locator('main table').innerText()).includes('NOT VERIFIED'), 'DUM-2 not shown as unverified');
    });
    await check('loading from the unverified lot is refused on screen (LOT-VERIFIED, why, needed)', async () => {
      await p2.goto(`${url}/item/REV-3`);
      await act(p2, 'Take out'); await done('take out');
      await p2.goto(`${url}/item/REV-3`);
      await act(p2, 'Load or inspect', { chambers: 'BOX-3,empty,empty,empty,empty,empty' });
      const text = await p2.locator('.refusal').innerText();
      expect(/LOT-VERIFIED/.test(text) && /Why:/.test(text) && /Needed:/.test(text) && /recorded as entry/.test(text), `refusal: ${text}`);
      await shot(p2, '11-refusal-unverified-lot');
    });
    await check('the armorer verifies every round of the lot; then the load is accepted', async () => {
      await p2.goto(`${url}/intake`);
      await p2.locator('a[href="/verify?lot=DUM-2"]').click();
      expect((await p2.inputValue('#results')) === '', 'results must not be proposed: one tap would verify the lot');
      await p2.fill('#results', '12 rattled');
      await shot(p2, '12-verify');
      await p2.click('form[action="/act"] button[type=submit]');
      await done('verify');
      await p2.goto(`${url}/item/REV-3`);
      await act(p2, 'Load or inspect', { chambers: 'BOX-3,empty,empty,empty,empty,empty' }); await done('load');
      for (const [legend, fields] of [['Unload', {}], ['Put away', { location: 'SAFE' }]]) {
        await p2.goto(`${url}/item/REV-3`); await act(p2, legend, fields); await done(legend);
      }
    });
    await check('the 1st AD plans a scene: firearm, load, handler, muzzle, distances, shields', async () => {
      await switchTo('dave');
      await p2.goto(`${url}/scene`);
      await p2.fill('#scene', 'BARN'); await p2.selectOption('#scene_kind', 'rehearsal');
      await p2.selectOption('#firearm_1', 'RUB-1'); await p2.selectOption('#load_1', 'cold');
      await p2.selectOption('#handler_1', 'alec'); await p2.fill('#muzzle_1', 'down, away from crew');
      await p2.fill('#shields', 'polycarbonate shield');
      await shot(p2, '13-scene-plan');
      await p2.click('form[action="/act"] button[type=submit]');
      await done('scene plan');
    });
    await check('the 1st AD records the safety meeting with attendance and the safety rep PIN', async () => {
      await p2.goto(`${url}/meeting`);
      for (const who of ['hannah', 'dave', 'alec', 'sam']) await p2.check(`input[name="attendee_${who}"]`);
      for (const item of ['intended_action', 'deviations', 'abort_plan', 'emergency_and_medic', 'chain_of_command', 'walk_through']) await p2.check(`input[name="item_${item}"]`);
      await p2.selectOption('#safety_rep', 'sam'); await p2.fill('#safety_rep_pin', '3333');
      await shot(p2, '14-meeting');
      await p2.click('form[action="/act"] button[type=submit]');
      await done('meeting');
    });
    await check('the discharge, staffing and people pages show on the phone', async () => {
      await p2.goto(`${url}/discharge`); expect(await p2.locator('select#discharge').count() === 1, 'no discharge form'); await shot(p2, '15-discharge');
      await p2.goto(`${url}/day`); expect(await p2.locator('#armorer').innerText() === 'hannah', 'armorer not shown'); await shot(p2, '16-day');
      await switchTo('adm');
      await p2.goto(`${url}/admin`);
      expect(await p2.locator('form[action="/admin/secret"]').count() === 1, 'no secrets form for the admin');
      await shot(p2, '17-people');
    });
    await check('the armorer registers a firearm on the armory page; the override page shows its form', async () => {
      await switchTo('hannah');
      await p2.goto(`${url}/armory`);
      await p2.fill('#firearm', 'REV-9'); await p2.fill('#serial', 'SN-4411');
      await p2.fill('#make', 'Uberti'); await p2.fill('#model', '1873 Cattleman');
      await p2.fill('#calibre', '.45 Long Colt'); await p2.selectOption('#class', 'functional');
      await p2.fill('#positions', '6'); await p2.selectOption('#firearm_location', 'SAFE');
      await shot(p2, '19-armory');
      await p2.locator('fieldset', { has: p2.locator('legend', { hasText: 'Register a firearm' }) }).locator('button[type=submit]').click();
      await done('register firearm');
      await p2.goto(`${url}/`);
      expect(await p2.locator('a[href="/item/REV-9"]').count() === 1, 'REV-9 not on the board');
      await p2.goto(`${url}/override`);
      expect(await p2.locator('select#rule option[value="DAILY-MEETING"]').count() === 1, 'no DAILY-MEETING override');
      expect(await p2.locator('#approver1_pin').count() === 1, 'no approver PIN');
      await shot(p2, '20-override');
    });
    await check('at wrap the armorer counts every container and the day reconciles', async () => {
      await switchTo('hannah');
      await p2.goto(`${url}/item/REV-1`);
      await act(p2, 'Put away', { location: 'SAFE' });
      await p2.goto(`${url}/wrap`);
      const inputs = p2.locator('input[name^="count_"]');
      const n = await inputs.count();
      expect(n >= 3, `only ${n} containers to count`);
      // The page does not show the record's counts (they would lead the hand count): the
      // test counts from the state, as a person would count the boxes.
      const state = await (await p2.request.get(`${url}/api/state`)).json();
      for (let i = 0; i < n; i++) {
        const id = (await inputs.nth(i).getAttribute('name')).slice('count_'.length);
        const label = await p2.locator(`label[for="count_${id}"]`).innerText();
        expect(!/says/.test(label), `the record's count is shown: ${label}`);
        await inputs.nth(i).fill(String(state.containers[id].count));
      }
      await shot(p2, '18-wrap');
      await p2.click('form[action="/act"] button[type=submit]');
      await done('reconcile');
      await p2.goto(`${url}/discharge`);
      expect(!(await p2.locator('main').innerText()).includes('count mismatch'), 'the counts did not balance');
    });
    await ctx2.close();

    // A producer's laptop: a stopping incident is at the top of every page, above the fold.
    const laptop = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const p3 = await laptop.newPage();
    await check('on a laptop a stopping incident is the first thing on every page, in red, for the producer', async () => {
      await signIn(p3, 'hannah');
      const csrf = (await (await p3.request.post(`${url}/api/session`, { data: { person: 'hannah', password: 'demo-hannah-pass' } })).json()).csrf;
      const r = await p3.request.post(`${url}/api/commands`, {
        headers: { 'X-CSRF-Token': csrf },
        data: { command: { type: 'report_incident', kind: 'near_miss', severity: 'stop', covers: 'all', description: 'a muzzle swept the crew at the wrap-out', anonymous: false } },
      });
      expect(r.ok(), `incident not reported: ${r.status()}`);
      await p3.locator('header details.who summary').click(); await p3.locator('form[action="/signout"] button').click();
      await signIn(p3, 'pat');
      for (const path of ['/', '/flows', '/item/REV-1', '/log']) {
        await p3.goto(`${url}${path}`);
        const banner = p3.locator('.stop-banner');
        expect(await banner.isVisible(), `${path}: no stop banner`);
        const box = await banner.boundingBox();
        expect(box && box.y + box.height <= 768, `${path}: the banner is below the fold (${box && box.y})`);
        const bg = await banner.evaluate((el) => getComputedStyle(el).backgroundColor);
        expect(/rgb\((1[6-9]\d|2\d\d), \d{1,2}, \d{1,2}\)/.test(bg) || /rgb\(255, 107, 107\)/.test(bg), `${path}: the banner is not red: ${bg}`);
      }
      await shot(p3, '21-laptop-stop-banner');
    });
    await laptop.close();
  } finally {
    await browser.close();
    child.kill('SIGTERM');
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.log(`error: ${e.message}`); console.log(`${passed} passed, ${failed + 1} failed`); process.exit(1); });
