const reached = new Map<string, number>();

/**
 * Fault injection for tests of crash safety: when the environment variable `GORILLA_TS_FAULT`
 * names this point (`checkpoint:between-best-and-latest`), or names it with a count
 * (`checkpoint:between-best-and-latest@2`: the second time it is reached), the process kills
 * itself here with SIGKILL, the way a power cut or the OOM killer would. A real-process test can
 * so stop a run exactly between two writes instead of at a convenient boundary. Costs one
 * environment lookup otherwise. @internal
 */
export function faultPoint(name: string): void {
  const fault = process.env.GORILLA_TS_FAULT;
  if (fault === undefined || !fault.startsWith(name)) return;
  const [point, count = '1'] = fault.split('@');
  if (point !== name) return;
  const times = (reached.get(name) ?? 0) + 1;
  reached.set(name, times);
  if (times === Number(count)) process.kill(process.pid, 'SIGKILL');
}
