import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'cli', 'grex-harness.ts');

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

/**
 * The same without blocking: a test that keeps HTTP connections open (to a
 * mock, a proxy) must not stall its event loop past their keep-alive time.
 * `as`: another user to run it as (a test run by root that needs file
 * permissions to hold).
 */
export function runCliAsync(args: string[], as: { uid?: number; gid?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...as });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export interface StartedMock {
  url: string;
  banner: string;
  child: ChildProcess;
  /** Everything it printed on stdout so far (with `--log json`, the log lines). */
  stdout(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `grex-harness mock` (on a free port unless `extra` names one) and resolves once its banner (on stdout, or on stderr with `--log json`) says where it listens. */
export function startCliMock(extra: string[] = []): Promise<StartedMock> {
  const port = extra.includes('--port') ? [] : ['--port', '0'];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'mock', ...port, ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let errors = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mock did not start in 20 s:\n${out}\n${errors}`));
    }, 20_000);
    let started = false;
    const seen = (): void => {
      if (started) return;
      const banner = /listening on https?:/.test(out) ? out : errors;
      const match = /listening on (https?:\/\/\S+)/.exec(banner);
      if (!match || !banner.includes('Ready. Press Ctrl+C to stop.')) return;
      started = true;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: match[1],
        banner,
        child,
        stdout: () => out,
        stop: () =>
          new Promise<number | null>((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            child.once('exit', (code) => done(code));
            child.kill('SIGTERM');
          }),
      });
    };
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
      seen();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      seen();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock exited with ${code}:\n${out}\n${errors}`));
    });
  });
}
