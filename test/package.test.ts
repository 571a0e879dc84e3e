import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { freePort } from './support/ports.js';
import { ROOT } from './support/cli.js';

/**
 * grex-harness as integrators get it, without a clone: `npm pack` (which
 * builds dist/), then the GitHub Action's own steps (action.yml) install the
 * tarball with `npm install --global --omit=dev` into a temporary prefix and
 * certify the reference client, compiled, run by plain node. From that prefix,
 * with only Node on PATH and outside the checkout (nothing of its
 * node_modules, tsx or TypeScript reachable): --version, every command's
 * --help, and the container's command and health check (Dockerfile), which
 * start `grex-harness mock`.
 *
 * The install fetches the runtime dependencies from npm's cache (filled by
 * `npm ci`; --prefer-offline) or the registry: bounded by INSTALL_TIMEOUT_MS.
 */
const PACK_TIMEOUT_MS = 600_000;
const INSTALL_TIMEOUT_MS = 300_000;
const work = mkdtempSync(join(tmpdir(), 'grex-package-'));
const prefix = join(work, 'prefix');
const elsewhere = join(work, 'elsewhere');
mkdirSync(elsewhere);
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const installed = join(prefix, 'lib', 'node_modules', 'grex-harness');
/**
 * npm's own settings, as the npm running these tests resolved them. Setting
 * npm_config_prefix also moves the global npmrc (PREFIX/etc/npmrc), which on
 * some machines holds the cafile of the proxy in front of the registry:
 * without it, an install that has to reach the registry (a cache that lacks a
 * packument, as on a fresh CI machine) waits on TLS until it is killed. So the
 * global and user npmrc, the cache, the CA and the proxies are passed as set.
 */
