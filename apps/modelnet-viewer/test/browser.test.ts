/**
 * The viewer in a real browser: builds it, serves the build on 127.0.0.1, opens it in Debian's
 * Chromium (playwright-core, no browser download) with a checkpoint trained by the demo CLI,
 * and checks that the page's predicted classes for the bundled ModelNet10 shapes equal the
 * Node predictions (tfjs-node) for the same checkpoint and shapes, that no console error
 * occurred, and that a malformed file gives a message in the page. Screenshots and the
 * measured figures go to test-output/.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { bundledSamples, classifyOn, maxAbsDifference, root } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const output = join(root, 'test-output');
const dist = join(root, 'dist');
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

let server: Server;
let browser: Browser;
let base: string;

beforeAll(async () => {
  // The real `build` script: a static folder with relative URLs.
  await promisify(execFile)(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: root,
      timeout: 300_000,
    },
  );
  const files: Record<string, string> = {
    '/run/epoch_latest.safetensors': inject('checkpoint'),
    ...(inject('metrics') ? { '/run/metrics.jsonl': inject('metrics')! } : {}),
  };
  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    // The build is served from a sub-folder, /app/, as a static host might: its URLs are relative.
    const inApp = path.startsWith('/app/') ? path.slice('/app'.length) : undefined;
    const file =
      files[path] ??
      (inApp === undefined
        ? '/nonexistent'
        : join(dist, normalize(inApp === '/' ? '/index.html' : inApp)));
    if (!file.startsWith(dist) && !Object.values(files).includes(file))
      return response.writeHead(403).end();
    if (!existsSync(file) || !statSync(file).isFile()) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // WebGL on Chromium's software renderer (SwiftShader): there is no GPU here.
      '--enable-unsafe-swiftshader',
    ],
  });
  mkdirSync(output, { recursive: true });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test('the page classifies the bundled shapes as Node does, with no console error', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  const query = `?checkpoint=../run/epoch_latest.safetensors${inject('metrics') ? '&metrics=../run/metrics.jsonl' : ''}`;
  await page.goto(`${base}/app/${query}`);
  await page.waitForSelector('body[data-state="classified"], body[data-state="failed"]', {
    timeout: 300_000,
  });
  const backend = await page.getAttribute('body', 'data-backend');
  const msPerShape = Number(await page.getAttribute('body', 'data-ms-per-shape'));
  const rows = await page.$$eval('#samples tbody tr', (trs) =>
    trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.id!,
      predicted: Number((tr as HTMLElement).dataset.predicted),
      logits: JSON.parse((tr as HTMLElement).dataset.logits ?? '[]') as number[],
    })),
  );
  const messages = await page.$$eval('#messages .error', (items) =>
    items.map((item) => item.textContent),
  );
  await page.click('#samples tbody tr:nth-child(7)');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(output, 'viewer.png'), fullPage: true });

  const node = await classifyOn('tensorflow', inject('checkpoint'), bundledSamples());
  const difference = maxAbsDifference(
    node.map((row) => row.logits),
    rows.map((row) => row.logits),
  );
  const assets = readdirSync(join(dist, 'assets')).map((name) => ({
    name,
    bytes: statSync(join(dist, 'assets', name)).size,
  }));
  const report = {
    checkpoint: inject('checkpoint'),
    browser: `${CHROMIUM} ${browser.version()}`,
    backend,
    shapes: rows.length,
    msPerShape,
    maxAbsLogitDifference: difference,
    agree: rows.every((row, i) => row.predicted === node[i]!.predicted),
    bundle: assets,
  };
  writeFileSync(join(output, 'browser-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report));

  expect(messages).toEqual([]);
  expect(errors).toEqual([]);
  expect(backend).toBe('webgl');
  expect(rows.map((row) => row.id)).toEqual(node.map((row) => row.id));
  expect(rows.map((row) => row.predicted)).toEqual(node.map((row) => row.predicted));
  expect(difference).toBeLessThan(1e-3);
  expect(await page.textContent('#meta dd[data-key="epoch"]')).toMatch(/^\d+$/);
  await page.close();
}, 600_000);

test('the wasm backend in the browser gives the same classes', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(`${base}/app/?backend=wasm&checkpoint=/run/epoch_latest.safetensors`);
  await page.waitForSelector('body[data-state="classified"], body[data-state="failed"]', {
    timeout: 300_000,
  });
  const rows = await page.$$eval('#samples tbody tr', (trs) =>
    trs.map((tr) => ({
      predicted: Number((tr as HTMLElement).dataset.predicted),
      logits: JSON.parse((tr as HTMLElement).dataset.logits ?? '[]') as number[],
    })),
  );
  const node = await classifyOn('tensorflow', inject('checkpoint'), bundledSamples());
  const difference = maxAbsDifference(
    node.map((row) => row.logits),
    rows.map((row) => row.logits),
  );
  console.log(
    JSON.stringify({
      backend: await page.getAttribute('body', 'data-backend'),
      msPerShape: Number(await page.getAttribute('body', 'data-ms-per-shape')),
      maxAbsLogitDifference: difference,
    }),
  );
  expect(await page.getAttribute('body', 'data-backend')).toBe('wasm');
  expect(errors).toEqual([]);
  expect(rows.map((row) => row.predicted)).toEqual(node.map((row) => row.predicted));
  expect(difference).toBeLessThan(1e-4);
  await page.close();
}, 300_000);

test('malformed files give a message in the page, not a blank screen', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const uncaught: string[] = [];
  page.on('pageerror', (error) => uncaught.push(error.message));
  await page.goto(`${base}/app/`);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 300_000 });
  await page.setInputFiles('#files', [
    {
      name: 'broken.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('not a checkpoint at all'),
    },
    {
      name: 'chair.off',
      mimeType: 'text/plain',
      buffer: Buffer.from('OFF\n4 1 0\n0 0 0\n1 0 0\n'),
    },
    { name: 'points.txt', mimeType: 'text/plain', buffer: Buffer.from('0,0,0\n1,2\n') },
    { name: 'run.jsonl', mimeType: 'text/plain', buffer: Buffer.from('{"epoch": 1}\nnot json\n') },
  ]);
  await page.waitForFunction(
    () => document.querySelectorAll('#messages .error').length >= 4,
    undefined,
    {
      timeout: 60_000,
    },
  );
  const messages = await page.$$eval('#messages .error', (items) =>
    items.map((item) => item.textContent ?? ''),
  );
  await page.screenshot({ path: join(output, 'viewer-errors.png'), fullPage: true });
  expect(messages).toHaveLength(4);
  expect(messages[0]).toMatch(/broken\.safetensors/);
  expect(messages[1]).toMatch(/chair\.off/);
  expect(messages[2]).toMatch(/points\.txt' line 2/);
  expect(messages[3]).toMatch(/run\.jsonl' line 2 is not JSON/);
  expect(uncaught).toEqual([]);
  // The page is still there: the sample list and the 3D view.
  expect(await page.locator('#samples tbody tr').count()).toBe(30);
  expect(basename(output)).toBe('test-output');
  await page.close();
}, 300_000);
