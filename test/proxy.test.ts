import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Exchange } from '../mock/journal.js';
import { ROOT, runCli, runCliAsync, startCliMock } from './support/cli.js';
import { assertHar12 } from './support/har.js';
import { replyOf, startTestMock, type Reply, type TestMock } from './support/mock.js';

/**
 * `grex-harness proxy` as a user runs it, in front of a second mock standing
 * in for DEMO (fair use off there, so the limits are the proxy's).
 */

interface StartedProxy {
  url: string;
  banner: string;
  /** Stops it with SIGTERM; resolves with everything it printed. */
  stop(): Promise<string>;
}

function startCliProxy(args: string[]): Promise<StartedProxy> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'grex-harness.ts'), 'proxy', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`proxy did not start in 20 s:\n${output}\n${errors}`));
    }, 20_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited with ${code}:\n${output}\n${errors}`));
    };
    child.once('exit', onExit);
    child.stdout?.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (!match || !output.includes('Ready. Press Ctrl+C to stop.')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({
        url: match[1],
        banner: output,
        stop: () =>
          new Promise<string>((done) => {
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done(output + errors);
            });
            if (child.exitCode !== null) return done(output + errors);
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

async function call(base: string, method: string, path: string, options: { token?: string; body?: string; contentType?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'proxy-test/1.0' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  return replyOf(await fetch(`${base}${path}`, { method, headers, body: options.body, signal: AbortSignal.timeout(30_000) }));
}

const journalOf = async (base: string, path: string): Promise<Exchange[]> => {
  const text = (await call(base, 'GET', path)).text.trim();
  return text ? text.split('\n').map((line) => JSON.parse(line) as Exchange) : [];
};

const ACCOUNTS = '/managementapi/AH/managementapi/Accounts?$top=3&$skip=0';
const ACCOUNT = '/managementapi/AH/managementapi/Accounts/643003000000000001';
const TECHNOLOGIES = '/masterdataapi/AH/masterdataapi/Technologies';
const AUCTIONS = '/publicreportsapi/publicreportsapi/AuctionResults?$top=2&$skip=0';
const TRANSFERS = '/transactionapi/AH/transactionapi/Transfers';
const DISCOVERY = '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/v2.0/.well-known/openid-configuration';

let standIn: TestMock;
let work: string;
before(async () => {
  standIn = await startTestMock('proxy-stand-in');
  work = mkdtempSync(join(tmpdir(), 'grex-proxy-'));
});
after(async () => {
  await standIn?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the proxy in front of a stand-in for DEMO', () => {
  let proxy: StartedProxy;
  before(async () => {
    proxy = await startCliProxy(['--target', standIn.url, '--journal-file', join(work, 'journal.ndjson'), '--drift-file', join(work, 'drift.json')]);
  });
  after(async () => {
    await standIn.admin('DELETE', '/__admin/faults');
    await proxy?.stop();
  });

  it('prints where it listens, where it forwards, and the base URIs to give the client', () => {
    assert.match(proxy.banner, new RegExp(`Forwarding to ${standIn.url}`));
    assert.match(proxy.banner, new RegExp(`BaseURIManagementAPI +${proxy.url}/managementapi`));
    assert.match(proxy.banner, new RegExp(`B2C token endpoint +${proxy.url}/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/token`));
  });

  it('forwards a request head the gateway refuses (a 20 KB URL): the client gets the target\'s 431 REQUEST_031, and the proxy journals it', async () => {
    const path = `/masterdataapi/AH/masterdataapi/Countries?$top=1&$skip=0&x=${'a'.repeat(20_000)}`;
    const reply = await call(proxy.url, 'GET', path);
    assert.equal(reply.status, 431, reply.text);
    assert.equal(reply.json.responseCode, 'REQUEST_031');
    const [last] = await journalOf(proxy.url, '/__proxy/journal?limit=1');
    assert.equal(last.response.status, 431);
    assert.equal(last.request.url.length, path.length, 'the whole URL is journaled');
    assert.match(last.response.body ?? '', /REQUEST_031/);
  });

  it('passes traffic through: a GET and a POST transfer answer as the stand-in does, and a B2C refresh works', async () => {
    const token = await standIn.token('eolien-trader');
    const direct = await call(standIn.url, 'GET', ACCOUNTS, { token });
    const proxied = await call(proxy.url, 'GET', ACCOUNTS, { token });
    assert.equal(proxied.status, 200, proxied.text);
    assert.equal(proxied.text, direct.text);

    const filter = encodeURIComponent("accountNumber eq '643003000000000005' and status eq 'Active'");
    const bundles = (await call(proxy.url, 'GET', `/privatereportsapi/AH/privatereportsapi/Certificates?$top=50&$skip=0&$filter=${filter}&$orderby=expiryDate desc`, { token })).json;
    const moved = bundles[0].startCertificateId;
    const body = JSON.stringify({ fromAccountNumber: '643003000000000005', toAccountNumber: '643006000000000002', bundles: [{ startCertificateId: moved, endCertificateId: moved }] });
    const transfer = await call(proxy.url, 'POST', TRANSFERS, { token, body });
    assert.equal(transfer.status, 201, transfer.text);
    assert.equal(transfer.json.responseCode, 'TRANSACTION_201');
    const loop = await call(proxy.url, 'POST', TRANSFERS, { token, body });
    assert.equal(loop.json.responseCode, 'TRANSACTION_025', 'the stand-in saw the first transfer');

    const refresh = (await standIn.admin('POST', '/__admin/refresh-token', { user: 'volta-trader' })).json;
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh.refresh_token, client_id: refresh.client_id, scope: refresh.scope }).toString();
    const tokens = await call(proxy.url, 'POST', refresh.token_endpoint, { body: form, contentType: 'application/x-www-form-urlencoded' });
    assert.equal(tokens.status, 200, tokens.text);
    assert.ok(tokens.json.refresh_token && tokens.json.access_token);
    const withNew = await call(proxy.url, 'GET', ACCOUNT.replace('643003000000000001', '643006000000000002'), { token: tokens.json.access_token });
    assert.equal(withNew.status, 200, withNew.text);

    const journal = await journalOf(proxy.url, '/__proxy/journal');
    const operations = journal.map((exchange) => exchange.operationId);
    for (const operationId of ['ahGetAccounts', 'ahGetCertificates', 'ahCreateTransfer', 'b2cRedeemToken', 'ahGetAccount']) assert.ok(operations.includes(operationId), `${operationId} in ${operations.join(', ')}`);
    const posted = journal.find((exchange) => exchange.operationId === 'ahCreateTransfer') as Exchange;
    assert.equal(posted.response.status, 201);
    assert.deepEqual(JSON.parse(posted.request.body ?? ''), JSON.parse(body));
    assert.ok(posted.decisions.some((decision) => decision.stage === 'validate' && decision.outcome === 'pass'));
    // A real account's secrets are not written down: claims stay readable, signatures and refresh tokens do not.
    assert.match(String(posted.request.headers.authorization), /^Bearer [\w-]+\.[\w-]+\.redacted-[0-9a-f]{12}$/);
    const redeemed = journal.find((exchange) => exchange.operationId === 'b2cRedeemToken') as Exchange;
    assert.match(new URLSearchParams(redeemed.request.body).get('refresh_token') ?? '', /^redacted-[0-9a-f]{12}$/);
    assert.match(JSON.parse(redeemed.response.body ?? '{}').refresh_token, /^redacted-[0-9a-f]{12}$/);
  });

  it('journals an invalid request as such, and forwards it all the same', async () => {
    const token = await standIn.token('eolien-trader');
    const reply = await call(proxy.url, 'GET', '/managementapi/AH/managementapi/Accounts?$top=9999', { token });
    assert.equal(reply.status, 400, reply.text);
    const last = (await journalOf(proxy.url, '/__proxy/journal?limit=1'))[0];
    assert.deepEqual(last.decisions.find((decision) => decision.stage === 'validate'), { stage: 'validate', outcome: 'reject', detail: '$top must be <= 500' });
  });

  it('reports no drift while the stand-in answers as the contracts say', async () => {
    const token = await standIn.token('eolien-trader');
    for (const path of [ACCOUNTS, ACCOUNT, `${TECHNOLOGIES}?$top=2&$skip=0`, AUCTIONS, DISCOVERY]) assert.equal((await call(proxy.url, 'GET', path, { token })).status, 200, path);
    const report = (await call(proxy.url, 'GET', '/__proxy/drift')).json;
    assert.ok(report.checked >= 10, JSON.stringify(report));
    assert.deepEqual(report.groups, []);
  });

  it('reports drift when the stand-in answers a field the contract does not have', async () => {
    const fault = await standIn.admin('POST', '/__admin/faults', { kind: 'set-field', operationId: 'ahGetAccount', field: 'notInContract', value: 1 });
    assert.equal(fault.status, 200, fault.text);
    const token = await standIn.token('eolien-trader');
    for (let i = 0; i < 2; i++) assert.equal((await call(proxy.url, 'GET', ACCOUNT, { token })).json.notInContract, 1);
    assert.equal((await call(proxy.url, 'GET', ACCOUNTS, { token })).status, 200);
    const report = (await call(proxy.url, 'GET', '/__proxy/drift')).json;
    assert.equal(report.drifted, 2);
    assert.equal(report.groups.length, 1, JSON.stringify(report.groups));
    const [group] = report.groups;
    assert.equal(group.operation, 'ahGetAccount');
    // Worded and classed as `contracts diff` words and classes the same difference in a published document.
    assert.equal(group.reason, 'response 200: notInContract is not in the contract');
    assert.equal(group.kind, 'field-added');
    assert.equal(group.impact, 'non-breaking');
    assert.equal(report.breaking, 0);
    assert.equal(group.count, 2);
    assert.equal(group.example.url, ACCOUNT);
    assert.match(group.example.body, /"notInContract":1/);
    const journal = await journalOf(proxy.url, '/__proxy/journal?limit=3');
    assert.deepEqual(journal[0].decisions.at(-1), { stage: 'response', outcome: 'error', code: 'DRIFT', detail: 'response 200: notInContract is not in the contract' });
    assert.deepEqual(journal[2].decisions.at(-1), { stage: 'response', outcome: 'pass' });
  });

  it('exports its journal as HAR 1.2 with absolute URLs, which a HAR validator we did not write accepts and the grader reads back', async () => {
    const har = (await call(proxy.url, 'GET', '/__proxy/journal?format=har')).json;
    const urls: string[] = har.log.entries.map((entry: { request: { url: string } }) => entry.request.url);
    assert.ok(urls.length > 5 && urls.every((url) => url.startsWith(`${proxy.url}/`)), urls.join('\n'));
    await assertHar12(har);
    const file = join(work, 'proxy.har');
    writeFileSync(file, JSON.stringify(har));
    const result = await runCliAsync(['grade', file, '--out', join(work, 'har-grade'), '--format', 'json']);
    assert.notEqual(result.status, 2, result.stderr);
    const report = JSON.parse(readFileSync(join(work, 'har-grade', 'report.json'), 'utf8'));
    assert.equal(report.exchanges, urls.length);
    assert.equal(report.apiRequests, urls.filter((url) => !new URL(url).pathname.includes('.onmicrosoft.com')).length);
  });

  it('answers /__admin itself with 404: DEMO has no admin API, and the stand-in is not reached', async () => {
    const before = standIn.app.journal.recorded;
    const reply = await call(proxy.url, 'POST', '/__admin/reset');
    assert.equal(reply.status, 404);
    assert.match(reply.json.error, /does not forward \/__admin/);
    assert.equal(standIn.app.journal.recorded, before);
  });

  it('writes the drift report to --drift-file, the whole journal to --journal-file, and prints a summary when stopped', async () => {
    const printed = await proxy.stop();
    assert.match(printed, /Contract drift: 2 of \d+ answers disagree with the contracts \(0 in a way that breaks a client\):\n +2 +non-breaking +ahGetAccount: response 200: notInContract is not in the contract/);
    const report = JSON.parse(readFileSync(join(work, 'drift.json'), 'utf8'));
    assert.equal(report.groups[0].operation, 'ahGetAccount');
    // The journal file has every exchange, for `grex-harness grade`.
    const recorded = Number(/(\d+) exchanges journaled/.exec(printed)?.[1]);
    const spilled = readFileSync(join(work, 'journal.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Exchange);
    assert.ok(recorded > 10);
    assert.equal(spilled.length, recorded);
    assert.deepEqual(spilled.map((exchange) => exchange.id), Array.from({ length: recorded }, (_, i) => i + 1));
  });
});

describe("grading the proxy's journal of a stand-in on another clock", () => {
  it('passes a client that refreshes in time, though the stand-in dates its tokens long before the proxy journals them', async () => {
    // The README's example runs the stand-in on its default clock (the fixtures' epoch); a date well in the past is the same case on any machine.
    const standInMock = await startCliMock(['--clock', '2025-01-01T08:00:00Z']);
    const journal = join(work, 'other-clock.ndjson');
    const proxy = await startCliProxy(['--target', standInMock.url, '--journal-file', journal]);
    try {
      const grant = (await replyOf(await fetch(`${standInMock.url}/__admin/refresh-token`, { method: 'POST', body: JSON.stringify({ user: 'eolien-trader' }) }))).json;
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refresh_token, client_id: grant.client_id, scope: grant.scope }).toString();
      const tokens = await call(proxy.url, 'POST', grant.token_endpoint, { body: form, contentType: 'application/x-www-form-urlencoded' });
      assert.equal(tokens.status, 200, tokens.text);
      for (let skip = 0; skip < 3; skip++) assert.equal((await call(proxy.url, 'GET', `/managementapi/AH/managementapi/Accounts?$top=1&$skip=${skip}`, { token: tokens.json.access_token })).status, 200);
    } finally {
      await proxy.stop();
      await standInMock.stop();
    }
    const result = await runCliAsync(['grade', journal, '--out', join(work, 'other-clock'), '--format', 'json']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const rule = JSON.parse(readFileSync(join(work, 'other-clock', 'report.json'), 'utf8')).rules.find((candidate: { rule: string }) => candidate.rule === 'expired-token-reuse');
    assert.deepEqual({ passed: rule.passed, checked: rule.checked }, { passed: true, checked: 3 });
  });
});

describe('the proxy holds back a client that would exceed fair use', () => {
  /** When the stand-in received each call to `path` (its clock runs with wall time). */
  const arrivals = (marker: string): number[] =>
    standIn.app.journal
      .entries()
      .filter((exchange) => exchange.request.url.includes(marker))
      .map((exchange) => Date.parse(exchange.startedAt))
      .sort((a, b) => a - b);

  it('delays calls past 5 per 2 s: all 12 answered 200, never more than 5 in any 2 s at the stand-in, the waits journaled', async () => {
    const proxy = await startCliProxy(['--target', standIn.url, '--limits', '[{"requests":5,"windowSeconds":2}]', '--max-wait', '30']);
    try {
      const token = await standIn.token('eolien-root');
      const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => call(proxy.url, 'GET', `${TECHNOLOGIES}?$top=1&$skip=${i}&burst=a`, { token })));
      assert.deepEqual(
        replies.map((reply) => reply.status),
        Array(12).fill(200),
      );
      const times = arrivals('burst=a');
      assert.equal(times.length, 12);
      for (let i = 0; i + 5 < times.length; i++) assert.ok(times[i + 5] - times[i] >= 2000, `calls ${i} and ${i + 5} arrived ${times[i + 5] - times[i]} ms apart`);
      const waits = (await journalOf(proxy.url, '/__proxy/journal'))
        .map((exchange) => exchange.decisions.find((decision) => decision.stage === 'fairuse')?.detail ?? '')
        .map((detail) => Number(/held back (\d+) ms/.exec(detail)?.[1]));
      assert.equal(waits.length, 12);
      assert.equal(waits.filter((ms) => ms === 0).length, 5);
      assert.equal(waits.filter((ms) => ms >= 2000).length, 7, waits.join(', '));
    } finally {
      await proxy.stop();
    }
  });

  it('without hold-back (--fair-use off) the same burst reaches the stand-in at once, which the check above refuses', async () => {
    const proxy = await startCliProxy(['--target', standIn.url, '--fair-use', 'off']);
    try {
      const token = await standIn.token('eolien-root');
      const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => call(proxy.url, 'GET', `${TECHNOLOGIES}?$top=1&$skip=${i}&burst=open`, { token })));
      assert.ok(replies.every((reply) => reply.status === 200));
      const times = arrivals('burst=open');
      assert.ok(times[5] - times[0] < 2000, 'six calls within 2 s');
    } finally {
      await proxy.stop();
    }
  });

  it('past the maximum wait answers 429 itself, with Retry-After, and never forwards; B2C is not counted', async () => {
    const proxy = await startCliProxy(['--target', standIn.url, '--limits', '[{"requests":5,"windowSeconds":60}]', '--max-wait', '0.5']);
    try {
      const token = await standIn.token('eolien-root');
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => call(proxy.url, 'GET', `${TECHNOLOGIES}?$top=1&$skip=${i}&burst=b`, { token })));
      const held = replies.filter((reply) => reply.status === 429);
      assert.equal(replies.filter((reply) => reply.status === 200).length, 5);
      assert.equal(held.length, 3);
      for (const reply of held) {
        assert.equal(reply.headers.get('x-grex-proxy'), 'held');
        assert.ok(Number(reply.headers.get('retry-after')) >= 59, String(reply.headers.get('retry-after')));
        assert.match(reply.json.responseMessage, /Held back by grex-harness proxy/);
      }
      assert.equal(arrivals('burst=b').length, 5);
      // Another account holder has its own budget; B2C is Microsoft's, outside G-REX's fair use.
      assert.equal((await call(proxy.url, 'GET', `${TECHNOLOGIES}?$top=1&burst=c`, { token: await standIn.token('volta-trader') })).status, 200);
      assert.equal((await call(proxy.url, 'GET', DISCOVERY)).status, 200);
      const journal = await journalOf(proxy.url, '/__proxy/journal');
      const refused = journal.filter((exchange) => exchange.decisions.some((decision) => decision.stage === 'fairuse' && decision.outcome === 'reject'));
      assert.equal(refused.length, 3);
      assert.ok(refused.every((exchange) => exchange.response.status === 429 && !exchange.decisions.some((decision) => decision.stage === 'response')));
    } finally {
      await proxy.stop();
    }
  });
});

describe('the proxy when the target fails, and with bad flags', () => {
  it('answers 502 with a clear message when the target cannot be reached, and journals it', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const proxy = await startCliProxy(['--target', `http://127.0.0.1:${port}`]);
    try {
      const reply = await call(proxy.url, 'GET', AUCTIONS);
      assert.equal(reply.status, 502);
      assert.equal(reply.json.error, 'upstream_unreachable');
      assert.match(reply.json.message, new RegExp(`127.0.0.1:${port} could not be reached`));
      const [exchange] = await journalOf(proxy.url, '/__proxy/journal');
      assert.equal(exchange.response.status, 502);
      assert.equal(exchange.decisions.at(-1)?.code, 'UPSTREAM_UNREACHABLE');
      const report = (await call(proxy.url, 'GET', '/__proxy/drift')).json;
      assert.equal(report.checked, 0, 'the proxy own answer is not drift');
    } finally {
      await proxy.stop();
    }
  });

  it('answers 504 when the target does not answer in --timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const proxy = await startCliProxy(['--target', `http://127.0.0.1:${(silent.address() as { port: number }).port}`, '--timeout', '0.5']);
    try {
      const reply = await call(proxy.url, 'GET', AUCTIONS);
      assert.equal(reply.status, 504);
      assert.equal(reply.json.error, 'upstream_timeout');
      const [exchange] = await journalOf(proxy.url, '/__proxy/journal');
      assert.equal(exchange.decisions.at(-1)?.code, 'UPSTREAM_TIMEOUT');
    } finally {
      await proxy.stop();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses bad flags with exit 2 and one line', () => {
    const cases: [string[], RegExp][] = [
      [['proxy'], /--target is required/],
      [['proxy', '--target', 'ftp://example.com'], /--target must be demo, prod or an http\(s\) URL/],
      [['proxy', '--target', 'demo', '--port', 'x'], /--port must be an integer/],
      [['proxy', '--target', 'demo', '--limits', '[{"requests":0,"windowSeconds":60}]'], /--limits must be a JSON array/],
      [['proxy', '--target', 'demo', '--limits', '{'], /--limits is not JSON/],
      [['proxy', '--target', 'demo', '--fair-use', 'maybe'], /--fair-use must be on or off/],
      [['proxy', '--target', 'demo', '--nope'], /Unknown option '--nope'/],
    ];
    for (const [args, message] of cases) {
      const result = runCli(args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /^grex-harness proxy: /);
    }
  });
});
