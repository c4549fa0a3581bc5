/**
 * `@gorilla-ts/train`: the training loop for TensorFlow.js and its building blocks.
 *
 * @packageDocumentation
 */

// nn: the module tree every model is built from
export { type LoadStateDictOptions, type LoadStateDictResult, Module } from './nn/module.js';

// ---- train I: backend, nn layers, optimizers, schedulers, losses, checkpoints, seeding ----

// ---- train II: logging, TensorBoard, timers, buffers, data, parameter counts, backup ----
