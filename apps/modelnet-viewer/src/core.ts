/**
 * The model side of the viewer, free of DOM and of any particular tfjs backend: the same code
 * classifies in the page (webgl, wasm) and in Node (tfjs-node) for the cross-runtime test.
 */
import '@gorilla-ts/models-pointnet'; // registers PointNetCls in MODELS
import type { PointNetCls } from '@gorilla-ts/models-pointnet';
import { buildModel } from '@gorilla-ts/registry';
import { loadCheckpointBytes, parseSafetensors } from '@gorilla-ts/train/nn';
import * as tf from '@tensorflow/tfjs-core';
import { classNamesFor } from './classes.js';

/** What the page shows about a checkpoint. */
export interface CheckpointInfo {
  /** The file name or URL it came from. */
  name: string;
  /** Class names in label order. */
  classes: string[];
  /** Input channels the model expects (3: xyz, 6: xyz + normals). */
  inChannels: number;
  /** Points per shape the model was trained on (`dataset.numPoints`), when known. */
  numPoints: number | undefined;
  /** The dataset type of the run (`SyntheticShapes`, `ModelNetH5`, ...), when known. */
  datasetType: string | undefined;
  /** The checkpoint's `meta`: `{ epoch, iter, loss, accuracy, bestAccuracy, ... }`. */
  meta: Record<string, unknown>;
  /** The model config it was built from. */
  modelConfig: Record<string, unknown>;
  /** Parameters of the model. */
  parameters: number;
  /** When it was saved, if recorded. */
  savedAt: string | undefined;
}

/** A model ready to classify, with its description. */
export interface LoadedModel {
  model: PointNetCls;
  info: CheckpointInfo;
}

/** A user-facing problem with an input file: the page shows the message. */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * Builds the model described by the config saved in a checkpoint and loads its weights. Any
 * problem (not a safetensors file, no config, a state that does not fit) is an
 * {@link InputError} or `CheckpointError` naming the file.
 */
export function loadModel(bytes: Uint8Array | ArrayBuffer, name: string): LoadedModel {
  let metadata: Record<string, string>;
  try {
    metadata = parseSafetensors(bytes).metadata;
  } catch (error) {
    throw new InputError(`Cannot open checkpoint '${name}': ${(error as Error).message}.`);
  }
  const config = parseObject(metadata.config, name, 'config');
  const modelConfig = config?.model;
  if (typeof modelConfig !== 'object' || modelConfig === null || Array.isArray(modelConfig)) {
    throw new InputError(
      `Cannot open checkpoint '${name}': it has no model config in its metadata (expected a checkpoint written by modelnet-demo train, with config.model).`,
    );
  }
  const model = buildModel<PointNetCls>(modelConfig as { type: string });
  try {
    const { meta } = loadCheckpointBytes(model, bytes, { name });
    model.eval();
    const dataset = (config?.dataset ?? {}) as Record<string, unknown>;
    const datasetType = typeof dataset.type === 'string' ? dataset.type : undefined;
    const explicit = Array.isArray(meta.classes) ? (meta.classes as string[]) : undefined;
    const numPoints =
      typeof dataset.numPoints === 'number'
        ? dataset.numPoints
        : typeof dataset.num_points === 'number'
          ? dataset.num_points
          : undefined;
    return {
      model,
      info: {
        name,
        classes: classNamesFor(model.options.numClasses, datasetType, explicit),
        inChannels: model.options.inChannels,
        numPoints,
        datasetType,
        meta,
        modelConfig: modelConfig as Record<string, unknown>,
        parameters: model.parameters().reduce((sum, variable) => sum + variable.size, 0),
        savedAt: metadata.savedAt,
      },
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Logits and probabilities of one shape. */
export interface Classification {
  logits: Float32Array;
  probabilities: Float32Array;
  /** The argmax class. */
  predicted: number;
  /** Wall time of the forward pass including the read-back, in milliseconds. */
  milliseconds: number;
}

/**
 * Classifies one point cloud `[n, channels]` (row-major) in eval mode. Extra channels beyond
 * the model's are dropped; too few is an {@link InputError}.
 */
export async function classify(
  loaded: LoadedModel,
  points: Float32Array,
  channels: number,
): Promise<Classification> {
  const { inChannels } = loaded.info;
  if (channels < inChannels) {
    throw new InputError(
      `The model expects ${inChannels} channels per point (xyz${inChannels === 6 ? ' + normals' : ''}), the cloud has ${channels}.`,
    );
  }
  const n = points.length / channels;
  const input = channels === inChannels ? points : selectChannels(points, channels, inChannels);
  const started = performance.now();
  const logitsTensor = tf.tidy(() => {
    const batch = tf.tensor3d(input, [1, n, inChannels]);
    return tf.reshape(loaded.model.forward(batch).logits, [-1]);
  });
  const logits = (await logitsTensor.data()) as Float32Array;
  logitsTensor.dispose();
  const milliseconds = performance.now() - started;
  return { logits, probabilities: softmax(logits), predicted: argMax(logits), milliseconds };
}

/** The `k` most probable classes, most probable first. */
export function topK(probabilities: Float32Array, k: number): Array<{ index: number; p: number }> {
  return [...probabilities]
    .map((p, index) => ({ index, p }))
    .sort((a, b) => b.p - a.p || a.index - b.index)
    .slice(0, k);
}

function selectChannels(points: Float32Array, from: number, to: number): Float32Array {
  const n = points.length / from;
  const out = new Float32Array(n * to);
  for (let i = 0; i < n; i++) for (let c = 0; c < to; c++) out[i * to + c] = points[i * from + c]!;
  return out;
}

function softmax(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const exps = logits.map((value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}

function argMax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function parseObject(
  text: string | undefined,
  name: string,
  key: string,
): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    throw new InputError(`Cannot open checkpoint '${name}': its '${key}' metadata is not JSON.`);
  }
}
