/**
 * Fault injection for tests of crash safety: when the environment variable `GORILLA_TS_FAULT`
 * names this point (`checkpoint:before-latest`), the process kills itself here with SIGKILL,
 * the way a power cut or the OOM killer would, so a real-process test can stop a run exactly
 * between two writes instead of at a convenient boundary. Costs one environment lookup
 * otherwise. @internal
 */
export function faultPoint(name: string): void {
  if (process.env.GORILLA_TS_FAULT === name) process.kill(process.pid, 'SIGKILL');
}
