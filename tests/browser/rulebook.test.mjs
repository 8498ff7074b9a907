// The rulebook in a real browser (Debian's headless Chromium, driven by playwright-core):
// the static site written by `yakkan book` and the one `yakkan serve` serves at `/` are
// crawled, every link followed and every anchor found; a case is submitted through the
// form and the ruling shown is checked, its findings linking to the articles.
// Screenshots go to target/browser/ (test artefacts, not in git).
//
// Run from the project: `cargo build && (cd tests/browser && npm ci && npm test)`.
// YAKKAN_BIN names the binary (default target/debug/yakkan); CHROMIUM the browser.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binary = process.env.YAKKAN_BIN || join(root, 'target', 'debug', 'yakkan');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const artefacts = join(root, 'target', 'browser');
const staticSite = join(artefacts, 'book');

let server;
let base;
let browser;

/** Starts `yakkan serve` on a free loopback port; resolves with its address. */
function startServer() {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, ['serve', '--addr', '127.0.0.1:0'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('yakkan serve did not start within 60 s'));
    }, 60_000);
    let seen = '';
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(/listening on (\S+)/);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, address: `http://${match[1]}` });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`yakkan serve exited with ${code} before listening`));
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

before(async () => {
  assert.ok(existsSync(binary), `no binary at ${binary}: run cargo build first`);
  rmSync(artefacts, { recursive: true, force: true });
  mkdirSync(artefacts, { recursive: true });
  execFileSync(binary, ['book', '--out', staticSite], { cwd: root, stdio: 'inherit', timeout: 120_000 });
  const started = await startServer();
  server = started.child;
  base = started.address;
  browser = await chromium.launch({
    executablePath: browserPath,
    timeout: 60_000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGTERM');
});

// A server left behind by a crash of this process is still ended.
process.on('exit', () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
});

/**
 * Visits every page reachable from `start`, following every link of every page. Fails on
 * a page that does not load, a link to a missing page or anchor, a link leaving the site,
 * or a script error. Returns the number of pages visited.
 */
async function crawl(start, sameSite) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  const queue = [start];
  const visited = new Set();
  const ids = new Map(); // page url -> ids on it
  const anchorsWanted = []; // [from, page, anchor]
  while (queue.length > 0) {
    const url = queue.shift();
    if (visited.has(url)) continue;
    visited.add(url);
    const response = await page.goto(url, { timeout: 15_000, waitUntil: 'load' });
    if (response) assert.equal(response.status(), 200, `${url} answered ${response.status()}`);
    assert.ok((await page.title()).length > 0, `${url} has no title`);
    ids.set(url, new Set(await page.$$eval('[id]', (all) => all.map((e) => e.id))));
    const hrefs = await page.$$eval('a[href]', (all) => all.map((a) => a.href));
    for (const href of hrefs) {
      const target = new URL(href);
      assert.ok(sameSite(target), `${url} links outside the site: ${href}`);
      const anchor = decodeURIComponent(target.hash.slice(1));
      target.hash = '';
      const pageUrl = target.href;
      if (anchor) anchorsWanted.push([url, pageUrl, anchor]);
      if (!visited.has(pageUrl)) queue.push(pageUrl);
    }
  }
  for (const [from, pageUrl, anchor] of anchorsWanted) {
    assert.ok(ids.get(pageUrl)?.has(anchor), `${from} links to a missing anchor ${pageUrl}#${anchor}`);
  }
  assert.deepEqual(errors, [], 'script errors');
  await page.close();
  return visited.size;
}

test('the static site opens from files and every link resolves', async () => {
  const index = pathToFileURL(join(staticSite, 'index.html')).href;
  const visited = await crawl(index, (url) => {
    if (url.protocol !== 'file:') return false;
    const file = fileURLToPath(url);
    assert.ok(existsSync(file), `missing file ${file}`);
    return file.startsWith(staticSite);
  });
  assert.ok(visited > 100, `only ${visited} pages reached`);
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  await page.goto(pathToFileURL(join(staticSite, 'art-09-options.html')).href);
  await page.screenshot({ path: join(artefacts, 'static-art-09.png'), fullPage: true });
  // Article 9 paragraph 2: the Japanese text beside the rules that encode it.
  const paragraph = page.locator('#p2');
  await assert.doesNotReject(paragraph.locator('#rule-art9-2-2-sandbox-on-gateway-only').waitFor({ timeout: 5_000 }));
  assert.match(await paragraph.locator('.text').innerText(), /Webサンドボックスオプション/);
  await page.close();
});

test('the served site at / : every link resolves', async () => {
  const origin = new URL(base).origin;
  const visited = await crawl(`${base}/`, (url) => url.origin === origin);
  assert.ok(visited > 100, `only ${visited} pages reached`);
});

test('a case submitted through the form shows its ruling, findings linked to the articles', async () => {
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  await page.goto(`${base}/`, { timeout: 15_000 });
  const text = readFileSync(join(root, 'examples', '02-early-termination-fee.yaml'), 'utf8');
  await page.fill('#case-text', text);
  await page.click('#evaluate');
  const decision = page.locator('#ruling .request .decision').first();
  await decision.waitFor({ timeout: 15_000 });
  assert.equal(await decision.innerText(), 'accepted');
  const ruling = await page.locator('#ruling').innerText();
  assert.match(ruling, /early_termination_fee = "3999"/);
  assert.match(ruling, /effective_date = "2026-05-12"/);
  assert.match(ruling, /minimum_period_end = "2026-05-14"/);
  await page.locator('#ruling').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artefacts, 'form-ruling.png'), fullPage: true });

  // The 13.1 finding links to its rule on the article 13 page.
  const cite = page.locator('#ruling a.cite', { hasText: '(13.1)' }).first();
  const href = await cite.getAttribute('href');
  assert.match(href, /^art-13-early-termination\.html#rule-/);
  await Promise.all([page.waitForURL(/art-13-early-termination\.html/, { timeout: 15_000 }), cite.click()]);
  const anchor = decodeURIComponent(new URL(page.url()).hash.slice(1));
  assert.equal(await page.locator(`[id="${anchor}"]`).count(), 1, `no #${anchor} on the article page`);
  await page.screenshot({ path: join(artefacts, 'form-finding-article.png') });

  // A case with an impossible date: the error names the field and its line.
  await page.goto(`${base}/`, { timeout: 15_000 });
  await page.fill('#case-text', text.replace('notice_arrived: 2026-04-12', 'notice_arrived: 2026-02-30'));
  await page.click('#evaluate');
  const error = page.locator('#ruling .error');
  await error.waitFor({ timeout: 15_000 });
  assert.match(await error.innerText(), /requests\[0\]\.notice_arrived \(line 22, column \d+\): invalid date/);
  assert.match(await page.locator('#ruling .hint').innerText(), /hint: write the date as YYYY-MM-DD/);
  await page.screenshot({ path: join(artefacts, 'form-error.png') });
  await page.close();
});
