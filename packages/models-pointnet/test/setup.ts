// Every test file runs on the best installed backend (tfjs-node here, else wasm, else cpu), or
// the one GORILLA_BACKEND names; tests that need another backend switch explicitly.
import { initBackend } from '@gorilla-ts/train';

await initBackend({ logger: () => {} });