function npmSettings(): NodeJS.ProcessEnv {
  const keys = ['cache', 'cafile', 'globalconfig', 'userconfig', 'registry', 'proxy', 'https-proxy', 'noproxy', 'strict-ssl'];
  const variable = (key: string): string => `npm_config_${key.replaceAll('-', '_')}`;
  let resolved: Record<string, unknown> = {};
  if (keys.slice(0, 4).some((key) => process.env[variable(key)] === undefined)) {
    const listed = spawnSync('npm', ['config', 'list', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    if (listed.status === 0) resolved = JSON.parse(listed.stdout) as Record<string, unknown>;
  }
  const settings: NodeJS.ProcessEnv = {};
  for (const key of keys) {
    const value = process.env[variable(key)] ?? resolved[key];
    if (value !== undefined && value !== null && value !== '') settings[variable(key)] = String(value);
  }
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE']) {
    if (process.env[name]) settings[name] = process.env[name];
  }
  return settings;
}

/** What a machine with only Node 20 has: node and npm (with its settings), the system's tools, and what was installed into the prefix. */
const env: NodeJS.ProcessEnv = {
  ...npmSettings(),
  PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
  HOME: process.env.HOME,
  GREX_HARNESS_CACHE: join(work, 'cache'),
  npm_config_prefix: prefix,
  npm_config_prefer_offline: 'true',
  npm_config_update_notifier: 'false',
};
const timings: Record<string, number> = {};
let tarball = '';

function timed<T>(name: string, run: () => T): T {
  const started = performance.now();
  try {
    return run();
  } finally {
    timings[name] = (performance.now() - started) / 1000;
  }
}

before(() => {
  const packed = timed('npm pack (with the build)', () =>
    spawnSync('npm', ['pack', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', timeout: PACK_TIMEOUT_MS, env: { ...process.env, npm_config_update_notifier: 'false' } }),
  );
  assert.equal(packed.status, 0, `npm pack failed:\n${packed.stdout}\n${packed.stderr}`);
  tarball = join(work, readdirSync(work).find((file) => file.endsWith('.tgz')) ?? 'none');
  assert.ok(existsSync(tarball), `no tarball in ${work}`);
});

after(() => {
  process.stdout.write(`package test timings: ${Object.entries(timings).map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`).join(', ')}\n`);
  rmSync(work, { recursive: true, force: true });
});

interface StepResult {
  status: number | null;
  output: string;
}

/**
 * Runs the `run:` steps of action.yml as GitHub's runner does (bash -eo
 * pipefail, the step's env and working-directory, GITHUB_OUTPUT), with
 * `${{ inputs.* }}`, `${{ github.action_path }}` and `${{ steps.*.outputs.* }}`
 * substituted. `uses:` steps are GitHub's own actions: their `with` is
 * returned, resolved, for the test to check.
 */
function runAction(inputs: Record<string, string>, only?: string[]): { steps: Record<string, StepResult>; outputs: Record<string, Record<string, string>>; uses: { uses: string; with: Record<string, string> }[]; summary: string } {
  const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string; required?: boolean }>;
    runs: { using: string; steps: { id?: string; name?: string; if?: string; uses?: string; run?: string; shell?: string; env?: Record<string, string>; with?: Record<string, string>; 'working-directory'?: string }[] };
  };
  assert.equal(action.runs.using, 'composite');
  for (const name of Object.keys(inputs)) assert.ok(name in action.inputs, `action.yml has no input ${name}`);
  for (const [name, input] of Object.entries(action.inputs)) if (input.required) assert.ok(name in inputs, `input ${name} is required`);
  const runnerTemp = mkdtempSync(join(work, 'runner-'));
  const summary = join(runnerTemp, 'step-summary.md');
  writeFileSync(summary, '');
  const outputs: Record<string, Record<string, string>> = {};
  const evaluate = (text: string): string =>
    text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
      const input = /^inputs\.([\w-]+)$/.exec(expression);
      if (input) return inputs[input[1]] ?? action.inputs[input[1]]?.default ?? '';
      if (expression === 'github.action_path') return ROOT;
      const output = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expression);
      if (output) return outputs[output[1]]?.[output[2]] ?? '';
      throw new Error(`action.yml: this test does not evaluate \${{ ${expression} }}`);
    });
  const steps: Record<string, StepResult> = {};
  const uses: { uses: string; with: Record<string, string> }[] = [];
  for (const step of action.runs.steps) {
    if (step.uses) {
      uses.push({ uses: step.uses, with: Object.fromEntries(Object.entries(step.with ?? {}).map(([key, value]) => [key, evaluate(String(value))])) });
      continue;
    }
    const name = step.id ?? step.name ?? '?';
    if (only && !only.includes(name)) continue;
    assert.equal(step.shell, 'bash', `${name}: a composite run step names its shell`);
    assert.equal(step.if, undefined, `${name}: this test runs every run step`);
    const file = join(runnerTemp, `${name}.sh`);
    writeFileSync(file, evaluate(step.run ?? ''));
    const outputFile = join(runnerTemp, `${name}.output`);
    writeFileSync(outputFile, '');
    const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      cwd: step['working-directory'] ? join(elsewhere, evaluate(step['working-directory'])) : elsewhere,
      env: { ...env, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([key, value]) => [key, evaluate(String(value))])), RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summary, GITHUB_ACTION_PATH: ROOT },
      encoding: 'utf8',
      timeout: INSTALL_TIMEOUT_MS,
    });
    const killed = result.status === null ? `\n(${name}: killed by ${result.signal ?? 'a signal'}${result.error ? `: ${result.error.message}` : ''}, after at most ${INSTALL_TIMEOUT_MS / 1000} s)` : '';
    steps[name] = { status: result.status, output: `${result.stdout}${result.stderr}${killed}` };
    outputs[name] = Object.fromEntries(
      readFileSync(outputFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    if (result.status !== 0) break;
  }
  return { steps, outputs, uses, summary: readFileSync(summary, 'utf8') };
}

/** The tool from the prefix, outside the checkout. */
function tool(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('grex-harness', args, { cwd: elsewhere, env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the packed tool, installed as integrators install it', () => {
  it('the action installs it without development dependencies and certifies the reference client, compiled, run by plain node (exit 0)', () => {
    const reference = join(installed, 'dist', 'fixtures', 'clients', 'reference.js');
    const run = timed('the action: npm install --global --omit=dev of the tarball, then certify', () => runAction({ command: `node ${reference}`, package: tarball, 'node-version': '' }));
    assert.equal(run.steps.install?.status, 0, run.steps.install?.output);
    assert.match(run.steps.install.output, new RegExp(`grex-harness ${version.replaceAll('.', '\\.')} installed in `));
    const dependencies = readdirSync(join(installed, 'node_modules'));
    for (const dev of ['typescript', 'tsx', '@playwright', 'openapi-to-postmanv2', '@stoplight', 'newman']) assert.ok(!dependencies.includes(dev), `${dev} is installed: ${dependencies.join(' ')}`);
    assert.ok(!existsSync(join(installed, 'cli')) && !existsSync(join(installed, 'test')), 'the package holds dist/, not the sources');

    assert.equal(run.steps.certify?.status, 0, run.steps.certify?.output);
    assert.equal(run.outputs.certify['exit-code'], '0', run.steps.certify.output);
    assert.match(run.summary, /PASS {2}required-headers/);
    const upload = run.uses.find((step) => step.uses.startsWith('actions/upload-artifact@'));
    assert.ok(upload, 'the action uploads its reports');
    const uploaded = upload.with.path.split('\n').filter(Boolean);
    for (const report of ['junit.xml', 'report.html']) {
      const file = uploaded.find((path) => path.endsWith(`/${report}`)) ?? '';
      assert.ok(existsSync(file), `${report} is uploaded from ${file}, which exists`);
    }
    assert.match(readFileSync(uploaded.find((path) => path.endsWith('/junit.xml')) ?? '', 'utf8'), /<testsuite[^>]* failures="0"/);
    assert.equal(run.steps.Verdict?.status, 0);
  });

  it('the action fails the job with certify\'s exit code when the client fails (3: exited non-zero)', () => {
    // The command is run by bash, as its input says (a bash-only test, then the client): /bin/sh on Ubuntu is dash, which has no [[.
    const run = runAction({ command: `[[ -n $RefreshToken ]] && node -e "console.log('the client ran'); process.exit(4)"`, 'node-version': '' }, ['certify', 'Verdict']);
    assert.equal(run.outputs.certify['exit-code'], '3', run.steps.certify?.output);
    assert.match(readFileSync(join(run.outputs.certify['report-dir'], 'client.log'), 'utf8'), /^the client ran$/m, 'the command ran under bash');
    assert.equal(run.steps.Verdict.status, 3, run.steps.Verdict.output);
  });

  it('the install leaves out better-sqlite3 (an optional peer, for mock --state only): --state then says how to get it, one line, exit 2, no file left', () => {
    assert.ok(!existsSync(join(installed, 'node_modules', 'better-sqlite3')) && !existsSync(join(prefix, 'lib', 'node_modules', 'better-sqlite3')), 'better-sqlite3 is not installed');
    const file = join(work, 'state.db');
    const result = tool(['mock', '--port', '0', '--state', file]);
    assert.equal(result.status, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /^grex-harness mock: --state needs better-sqlite3 12, an optional peer dependency that is not installed or not built here \(.*npm install --global --allow-scripts=better-sqlite3 better-sqlite3@12/);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
    assert.ok(!existsSync(file), 'no state file is left behind');
  });

  it('grex-harness --version prints the release, which the packed CHANGELOG.md describes', () => {
    const result = tool(['--version']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${version}\n`);
    assert.match(readFileSync(join(installed, 'CHANGELOG.md'), 'utf8'), new RegExp(`^## \\[${version.replaceAll('.', '\\.')}\\]`, 'm'));
  });

  it('every command answers --help with its flags and exit codes', () => {
    for (const command of ['mock', 'certify', 'grade', 'proxy', 'postman', 'codes', 'contracts pull', 'contracts diff', 'snapshot save', 'snapshot load']) {
      const result = tool([...command.split(' '), '--help']);
      assert.equal(result.status, 0, `${command}: ${result.stderr}`);
      assert.match(result.stdout, /Options:\n {2}--/, command);
      assert.match(result.stdout, /Exit codes:\n {2}0 /, command);
    }
    assert.equal(tool(['mock', '--port', 'abc']).status, 2);
  });

  it('the container\'s command (Dockerfile CMD, its ENV) runs grex-harness mock, which answers /__admin/health and the HEALTHCHECK', async () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(runtime, /^\nFROM node:20[\w.-]*-slim\n/, 'the runtime stage is Node 20 slim');
    assert.match(runtime, /npm install --global --omit=dev [^\n]*grex-harness\.tgz/, 'it installs the packed tool as the action does');
    const command = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)?.[1] ?? 'null') as string[];
    const health = JSON.parse(/^HEALTHCHECK [^\n]*CMD (\[.*\])$/m.exec(runtime)?.[1] ?? 'null') as string[];
    const containerEnv = Object.fromEntries([...runtime.matchAll(/^ENV (.+)$/gm)].flatMap((line) => line[1].split(/\s+/).map((pair) => pair.split('=') as [string, string])));
    assert.deepEqual([containerEnv.PORT, containerEnv.GREX_HOST], ['4600', '0.0.0.0'], 'it listens on 0.0.0.0:4600');
    // As `docker run -e PORT=... -e GREX_HOST=127.0.0.1` would: a free port, and this shared machine's loopback.
    const port = await freePort();
    const runEnv = { ...env, ...containerEnv, PORT: String(port), GREX_HOST: '127.0.0.1' };
    const started = performance.now();
    const child = spawn(command[0], command.slice(1), { cwd: elsewhere, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!output.includes('Ready.') && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100));
      timings['container command to Ready'] = (performance.now() - started) / 1000;
      assert.match(output, new RegExp(`listening on http://127\\.0\\.0\\.1:${port} `), output);
      const reply = await fetch(`http://127.0.0.1:${port}/__admin/health`);
      assert.equal(reply.status, 200);
      assert.equal(((await reply.json()) as { status: string }).status, 'ok');
      const swagger = (await (await fetch(`http://127.0.0.1:${port}/managementapi/v2/swagger.json`)).json()) as { info: { version: string } };
      assert.equal(swagger.info.version, version, 'swagger.json says the release');
      const check = spawnSync(health[0], health.slice(1), { cwd: elsewhere, env: runEnv, encoding: 'utf8', timeout: 10_000 });
      assert.equal(check.status, 0, `HEALTHCHECK: ${check.stdout}${check.stderr}`);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'docker stop (SIGTERM) stops it cleanly');
    }
    const unhealthy = spawnSync(health[0], health.slice(1), { cwd: elsewhere, env: runEnv, encoding: 'utf8', timeout: 10_000 });
    assert.equal(unhealthy.status, 1, 'the HEALTHCHECK fails when the mock is down');
  });
});
