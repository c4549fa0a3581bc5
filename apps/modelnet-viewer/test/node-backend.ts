/**
 * The Node side of every test: tfjs-node loaded the way the toolkit loads it (initBackend), so
 * the tests run on each Node LTS line as a user's training run does (on Node 23+ tfjs-node 4.22
 * needs `util.isNullOrUndefined` put back, which initBackend does before loading it).
 */
import { initBackend } from '@gorilla-ts/train';

await initBackend({ backend: 'tensorflow', logger: () => {} });
