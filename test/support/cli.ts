import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'cli', 'grex-harness.ts');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the grex-harness CLI as a user would, and waits for it to exit. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface StartedMock {
  url: string;
  banner: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `grex-harness mock --port 0` and resolves once it prints the address it listens on. */
export function startCliMock(extra: string[] = []): Promise<StartedMock> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'mock', '--port', '0', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let banner = '';
    let errors = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mock did not start in 20 s:\n${banner}\n${errors}`));
    }, 20_000);
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      banner += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(banner);
      if (match && banner.includes('Ready. Press Ctrl+C to stop.')) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          banner,
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock exited with ${code}:\n${banner}\n${errors}`));
    });
  });
}

/** As `runCli`, without blocking this process (the CLI may talk to a mock running in it). */
export function runCliAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
