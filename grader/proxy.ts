import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Agent, request as forward, type Dispatcher } from 'undici';
import { loadContracts, type ContractSet } from '../contracts/lib/load.js';
import { closeServer } from '../mock/close-server.js';
import { Journal, originOf, toHar, type Decision, type Exchange } from '../mock/journal.js';
import { createContractChecker } from './contract-check.js';
import { DriftLog } from './proxy-drift.js';
import type { FairUseLimit as Limit } from '../mock/fairuse.js';
import { HoldBack, type Slot } from './proxy-fairuse.js';
import { redactBody, redactHeaders } from './proxy-redact.js';

/** Where the proxy forwards: the G-REX API host and B2C's host (one origin for a mock standing in for both). */
export interface Target {
  name: string;
  api: string;
  b2c: string;
}

/** The manual's hosts (chapter 2 base URIs, Appendices 2 and 5 B2C directories). */
export const TARGETS: Record<'demo' | 'prod', Target> = {
  demo: { name: 'demo', api: 'https://eexfrancedemoapi.grexel.com', b2c: 'https://gcrfdemo.b2clogin.com' },
  prod: { name: 'prod', api: 'https://eexfranceapi.grexel.com', b2c: 'https://gcrfr.b2clogin.com' },
};

/** `demo`, `prod`, or an http(s) URL whose origin serves both (a mock): the target, or why it is not one. */
export function resolveTarget(text: string): Target | string {
  if (text === 'demo' || text === 'prod') return TARGETS[text];
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `--target must be demo, prod or an http(s) URL, got "${text}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `--target must be demo, prod or an http(s) URL, got "${text}"`;
  return { name: url.origin, api: url.origin, b2c: url.origin };
}

export interface ProxyOptions {
  target: Target;
  port: number;
  host: string;
  /** null: no hold-back (the target's own fair use answers). */
  fairUse: { limits: readonly Limit[]; maxWaitMs: number } | null;
  journalCapacity: number;
  journalFile?: string;
  /** Upstream time limit for the answer's headers and between body chunks. */
  timeoutMs: number;
  contracts?: ContractSet;
}

export interface RunningProxy {
  url: string;
  server: Server;
  journal: Journal;
  drift: DriftLog;
  holdBack: HoldBack | null;
  /** Stops the proxy; `graceMs` lets calls under way finish first (default: none). */
  close(graceMs?: number): Promise<void>;
}

/** B2C's paths start with the directory: `/{tenant}.onmicrosoft.com/...`. */
const B2C_PATH = /^\/[^/]+\.onmicrosoft\.com(\/|$)/i;
/** RFC 9110 7.6.1, plus what undici refuses to be given. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'expect']);
/** Bodies kept for checking; a larger one is forwarded whole but not checked. */
const MAX_CHECKED_BYTES = 8 * 1024 * 1024;
/**
 * The largest request head the proxy reads, well above the gateway's (16 KiB,
 * REQUEST_031): a head the target would refuse is forwarded, so that the
 * target's own answer is what the client gets and the journal keeps. With
 * Node's default (the gateway's size) the proxy answered a bare 431 itself,
 * unjournaled.
 */
const PROXY_HEAD_LIMIT_BYTES = 256 * 1024;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** The account holder whose fair-use budget a call spends: the token's user (`oid`, read without verifying: DEMO verifies), else the client's address. */
export function accountHolderOf(authorization: string | undefined, client: string): string {
  const token = /^bearer\s+(\S+)/i.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (payload) {
    try {
      const oid = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { oid?: unknown }).oid;
      if (typeof oid === 'string' && oid) return `oid:${oid}`;
    } catch {
      // Not a JWT: the call is anonymous as far as fair use can tell.
    }
  }
  return `ip:${client}`;
}

function forwardedHeaders(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Collects up to a limit what streams through; past it, gives up the copy (not the stream). */
class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  overflow = false;

  add(chunk: Buffer): void {
    if (this.overflow) return;
    this.size += chunk.length;
    if (this.size > MAX_CHECKED_BYTES) {
      this.overflow = true;
      this.chunks = [];
    } else this.chunks.push(chunk);
  }

  get bytes(): Buffer | null {
    return this.overflow || !this.chunks.length ? null : Buffer.concat(this.chunks);
  }
}

function decode(body: Buffer, encoding: string | undefined): string | null {
  try {
    switch ((encoding ?? '').trim().toLowerCase()) {
      case '':
      case 'identity':
        return body.toString('utf8');
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(body).toString('utf8');
      case 'deflate':
        return inflateSync(body).toString('utf8');
      case 'br':
        return brotliDecompressSync(body).toString('utf8');
      default:
        return null;
    }
  } catch {
    return null;
  }
}

const flat = (headers: Record<string, string | string[] | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]])));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The DEMO proxy: forwards a client's calls to G-REX (or a stand-in),
 * journals every exchange as the mock does, checks requests and answers
 * against the contracts (answers that disagree are contract drift), and holds
 * back calls that would break fair use. It observes: an invalid request is
 * forwarded all the same, and only the hold-back ever answers in the
 * target's place.
 */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const contracts = options.contracts ?? loadContracts();
  const checker = createContractChecker(contracts);
  const journal = new Journal({ capacity: options.journalCapacity, maxBodyChars: 65_536, spillFile: options.journalFile });
  const drift = new DriftLog(options.target.name);
  const holdBack = options.fairUse ? new HoldBack(options.fairUse.limits, options.fairUse.maxWaitMs) : null;
  const agent = new Agent({ headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs, connectTimeout: options.timeoutMs });
  const { target } = options;

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): { headers: Record<string, string | number>; text: string } => {
    const text = JSON.stringify(body);
    const sent = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers };
    if (!res.headersSent) {
      res.writeHead(status, sent);
      res.end(text);
    } else res.destroy();
    return { headers: sent, text };
  };

  const control = (req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): void => {
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: `${pathname} answers GET only` }, { allow: 'GET' });
      return;
    }
    if (pathname === '/__proxy/journal') {
      const limit = Number(query.get('limit') ?? 0);
      const all = journal.entries();
      const entries = Number.isInteger(limit) && limit > 0 ? all.slice(-limit) : all;
      if (query.get('format') === 'har') {
        sendJson(res, 200, toHar(entries, originOf(req)));
        return;
      }
      const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (pathname === '/__proxy/drift') {
      sendJson(res, 200, drift.report());
      return;
    }
    if (pathname === '/__proxy/health') {
      sendJson(res, 200, { target, journal: { size: journal.size, recorded: journal.recorded }, fairUse: holdBack ? { limits: holdBack.limits, maxWaitMs: holdBack.maxWaitMs, inWindow: holdBack.snapshot() } : null });
      return;
    }
    sendJson(res, 404, { error: `no such proxy endpoint: ${pathname} (GET /__proxy/journal, /__proxy/drift, /__proxy/health)` });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const parsed = new URL(url, 'http://proxy.invalid');
    const pathname = parsed.pathname;
    if (pathname === '/__proxy' || pathname.startsWith('/__proxy/')) return control(req, res, pathname, parsed.searchParams);
    if (pathname === '/__admin' || pathname.startsWith('/__admin/')) {
      req.resume();
      sendJson(res, 404, { error: 'the proxy does not forward /__admin: G-REX has no admin API' });
      return;
    }

    const started = performance.now();
    const method = req.method ?? 'GET';
    const client = req.socket.remoteAddress ?? '';
    const decisions: Decision[] = [];
    const operationId = checker.operationOf(method, url);
    decisions.push(operationId ? { stage: 'route', outcome: 'pass', detail: operationId } : { stage: 'route', outcome: 'reject', detail: 'no operation of the contracts matches; forwarded all the same' });
    const exchange: Exchange = {
      id: 0,
      startedAt: new Date().toISOString(),
      durationMs: 0,
      client,
      request: { method, url, headers: req.headers },
      response: { status: 0, headers: {} },
      ...(operationId ? { operationId } : {}),
      decisions,
    };
    const requestBody = new Capture();
    const responseBody = new Capture();
    /**
     * `bodyText` null: an answer too large or undecodable to check. `checked`: whether the request was read whole and the answer is the target's.
     * `outcome`: the proxy's own answer (held, upstream failure), recorded last as the mock records its last stage.
     */
    const finish = (bodyText: string | null | undefined, checked: { request: boolean; answer: boolean }, outcome?: Decision): void => {
      exchange.id = journal.nextId();
      exchange.durationMs = performance.now() - started;
      const sentBody = requestBody.bytes;
      if (sentBody) exchange.request.body = sentBody.toString('utf8');
      if (checked.request && !requestBody.overflow) {
        const problems = checker.checkRequest(exchange);
        decisions.push(problems.length ? { stage: 'validate', outcome: 'reject', detail: problems.join('; ') } : { stage: 'validate', outcome: 'pass' });
      }
      if (bodyText !== null && bodyText !== undefined && bodyText !== '') exchange.response.body = bodyText;
      if (checked.answer) {
        const drifted = bodyText === null ? [] : checker.checkResponse(exchange);
        drift.add(exchange, drifted);
        decisions.push(drifted.length ? { stage: 'response', outcome: 'error', code: 'DRIFT', detail: drifted.map((item) => item.text).join('; ') } : { stage: 'response', outcome: 'pass', ...(bodyText === null ? { detail: 'body not checked (too large or undecodable)' } : {}) });
      }
      if (outcome) decisions.push(outcome);
      exchange.request.body = journal.cut(redactBody(exchange.request.body, req.headers['content-type']));
      exchange.response.body = journal.cut(redactBody(exchange.response.body, String(exchange.response.headers['content-type'] ?? '')));
      journal.record(exchange, redactHeaders(req.rawHeaders));
    };

    const b2c = B2C_PATH.test(pathname);
    let slot: Slot | undefined;
    if (holdBack && !b2c) {
      const holder = accountHolderOf(req.headers.authorization, client);
      const verdict = holdBack.take(holder);
      if (!verdict.forward) {
        for await (const chunk of req) requestBody.add(chunk as Buffer);
        const seconds = String(verdict.retryAfterSeconds);
        decisions.push({ stage: 'fairuse', outcome: 'reject', code: 'HELD', detail: `${holder}: the fair-use windows are full for longer than ${holdBack.maxWaitMs} ms; answered by the proxy, not forwarded` });
        const sent = sendJson(
          res,
          429,
          { statusCode: 429, responseCode: 'PROXY_429', responseMessage: `Held back by grex-harness proxy: forwarding now would break the fair-use policy. Retry after ${seconds} seconds.` },
          { 'retry-after': seconds, 'x-grex-proxy': 'held' },
        );
        exchange.response = { status: 429, headers: sent.headers };
        finish(sent.text, { request: true, answer: false });
        return;
      }
      slot = verdict.slot;
      const heldFrom = performance.now();
      for (let wait = verdict.delayMs; wait > 0; wait = holdBack.wait(holder, slot)) await sleep(wait);
      decisions.push({ stage: 'fairuse', outcome: 'pass', detail: `${holder}: held back ${Math.round(performance.now() - heldFrom)} ms` });
    }
    if (res.destroyed || req.destroyed) {
      // The client gave up while held back: nothing to forward (its slot stays spent, as a conservative count).
      if (slot) holdBack?.settle(slot);
      finish(undefined, { request: false, answer: false }, { stage: 'response', outcome: 'error', code: 'CLIENT_GONE', detail: 'the client closed the connection before the call was forwarded' });
      return;
    }

    const origin = b2c ? target.b2c : target.api;
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    async function* tee(): AsyncGenerator<Buffer> {
      for await (const chunk of req) {
        requestBody.add(chunk as Buffer);
        yield chunk as Buffer;
      }
    }
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await forward(`${origin}${url}`, { method: method as Dispatcher.HttpMethod, headers: forwardedHeaders(req.headers), body: hasBody ? Readable.from(tee()) : undefined, dispatcher: agent });
    } catch (error) {
      if (slot) holdBack?.settle(slot);
      const code = (error as { code?: string }).code ?? '';
      const timeout = TIMEOUT_CODES.has(code);
      const status = timeout ? 504 : 502;
      const message = timeout ? `${origin} did not answer within ${options.timeoutMs} ms` : `${origin} could not be reached: ${(error as Error).message}${code ? ` (${code})` : ''}`;
      const sent = sendJson(res, status, { error: timeout ? 'upstream_timeout' : 'upstream_unreachable', message }, { 'x-grex-proxy': 'upstream-error' });
      exchange.response = { status, headers: sent.headers };
      finish(sent.text, { request: true, answer: false }, { stage: 'response', outcome: 'error', code: timeout ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE', detail: message });
      return;
    }

    // The target has the call by now: windows count it from here (see HoldBack).
    if (slot) holdBack?.settle(slot);
    const answerHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      answerHeaders[name] = name === 'location' && typeof value === 'string' ? towardsProxy(value, target, req) : value;
    }
    exchange.response = { status: upstream.statusCode, headers: flat(answerHeaders) };
    res.writeHead(upstream.statusCode, answerHeaders);
    try {
      for await (const chunk of upstream.body) {
        responseBody.add(chunk as Buffer);
        if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
        if (res.destroyed) break;
      }
      res.end();
    } catch (error) {
      res.destroy();
      finish(null, { request: true, answer: false }, { stage: 'response', outcome: 'error', code: 'UPSTREAM_BROKEN', detail: `the answer's body broke off: ${(error as Error).message}` });
      return;
    }
    const bytes = responseBody.bytes;
    const text = responseBody.overflow ? null : bytes ? decode(bytes, flat(upstream.headers)['content-encoding']) : '';
    finish(text, { request: true, answer: true });
  };

  const server = createServer({ requireHostHeader: false, maxHeaderSize: PROXY_HEAD_LIMIT_BYTES }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(`grex-harness proxy: unexpected error on ${req.method} ${req.url}: ${(error as Error).message}\n`);
      if (!res.headersSent) sendJson(res, 500, { error: 'proxy_error', message: (error as Error).message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    server,
    journal,
    drift,
    holdBack,
    close: async (graceMs = 0) => {
      await closeServer(server, graceMs);
      await agent.close();
      await journal.close();
    },
  };
}

/** A redirect to the target's own hosts comes back through the proxy, so a client that follows it stays observed. */
function towardsProxy(location: string, target: Target, req: IncomingMessage): string {
  for (const origin of new Set([target.api, target.b2c])) {
    if (location.startsWith(`${origin}/`) || location === origin) return `http://${req.headers.host ?? '127.0.0.1'}${location.slice(origin.length) || '/'}`;
  }
  return location;
}
