import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One Playwright run of some suite files against the shared mock. */
export interface SuiteRun {
  /** Playwright's exit code: 0 all passed, 1 a test failed; anything else means the run itself broke. */
  status: number | null;
  passed: number;
  /** The failed tests: file, title and the first line of the error. */
  failed: { file: string; title: string; error: string }[];
  /** What the line reporter printed (failures with their transcripts). */
  output: string;
  seconds: number;
}

interface JsonSuite {
  file?: string;
  specs?: { title: string; file: string; tests: { status: string; results: { errors?: { message?: string }[] }[] }[] }[];
  suites?: JsonSuite[];
}

export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An error in one line: its message, and what was expected and received. */
const oneLine = (text = ''): string =>
  text
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line, index) => (index === 0 || /^(Expected|Received)\b/.test(line)) && line !== '')
    .join(' ')
    .replace(/\s+/g, ' ');

/**
 * One mock for many suite runs: the mock project's config (GREX_SUITE_MOCK)
 * points every run at it, and each run starts from the fixtures with only
 * its own faults on (POST /__admin/reset, the settings it started with, then
 * the faults). Faster than a mock per run, and the same mock a user starts.
 */
export class MutationRunner {
  private constructor(
    readonly url: string,
    private readonly mock: ChildProcess,
    private readonly settings: { firewall: unknown; fairuse: unknown },
    private readonly scratch: string,
  ) {}

  /** Starts `grex-harness mock` as the suites' config starts it (suites/support/mock-settings.json), on a free port. */
  static async start(): Promise<MutationRunner> {
    const mock = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'grex-harness.ts'), 'mock', '--port', '0', '--config', join(ROOT, 'suites', 'support', 'mock-settings.json')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((done, fail) => {
      let banner = '';
      const timer = setTimeout(() => fail(new Error(`the mock did not start in 60 s: ${banner}`)), 60_000);
      mock.stderr?.on('data', (chunk: Buffer) => (banner += chunk.toString()));
      mock.stdout?.on('data', (chunk: Buffer) => {
        banner += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(banner);
        if (match && banner.includes('Ready.')) {
          clearTimeout(timer);
          mock.stdout?.removeAllListeners('data');
          mock.stdout?.resume();
          done(match[1]);
        }
      });
      mock.once('exit', (code) => fail(new Error(`the mock exited with ${code}: ${banner}`)));
    });
    const read = async (path: string) => ((await (await fetch(`${url}${path}`)).json()) as { config: unknown }).config;
    return new MutationRunner(url, mock, { firewall: await read('/__admin/firewall'), fairuse: await read('/__admin/fairuse') }, mkdtempSync(join(tmpdir(), 'grex-mutation-')));
  }

  /**
   * Runs the mock project's suite `files` against the mock with `faults` on;
   * `firstFailure` stops at the first failed test, `title` runs only the test
   * so named.
   */
  async run(files: string[], faults: object[] = [], options: { firstFailure?: boolean; title?: string; timeoutMs?: number } = {}): Promise<SuiteRun> {
    await this.admin('POST', '/__admin/reset');
    await this.admin('DELETE', '/__admin/faults');
    await this.admin('POST', '/__admin/firewall', this.settings.firewall);
    await this.admin('POST', '/__admin/fairuse', this.settings.fairuse);
    if (faults.length > 0) await this.admin('POST', '/__admin/faults', { faults });

    const reports = mkdtempSync(join(this.scratch, 'reports-'));
    const results = join(reports, 'results.json');
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GREX_DEMO_') && !name.startsWith('GREX_BUDGET_') && name !== 'GREX_MOCK_ARGS'));
    const started = performance.now();
    const args = [join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js'), 'test', ...files, '--project', 'mock', '--reporter=line,json', ...(options.firstFailure ? ['--max-failures=1'] : []), ...(options.title ? ['--grep', escapeRegExp(options.title), '--workers=1'] : [])];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...inherited, GREX_SUITE_MOCK: this.url, GREX_SUITE_FAULTS: JSON.stringify(faults), GREX_SUITE_REPORTS: reports, PLAYWRIGHT_JSON_OUTPUT_FILE: results, CI: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    const status = await new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    clearTimeout(timer);
    const run: SuiteRun = { status, passed: 0, failed: [], output, seconds: (performance.now() - started) / 1000 };
    try {
      const report = JSON.parse(readFileSync(results, 'utf8')) as { suites: JsonSuite[] };
      const walk = (suite: JsonSuite): void => {
        for (const spec of suite.specs ?? []) {
          for (const test of spec.tests) {
            if (test.status === 'expected') run.passed++;
            else if (test.status === 'unexpected') run.failed.push({ file: spec.file, title: spec.title, error: oneLine(test.results.at(-1)?.errors?.[0]?.message) });
          }
        }
        for (const child of suite.suites ?? []) walk(child);
      };
      for (const suite of report.suites) walk(suite);
    } catch {
      // No report: the run broke before it could write one; its output says why.
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
    return run;
  }

  async stop(): Promise<void> {
    if (this.mock.exitCode === null) {
      const exited = new Promise((done) => this.mock.once('exit', done));
      this.mock.kill('SIGTERM');
      await exited;
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }

  private async admin(method: string, path: string, body?: unknown): Promise<void> {
    const reply = await fetch(`${this.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!reply.ok) throw new Error(`${method} ${path} answered ${reply.status}: ${await reply.text()}`);
  }
}

/** A suite file as the reports name it (relative to the suites folder) and as the mutation list does (from the root). */
export const fromRoot = (file: string): string => relative(ROOT, resolve(ROOT, 'suites', file));
