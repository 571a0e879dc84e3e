import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Exchange } from '../mock/journal.js';
import { runCliAsync } from './support/cli.js';
import { startTestMock, type TestMock } from './support/mock.js';

/**
 * A request head (request line and headers) over the gateway's limit never
 * reaches the mock's pipeline: Node's parser refuses it first. It must still
 * get the gateway's documented answer (431 REQUEST_031, common.yaml), be
 * journaled for the grader, and leave the mock's memory and the connection
 * in order. Sent over raw sockets, as a client that writes its own head.
 */
let mock: TestMock;
let work: string;
before(async () => {
  mock = await startTestMock('mock-head-limit');
  work = mkdtempSync(join(tmpdir(), 'grex-head-'));
});
after(async () => {
  await mock?.close();
  rmSync(work, { recursive: true, force: true });
});

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The socket's error, if it ended with one rather than the server's close. */
  error?: string;
  /** Milliseconds from the first byte written to the socket's close. */
  closedAfterMs: number;
}

/**
 * Writes `parts` to the mock on one connection, `gapMs` apart (a part
 * written after the server closed is dropped), and reads until the server
 * closes the connection. A `stubborn` client goes on sending after the
 * server has ended its side.
 */
function rawExchange(parts: string[], gapMs = 0, stubborn = false): Promise<RawReply> {
  const { hostname, port } = new URL(mock.url);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: stubborn });
    const received: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (failure: NodeJS.ErrnoException) => (error ??= failure.code ?? failure.message));
    socket.on('close', () => {
      const text = Buffer.concat(received).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const lines = text.slice(0, split < 0 ? text.length : split).split('\r\n');
      const headers = Object.fromEntries(lines.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1] ?? 0), headers, body: split < 0 ? '' : text.slice(split + 4), error, closedAfterMs: performance.now() - started });
    });
    void (async () => {
      for (const part of parts) {
        if (socket.destroyed || !socket.writable) return;
        socket.write(part);
        if (gapMs) await new Promise((wait) => setTimeout(wait, gapMs));
      }
    })();
  });
}

const PAGE = '/managementapi/AH/managementapi/Accounts?$top=1&$skip=0';
const HEADERS = 'Host: 127.0.0.1\r\nAccept: application/json\r\nUser-Agent: head-test/1.0\r\n';
const lastJournaled = async (): Promise<Exchange> => JSON.parse((await mock.admin('GET', '/__admin/journal?limit=1')).text) as Exchange;

