/**
 * The evaluation report renders in a real browser: Debian's headless Chromium, driven by
 * playwright-core, loads the self-contained HTML from a file: a screenshot is produced and the
 * page logs no console error and requests nothing from the network.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { confusionSvg } from '../src/confusion-image.js';
import { addToConfusion, confusionMetrics, emptyConfusion } from '../src/evaluate.js';
import { evalReportHtml, readRunHistory } from '../src/report.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'modelnet-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the HTML evaluation report', () => {
  it('reads the run history from the JSON lines, skipping a cut line and repeated epochs', () => {
    writeFileSync(
      join(dir, '20260101_000000.jsonl'),
      '{"epoch":1,"loss":2.1,"accuracy":0.3,"meanClassAccuracy":0.25}\n{"epoch":2,"loss":1.5}\n{"epo',
    );
    writeFileSync(
      join(dir, '20260101_010000.jsonl'),
      '{"epoch":2,"loss":1.4,"accuracy":0.5,"meanClassAccuracy":0.45}\n{"epoch":3,"loss":1.1,"accuracy":0.6,"meanClassAccuracy":0.55}\n',
    );
    expect(readRunHistory(dir).map((record) => [record.epoch, record.loss])).toEqual([
      [1, 2.1],
      [2, 1.4],
      [3, 1.1],
    ]);
    expect(readRunHistory(join(dir, 'missing'))).toEqual([]);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    'renders in headless Chromium: a screenshot, no console errors, no requests',
    async () => {
      const names = [
        'bathtub',
        'bed',
        'chair',
        'desk',
        'dresser',
        'monitor',
        'night_stand',
        'sofa',
        'table',
        'toilet',
      ];
      const matrix = emptyConfusion(10);
      const truth = Array.from({ length: 200 }, (_, i) => i % 10);
      addToConfusion(
        matrix,
        truth,
        truth.map((label, i) => (i % 7 === 0 ? (label + 1) % 10 : label)),
      );
      const html = evalReportHtml({
        checkpoint: '/runs/default/epoch_best.safetensors',
        metrics: confusionMetrics(matrix),
        classNames: names,
        confusionSvg: confusionSvg(matrix, names),
        history: readRunHistory(dir),
      });
      const page = join(dir, 'report.html');
      writeFileSync(page, html);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      try {
        const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
        const problems: string[] = [];
        const requests: string[] = [];
        tab.on('console', (message) => {
          if (message.type() === 'error') problems.push(message.text());
        });
        tab.on('pageerror', (error) => problems.push(error.message));
        tab.on('request', (request) => {
          if (!request.url().startsWith('file:')) requests.push(request.url());
        });
        await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
        expect(await tab.locator('h1').textContent()).toBe('Evaluation report');
        expect(await tab.locator('table.classes tr').count()).toBe(11);
        expect(await tab.locator('svg').count()).toBe(3); // two curves and the matrix
        const shot = await tab.screenshot({ fullPage: true, path: join(dir, 'report.png') });
        const image = PNG.sync.read(shot);
        expect(image.width).toBe(1100);
        expect(image.height).toBeGreaterThan(900);
        expect(problems).toEqual([]);
        expect(requests).toEqual([]);
        if (process.env.REPORT_SCREENSHOT) writeFileSync(process.env.REPORT_SCREENSHOT, shot);
      } finally {
        await browser.close();
      }
    },
    // Chromium starts in ~2 s alone, up to ~20 s on a busy 2-core machine.
    90_000,
  );
});
