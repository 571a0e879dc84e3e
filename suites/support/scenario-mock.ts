import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A mock of a test file's own, started from a scenario (fixtures/scenarios/) as a user would start it. */
export interface ScenarioMock {
  origin: string;
  stop(): Promise<void>;
}

/**
 * `grex-harness mock --port 0 --scenario NAME`: a process of its own, so a
 * file's situation never reaches the shared mock the other files run against
 * in parallel. Resolves once the mock says it is ready. GREX_SUITE_FAULTS (a
 * JSON array, set by the mutation runner) turns test-only faults on in it.
 */
export function startScenarioMock(scenario: string): Promise<ScenarioMock> {
  // The mutation runner's faults (suites/mutations.ts) reach this mock too: a scenario file is checked like the others.
  const faults = (JSON.parse(process.env.GREX_SUITE_FAULTS || '[]') as object[]).flatMap((fault) => ['--fault', JSON.stringify(fault)]);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'grex-harness.ts'), 'mock', '--port', '0', '--scenario', scenario, ...faults], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = (): Promise<void> =>
    new Promise((done) => {
      if (child.exitCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    let banner = '';
    let errors = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the mock of scenario ${scenario} did not start in 30 s:\n${banner}${errors}`));
    }, 30_000);
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      banner += chunk.toString();
      const origin = /listening on (http:\/\/\S+)/.exec(banner)?.[1];
      if (!origin || !banner.includes('Ready. Press Ctrl+C to stop.')) return;
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      resolve({ origin, stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the mock of scenario ${scenario} exited with ${code}:\n${errors}`));
    });
  });
}
