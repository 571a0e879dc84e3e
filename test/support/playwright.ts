import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

export interface PlaywrightRun {
  status: number | null;
  output: string;
  seconds: number;
  /** Its GREX_SUITE_REPORTS: a fresh folder, the caller's to remove. */
  reports: string;
}

/**
 * `npx playwright test ...args` as a user runs it (the config starts the
 * servers it needs), on a free mock port, with its own report folder and
 * the line reporter (the config's reporters, Allure's among them, with
 * `reports`); DEMO settings only when given in `env`.
 */
export async function playwright(args: string[], env: Record<string, string> = {}, timeoutMs = 150_000, options: { reports?: boolean } = {}): Promise<PlaywrightRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('GREX_DEMO_') && !name.startsWith('GREX_BUDGET_') && !['GREX_MOCK_ARGS', 'GREX_SUITE_MOCK', 'GREX_CLIENT_CMD', 'GREX_CONTRACTS'].includes(name)),
  );
  const reports = mkdtempSync(join(tmpdir(), 'grex-playwright-'));
  const started = performance.now();
  const reporter = options.reports ? [] : ['--reporter=line'];
  const child = spawn(process.execPath, [join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js'), 'test', ...args, ...reporter], {
    cwd: ROOT,
    env: { ...inherited, GREX_SUITE_PORT: String(await freePort()), GREX_SUITE_REPORTS: reports, CI: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, output, seconds: (performance.now() - started) / 1000, reports };
}
