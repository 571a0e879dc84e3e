import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, runCli, startCliMock } from './support/cli.js';
import { startTestMock } from './support/mock.js';
import { spawn } from 'node:child_process';

/**
 * The command line as a user meets it: `--version`, each command's `--help`,
 * strict flags (an unknown flag or a bad value is one line and exit 2), the
 * JSON log, and a clean stop on SIGTERM with the journal file complete.
 */
const COMMANDS = ['mock', 'codes', 'postman', 'proxy', 'certify', 'grade'];
const work = mkdtempSync(join(tmpdir(), 'grex-cli-'));
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** One line on stderr, exit 2, nothing on stdout. */
function refused(args: string[], message: RegExp, env?: NodeJS.ProcessEnv): void {
  const result = runCli(args, { env });
  assert.equal(result.status, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  assert.match(result.stderr.replace(/\n$/, ''), message, args.join(' '));
  assert.equal(result.stdout, '');
}

describe('grex-harness --version and --help', () => {
  it('prints the version of package.json', () => {
    const result = runCli(['--version']);
    assert.equal(result.status, 0);
    assert.equal(result.stdout, `${version}\n`);
  });

  for (const name of COMMANDS) {
    it(`${name} --help lists its flags and exit codes`, () => {
      const result = runCli([name, '--help']);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: grex-harness ${name} `));
      const flags = [...result.stdout.matchAll(/^ {2}--([a-z-]+)/gm)].map((match) => match[1]);
      assert.ok(flags.includes('help') && flags.length >= 2, flags.join(' '));
      const exits = result.stdout.slice(result.stdout.indexOf('Exit codes:'));
      assert.match(exits, /^ {2}0 {2}\S/m);
      assert.match(exits, /^ {2}2 {2}usage error/m);
      // `grex-harness help <command>` is the same text.
      assert.equal(runCli(['help', name]).stdout, result.stdout);
    });
  }

  it('lists every command with its flags in grex-harness help', () => {
    const result = runCli(['help']);
    assert.equal(result.status, 0);
    for (const name of COMMANDS) assert.match(result.stdout, new RegExp(`^  ${name}\\s`, 'm'));
    assert.match(result.stdout, /--journal-file F/);
    assert.match(result.stdout, /--version/);
  });
});

describe('strict flags: one clear line and exit 2', () => {
  for (const name of COMMANDS) {
    it(`${name} refuses an unknown flag with one line and exit 2`, () => {
      refused([name, '--frobnicate', 'x'], new RegExp(`^grex-harness ${name}: Unknown option '--frobnicate'; grex-harness ${name} --help lists the flags$`));
    });
  }

  it('suggests the flag meant', () => {
    refused(['mock', '--jornal-file', 'x.ndjson'], /Unknown option '--jornal-file' \(did you mean --journal-file\?\)/);
    refused(['certify', '--timout', '5', '--', 'true'], /did you mean --timeout\?/);
  });

  it('refuses bad values, naming the flag and what it got', () => {
    refused(['mock', '--port', 'abc'], /^grex-harness mock: --port must be an integer from 0 to 65535, got "abc"$/);
    refused(['mock', '--profile', 'nope'], /^grex-harness mock: --profile must be default or large, got "nope"$/);
    refused(['mock', '--log', 'xml'], /--log must be text or json, got "xml"/);
    refused(['mock', '--journal-size', '1.5'], /--journal-size must be an integer/);
    // What Number() would read as another number: hexadecimal, an exponent, an empty value.
    refused(['mock', '--port', '0x10'], /^grex-harness mock: --port must be an integer from 0 to 65535, got "0x10"$/);
    refused(['mock', '--port', '1e3'], /--port must be an integer from 0 to 65535, got "1e3"/);
    refused(['mock', '--port='], /--port must be an integer from 0 to 65535, got ""/);
    refused(['certify', '--timeout', '0x10', '--', 'true'], /--timeout must be a number of seconds from 1 to 86400, got "0x10"/);
    refused(['mock'], /^grex-harness mock: PORT \(for --port\) must be an integer from 0 to 65535, got "http"$/, { PORT: 'http' });
    refused(['mock', '--port'], /Option '--port <value>' argument missing/);
    refused(['mock', '--port', '-1'], /^grex-harness mock: --port has no value before "-1" \(a value that starts with a dash is written --port=-1\)$/);
    refused(['mock', '--port=-1'], /--port must be an integer from 0 to 65535, got "-1"/);
    refused(['mock', '--tls=yes'], /Option '--tls' does not take an argument/);
    refused(['mock', 'extra'], /Unexpected argument 'extra'/);
    refused(['proxy', '--target', 'demo', '--port', 'abc'], /^grex-harness proxy: --port must be an integer/);
    refused(['proxy', '--target', 'demo', '--max-wait=-3'], /--max-wait must be a number of seconds from 0 to 86400/);
    refused(['codes', '--format', 'xml'], /^grex-harness codes: --format must be table, markdown, csv or json, got "xml"$/);
    refused(['grade', 'a.ndjson', '--format', 'pdf'], /--format must be "all"/);
    refused(['certify', '--timeout', '0', '--', 'true'], /--timeout must be a number of seconds from 1 to 86400, got "0"/);
  });

  it('postman refuses a mock address no client could use, and writes nothing', () => {
    const out = join(work, 'postman-refused');
    for (const url of ['http://127.0.0.1:99999', 'http://127.0.0.1:4600 x', 'http://127.0.0.1:4600?x=1', 'http://user:pw@127.0.0.1:4600', 'http://']) {
      refused(['postman', '--out', out, '--base-url', url], new RegExp(`^grex-harness postman: --base-url must be an origin such as http://127\\.0\\.0\\.1:4600, got "${url.replace(/[.?*+]/g, '\\$&')}"$`));
    }
    refused(['postman', '--out', out], /^grex-harness postman: PORT \(the mock's port when --base-url is absent\) must be an integer from 1 to 65535, got "abc"$/, { PORT: 'abc' });
    refused(['postman', '--out', out], /PORT .* got "70000"$/, { PORT: '70000' });
    assert.ok(!existsSync(out), 'nothing written');
  });

  it('refuses an unknown command with one line', () => {
    refused(['frobnicate'], /^grex-harness: unknown command "frobnicate"; grex-harness help lists the commands/);
  });
});

/** Parses every line of a JSON log; fails on a line that is not one JSON object. */
function jsonLines(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parsed = JSON.parse(line) as unknown;
      assert.equal(typeof parsed, 'object', line);
      return parsed as Record<string, any>;
    });
}

describe('grex-harness mock --log json, and a clean stop', () => {
  it('logs start, each exchange with the stage that refused it, and shutdown with refusals by stage; the banner goes to stderr', async () => {
    const mock = await startCliMock(['--log', 'json']);
    assert.match(mock.banner, /Contracts: release \d+\.\d+\.\d+/);
    const accounts = `${mock.url}/managementapi/AH/managementapi/Accounts?$top=1&$skip=0`;
    const token = ((await (await fetch(`${mock.url}/__admin/token`, { method: 'POST', body: '{"user":"eolien-trader"}' })).json()) as { access_token: string }).access_token;
    assert.equal((await fetch(accounts, { headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'cli-test' } })).status, 200);
    assert.equal((await fetch(accounts, { headers: { accept: 'application/json', 'user-agent': 'cli-test' } })).status, 401);
    assert.equal((await fetch(`${accounts}&next=https://elsewhere.example`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'cli-test' } })).status, 403);
    assert.equal(await mock.stop(), 0);
    const lines = jsonLines(mock.stdout());
    assert.deepEqual(
      lines.map((line) => line.event),
      ['start', 'exchange', 'exchange', 'exchange', 'shutdown'],
    );
    const [start, ok, unauthorised, firewalled, shutdown] = lines;
    assert.equal(start.version, version);
    assert.equal(start.url, mock.url);
    assert.equal(start.baseUris.BaseURIManagementAPI, `${mock.url}/managementapi`);
    assert.deepEqual([ok.status, ok.operationId, ok.user, ok.refused], [200, 'ahGetAccounts', 'eolien-trader', undefined]);
    assert.deepEqual([unauthorised.status, unauthorised.refused.stage, unauthorised.refused.code], [401, 'auth', 'AUTH_001']);
    assert.deepEqual([firewalled.status, firewalled.refused.stage, firewalled.refused.code], [403, 'firewall', 'url-scheme']);
    assert.equal(shutdown.signal, 'SIGTERM');
    assert.equal(shutdown.exchanges, 3);
    assert.deepEqual(shutdown.refusals, { auth: 1, firewall: 1 });
    for (const line of lines) assert.ok(!Number.isNaN(Date.parse(line.time)), 'each line has its time');
  });

  it('on SIGTERM, finishes the answers under way and flushes the journal file (in-flight writes were cut and lost before)', async () => {
    const journal = join(work, 'stop.ndjson');
    // Writes wait 1.5 s before they are handled: SIGTERM arrives while all of them are under way.
    const mock = await startCliMock(['--journal-file', journal, '--write-latency', '1500']);
    const token = ((await (await fetch(`${mock.url}/__admin/token`, { method: 'POST', body: '{"user":"eolien-trader"}' })).json()) as { access_token: string }).access_token;
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'cli-test', 'content-type': 'application/json' };
    const writes = Array.from({ length: 5 }, (_, i) =>
      fetch(`${mock.url}/transactionapi/AH/transactionapi/Transfers`, { method: 'POST', headers, body: JSON.stringify({ fromAccountNumber: `bad-${i}` }) }).then(
        (response) => response.status,
        (error: Error) => error.message,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exit = mock.stop();
    assert.deepEqual(await Promise.all(writes), [400, 400, 400, 400, 400], 'every write sent before SIGTERM is answered');
    assert.equal(await exit, 0);
    const lines = readFileSync(journal, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'the file ends with a whole line');
    const exchanges = lines.map((line) => JSON.parse(line) as { request: { body: string }; response: { status: number } });
    assert.equal(exchanges.length, 5);
    assert.deepEqual(exchanges.map((exchange) => exchange.response.status), [400, 400, 400, 400, 400]);
    assert.deepEqual(exchanges.map((exchange) => JSON.parse(exchange.request.body).fromAccountNumber).sort(), ['bad-0', 'bad-1', 'bad-2', 'bad-3', 'bad-4']);
  });
});

describe('grex-harness proxy --log json', () => {
  const standIn = startTestMock('cli-proxy-stand-in');
  after(async () => (await standIn).close());

  it('logs start, the exchanges and shutdown with the drift totals, one JSON object a line', async () => {
    const target = await standIn;
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'grex-harness.ts'), 'proxy', '--port', '0', '--target', target.url, '--log', 'json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on (http:\/\/\S+)[\s\S]*Ready\./.exec(stderr);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`proxy exited with ${code}: ${stderr}`)));
    });
    const reply = await fetch(`${url}/masterdataapi/AH/masterdataapi/EnergySources?$top=1&$skip=0`, { headers: { accept: 'application/json', 'user-agent': 'cli-test' } });
    assert.equal(reply.status, 401);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const lines = jsonLines(stdout);
    assert.deepEqual(
      lines.map((line) => line.event),
      ['start', 'exchange', 'shutdown'],
    );
    assert.equal(lines[1].status, 401);
    assert.deepEqual(lines[2].drift, { checked: 1, drifted: 0 });
    assert.equal(lines[2].exchanges, 1);
  });
});