/** The gateway's answer: 431 with the envelope, JSON, and the connection closed by the server after it, whole. */
function assertRefused(reply: RawReply): void {
  assert.equal(reply.status, 431, JSON.stringify(reply));
  assert.match(reply.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(reply.headers.connection, 'close');
  assert.equal(Buffer.byteLength(reply.body), Number(reply.headers['content-length']));
  const envelope = JSON.parse(reply.body);
  assert.deepEqual(envelope, { statusCode: 431, responseCode: 'REQUEST_031', responseMessage: envelope.responseMessage });
  assert.match(envelope.responseMessage, /16384 bytes/);
}

describe('a request head over the gateway limit (16 KiB)', () => {
  it('a 20 KB URL answers 431 REQUEST_031 as JSON, journaled with its method, URL and headers', async () => {
    const url = `${PAGE}&$filter=${'a'.repeat(20_000)}`;
    const reply = await rawExchange([`GET ${url} HTTP/1.1\r\n${HEADERS}\r\n`]);
    assertRefused(reply);
    assert.equal(reply.error, undefined, 'closed by the server after its answer, not reset');
    const exchange = await lastJournaled();
    assert.equal(exchange.request.method, 'GET');
    assert.equal(exchange.request.url, url);
    assert.deepEqual(exchange.request.headers, { host: '127.0.0.1', accept: 'application/json', 'user-agent': 'head-test/1.0' });
    assert.equal(exchange.response.status, 431);
    assert.equal(JSON.parse(exchange.response.body ?? '').responseCode, 'REQUEST_031');
    assert.deepEqual(exchange.decisions.map((decision) => [decision.stage, decision.outcome, decision.code]), [['validate', 'reject', 'REQUEST_031']]);
    assert.match(exchange.decisions[0].detail ?? '', /over 16384 bytes/);
    assert.equal(exchange.client, '127.0.0.1');
  });

  it('10,000 headers answer the same; the journal keeps the first 100 header lines and counts the rest', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `X-Extra-${i}: ${i}\r\n`).join('');
    const reply = await rawExchange([`POST /transactionapi/AH/transactionapi/Transfers HTTP/1.1\r\n${HEADERS}${many}\r\n`]);
    assertRefused(reply);
    const exchange = await lastJournaled();
    assert.equal(exchange.request.method, 'POST');
    assert.equal(exchange.request.url, '/transactionapi/AH/transactionapi/Transfers');
    assert.equal(Object.keys(exchange.request.headers).length, 100);
    assert.equal(exchange.request.headers['user-agent'], 'head-test/1.0');
    assert.match(exchange.decisions[0].detail ?? '', /the first 100 of \d{4,} header lines/);
  });

  it('a head that never ends is cut: one answer, one journal entry of bounded size, the connection closed within seconds', { timeout: 60_000 }, async () => {
    const before = (await mock.admin('GET', '/__admin/health')).json.journal.recorded;
    const line = `X-Padding: ${'p'.repeat(1000)}\r\n`;
    // 64 MB offered over 20 s, 64 KB at a time, by a client that does not stop at the server's end of the connection.
    const chunk = line.repeat(64);
    const reply = await rawExchange([`GET ${PAGE} HTTP/1.1\r\n${HEADERS}`, ...Array.from({ length: 1000 }, () => chunk)], 20, true);
    assertRefused(reply);
    assert.ok(reply.closedAfterMs < 10_000, `closed after ${Math.round(reply.closedAfterMs)} ms`);
    assert.match(reply.error ?? '', /^(EPIPE|ECONNRESET)$/, 'cut by the server while the client still sent');
    const health = (await mock.admin('GET', '/__admin/health')).json;
    assert.equal(health.journal.recorded, before + 1, 'one refusal journaled, not one per packet');
    const exchange = await lastJournaled();
    assert.ok(JSON.stringify(exchange).length < 128 * 1024, `${JSON.stringify(exchange).length} characters journaled`);
    assert.equal((await mock.request('GET', '/__admin/health')).status, 200, 'the mock answers on');
  });

  it('a head sent in small pieces, whose request line came before the packet that crossed the limit, is still answered and journaled with its client', async () => {
    const head = `GET ${PAGE}&$filter=${'b'.repeat(20_000)} HTTP/1.1\r\n${HEADERS}\r\n`;
    const pieces = head.match(/[\s\S]{1,1000}/g) as string[];
    const reply = await rawExchange(pieces, 2);
    assertRefused(reply);
    const exchange = await lastJournaled();
    assert.equal(exchange.response.status, 431);
    assert.equal(exchange.client, '127.0.0.1');
    assert.match(exchange.decisions[0].detail ?? '', /request line came in an earlier packet/);
  });

  it('the grader sees the refusal: grade fails request-contract on it, naming REQUEST_031', async () => {
    await mock.admin('DELETE', '/__admin/journal');
    const url = `${PAGE}&$filter=${'c'.repeat(20_000)}`;
    assertRefused(await rawExchange([`GET ${url} HTTP/1.1\r\n${HEADERS}\r\n`]));
    const file = join(work, 'journal.ndjson');
    writeFileSync(file, (await mock.admin('GET', '/__admin/journal')).text);
    const result = await runCliAsync(['grade', file, '--out', join(work, 'grade'), '--format', 'json']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    const report = JSON.parse(readFileSync(join(work, 'grade', 'report.json'), 'utf8'));
    const failed = report.rules.filter((rule: { passed: boolean }) => !rule.passed);
    assert.deepEqual(failed.map((rule: { rule: string }) => rule.rule), ['request-contract']);
    assert.match(failed[0].evidence[0].reason, /^GET \/managementapi\/AH\/managementapi\/Accounts: REQUEST_031: /);
  });
});
