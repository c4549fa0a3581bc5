/**
 * The page: backend start-up, file drop and URL loading, and the views. Every failure ends as
 * a message in the page (never a blank screen).
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Classification,
  classify,
  InputError,
  type LoadedModel,
  loadModel,
  topK,
} from './core.js';
import { chartSvg, parseMetrics } from './curves.js';
import { parsePointFile, preparePoints } from './points.js';
import { decodeSamples, type SampleSet } from './samples.js';
import { CloudView } from './view3d.js';

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

const state: {
  loaded?: LoadedModel;
  samples?: SampleSet;
  view?: CloudView;
  current?: { name: string; points: Float32Array; channels: number; label?: number };
} = {};

// ---- messages ----

function showError(error: unknown): void {
  const message =
    error instanceof InputError ||
    (error instanceof Error && error.name.endsWith('Error') && !(error instanceof TypeError))
      ? error.message
      : `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
  const item = document.createElement('div');
  item.className = 'error';
  item.textContent = message;
  $('#messages').append(item);
  document.body.dataset.errors = String(Number(document.body.dataset.errors ?? 0) + 1);
}

function showInfo(text: string): void {
  const item = document.createElement('div');
  item.className = 'info';
  item.textContent = text;
  $('#messages').append(item);
}

window.addEventListener('error', (event) => showError(event.error ?? event.message));
window.addEventListener('unhandledrejection', (event) => showError(event.reason));

// ---- backend ----

async function startBackend(): Promise<string> {
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  });
  const wanted = new URLSearchParams(location.search).get('backend');
  const order = wanted ? [wanted] : ['webgl', 'wasm', 'cpu'];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // try the next one
    }
  }
  throw new InputError(`No tfjs backend could start (tried ${order.join(', ')}).`);
}

// ---- checkpoint ----

function describeCheckpoint(loaded: LoadedModel): void {
  const { info } = loaded;
  const meta = info.meta;
  const pct = (value: unknown) =>
    typeof value === 'number' ? `${(value * 100).toFixed(2)}%` : '—';
  const rows: Array<[string, string]> = [
    ['file', info.name],
    [
      'model',
      `${String(info.modelConfig.type)} · ${info.parameters.toLocaleString('en')} parameters`,
    ],
    [
      'trained on',
      `${info.datasetType ?? 'unknown'}${info.numPoints ? ` · ${info.numPoints} points` : ''}`,
    ],
    ['input', info.inChannels === 6 ? 'xyz + normals' : 'xyz'],
    ['classes', `${info.classes.length}: ${info.classes.join(', ')}`],
    ['epoch', String(meta.epoch ?? '—')],
    ['accuracy', pct(meta.accuracy)],
    [
      'best',
      `${pct(meta.bestAccuracy)}${meta.bestEpoch === undefined ? '' : ` (epoch ${String(meta.bestEpoch)})`}`,
    ],
    ['loss', typeof meta.loss === 'number' ? meta.loss.toFixed(4) : '—'],
    ['saved', info.savedAt ?? '—'],
  ];
  const list = $('#meta');
  list.replaceChildren(
    ...rows.flatMap(([key, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = key;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dd.dataset.key = key;
      return [dt, dd];
    }),
  );
}

async function openCheckpoint(bytes: Uint8Array, name: string): Promise<void> {
  const loaded = loadModel(bytes, name);
  state.loaded?.model.dispose();
  state.loaded = loaded;
  describeCheckpoint(loaded);
  await classifySamples();
  if (state.current)
    await showCloud(
      state.current.name,
      state.current.points,
      state.current.channels,
      state.current.label,
    );
}

// ---- classification ----

function showTop5(result: Classification, title: string): void {
  const { classes } = state.loaded!.info;
  $('#shape-name').textContent = `· ${title}`;
  $('#top5').replaceChildren(
    ...topK(result.probabilities, 5).map(({ index, p }) => {
      const li = document.createElement('li');
      li.dataset.class = String(index);
      li.textContent = `${classes[index]} ${(p * 100).toFixed(1)}%`;
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${Math.round(p * 120)}px`;
      li.append(bar);
      return li;
    }),
  );
}

async function showCloud(
  name: string,
  points: Float32Array,
  channels: number,
  label?: number,
): Promise<void> {
  state.current = { name, points, channels, ...(label === undefined ? {} : { label }) };
  state.view?.show(points, channels);
  if (!state.loaded) {
    $('#shape-name').textContent = `· ${name} (open a checkpoint to classify)`;
    return;
  }
  const result = await classify(state.loaded, points, channels);
  showTop5(result, name);
  $('#timing').textContent = `${name}: ${result.milliseconds.toFixed(1)} ms on ${tf.getBackend()}`;
}

async function classifySamples(): Promise<void> {
  const { loaded, samples } = state;
  if (!loaded || !samples) return;
  document.body.dataset.state = 'classifying';
  const body = $('#samples tbody');
  const rows = [...body.querySelectorAll('tr')];
  const times: number[] = [];
  let correct = 0;
  const sameClasses = loaded.info.classes.join() === samples.classes.join();
  for (const [i, shape] of samples.shapes.entries()) {
    const result = await classify(loaded, shape.points, 3);
    times.push(result.milliseconds);
    const row = rows[i]!;
    row.dataset.predicted = String(result.predicted);
    row.dataset.logits = JSON.stringify([...result.logits]);
    row.dataset.ms = result.milliseconds.toFixed(2);
    const predictedCell = row.children[2] as HTMLElement;
    predictedCell.textContent = loaded.info.classes[result.predicted] ?? String(result.predicted);
    predictedCell.classList.toggle('wrong', sameClasses && result.predicted !== shape.label);
    row.children[3]!.textContent = result.probabilities[result.predicted]!.toFixed(2);
    row.children[4]!.textContent = result.milliseconds.toFixed(1);
    if (result.predicted === shape.label) correct++;
  }
  const warm = times.length > 1 ? times.slice(1) : times;
  const mean = warm.reduce((a, b) => a + b, 0) / warm.length;
  document.body.dataset.msPerShape = mean.toFixed(2);
  $('#sample-accuracy').textContent = sameClasses
    ? `· ${correct}/${samples.shapes.length} correct`
    : `· (the model's classes are not ModelNet10's)`;
  $('#timing').textContent =
    `${samples.shapes.length} shapes on ${tf.getBackend()}: ${mean.toFixed(1)} ms per shape (first, with shader/kernel set-up: ${times[0]!.toFixed(0)} ms)`;
  document.body.dataset.state = 'classified';
}

function listSamples(samples: SampleSet): void {
  $('#samples tbody').replaceChildren(
    ...samples.shapes.map((shape) => {
      const row = document.createElement('tr');
      row.dataset.id = shape.id;
      for (const text of [shape.id, samples.classes[shape.label] ?? '?', '', '', '']) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      row.addEventListener('click', () => {
        for (const other of row.parentElement!.children) other.classList.remove('selected');
        row.classList.add('selected');
        showCloud(shape.id, shape.points, 3, shape.label).catch(showError);
      });
      return row;
    }),
  );
}

// ---- files ----

async function openFile(name: string, bytes: Uint8Array): Promise<void> {
  const lower = name.toLowerCase();
  if (lower.endsWith('.safetensors')) {
    await openCheckpoint(bytes, name);
  } else if (lower.endsWith('.jsonl') || lower.endsWith('.json')) {
    showCurves(name, new TextDecoder().decode(bytes));
  } else {
    const maxPoints = state.loaded?.info.numPoints ?? 1024;
    const cloud = parsePointFile(name, bytes, maxPoints);
    await showCloud(name, preparePoints(cloud, Math.max(maxPoints, 1024)), cloud.channels);
  }
}

async function openFiles(files: Iterable<File>): Promise<void> {
  // Checkpoints first, so that clouds dropped with them are classified by them.
  const sorted = [...files].sort(
    (a, b) => Number(b.name.endsWith('.safetensors')) - Number(a.name.endsWith('.safetensors')),
  );
  for (const file of sorted) {
    try {
      await openFile(file.name, new Uint8Array(await file.arrayBuffer()));
    } catch (error) {
      showError(error);
    }
  }
}

function showCurves(name: string, text: string): void {
  const series = parseMetrics(name, text);
  const pick = (keys: string[]) =>
    keys
      .filter((key) => series.has(key))
      .map(
        (key) =>
          [key, series.get(key)!] as [
            string,
            typeof series extends Map<string, infer S> ? S : never,
          ],
      );
  const charts = [
    chartSvg('loss', pick(['loss'])),
    chartSvg('accuracy', pick(['accuracy', 'meanClassAccuracy'])),
    chartSvg('learning rate', pick(['lr'])),
  ].filter(Boolean);
  const title = document.createElement('h2');
  title.textContent = `Training curves · ${name}`;
  $('#curves').replaceChildren(
    title,
    ...charts.map((svg) => {
      const figure = document.createElement('figure');
      figure.innerHTML = svg;
      return figure;
    }),
  );
}

async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new InputError(`Cannot fetch the ${what} ${url}: ${(error as Error).message}.`);
  }
  if (!response.ok)
    throw new InputError(
      `Cannot fetch the ${what} ${url}: HTTP ${response.status} ${response.statusText}.`,
    );
  return new Uint8Array(await response.arrayBuffer());
}

// ---- start ----

async function start(): Promise<void> {
  try {
    state.view = new CloudView($('#view'));
  } catch (error) {
    showError(
      new InputError(
        `The 3D view needs WebGL, which this browser does not offer (${(error as Error).message}); classification still works.`,
      ),
    );
  }
  $<HTMLInputElement>('#point-size').addEventListener('input', (event) => {
    if (state.view) state.view.pointSize = Number((event.target as HTMLInputElement).value);
  });
  $<HTMLSelectElement>('#up-axis').addEventListener('change', (event) => {
    if (state.view) state.view.upAxis = (event.target as HTMLSelectElement).value as 'y' | 'z';
  });
  $<HTMLInputElement>('#files').addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    openFiles(input.files ?? []).finally(() => {
      input.value = '';
    });
  });
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    document.body.classList.remove('dragging');
    openFiles(event.dataTransfer?.files ?? []).catch(showError);
  });

  const backend = await startBackend();
  $('#backend').textContent = `backend: ${backend}`;
  document.body.dataset.backend = backend;

  try {
    state.samples = decodeSamples(await fetchBytes('./samples/modelnet10-test.bin', 'sample file'));
    listSamples(state.samples);
    const first = state.samples.shapes[0];
    if (first) await showCloud(first.id, first.points, 3, first.label);
  } catch (error) {
    showError(error);
  }
  const params = new URLSearchParams(location.search);
  for (const [key, what] of [
    ['checkpoint', 'checkpoint'],
    ['metrics', 'metrics file'],
  ] as const) {
    const url = params.get(key);
    if (url === null) continue;
    try {
      const name = decodeURIComponent(url.split('/').pop() ?? url);
      const bytes = await fetchBytes(url, what);
      await openFile(
        key === 'checkpoint' && !name.endsWith('.safetensors') ? `${name}.safetensors` : name,
        bytes,
      );
    } catch (error) {
      showError(error);
    }
  }
  if (!state.loaded) showInfo('Open a checkpoint to classify the shapes.');
  if (document.body.dataset.state !== 'classified') document.body.dataset.state = 'ready';
}

start().catch((error) => {
  showError(error);
  document.body.dataset.state = 'failed';
});
