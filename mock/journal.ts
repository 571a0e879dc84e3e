import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tailOf } from './tail-map.js';

export type Stage = 'firewall' | 'fairuse' | 'auth' | 'route' | 'validate' | 'domain' | 'response' | 'admin' | 'docs';

export interface Decision {
  stage: Stage;
  outcome: 'pass' | 'reject' | 'error';
  code?: string;
  detail?: string;
}

export interface Exchange {
  id: number;
  /** On the mock's clock. */
  startedAt: string;
  durationMs: number;
  client: string;
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body?: string };
  response: { status: number; headers: Record<string, string | number>; body?: string };
  operationId?: string;
  user?: string;
  organization?: string;
  decisions: Decision[];
}

export interface JournalOptions {
  /** Exchanges kept in memory; older ones are dropped (or were spilled). */
  capacity: number;
  /** Bytes the kept exchanges may take (estimated from their text); the oldest go first. Default 64 MiB. */
  maxBytes?: number;
  /** Bodies longer than this are cut, with a marker. */
  maxBodyChars: number;
  /** Append every exchange to this NDJSON file as well. */
  spillFile?: string;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

const FIELD = '\u001f';
const RECORD = '\u001e';

/**
 * One copy of each string the ring keeps again and again: a client's bearer
 * token, its other header values, a URL it polls, the same answer. Node makes
 * a new string for each request; kept in the ring, every one of them would
 * survive into the old generation, and garbage collection was most of the
 * journal's cost. Bounded: forgets everything when full.
 */
class Interner {
  /**
   * By their last characters (see TailMap, whose reasons hold here): a
   * string of that tail is confirmed by comparing the whole. The map holds
   * the strings themselves, no entry object around them.
   */
  private readonly known = new Map<string, string>();
  private chars = 0;

  constructor(
    /** Characters it may hold (UTF-16 code units). */
    private readonly budget: number,
    /** Longer strings are kept as they are: a long one rarely comes again. */
    private readonly longest: number,
  ) {}

  intern<T extends string | undefined>(text: T): T {
    if (text === undefined || text.length > this.longest) return text;
    const tail = tailOf(text);
    const known = this.known.get(tail);
    if (known === text) return known as T;
    if (this.chars + text.length > this.budget) {
      this.known.clear();
      this.chars = 0;
    }
    this.known.set(tail, text);
    this.chars += text.length;
    return text;
  }
}

/** Header lists and answer headers the ring has kept lately: a client sends the same ones again and again. */
const RECENT_LISTS = 4;

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameRecord(a: Record<string, string | number>, b: Record<string, string | number>): boolean {
  let keys = 0;
  for (const key in a) {
    if (a[key] !== b[key]) return false;
    keys++;
  }
  for (const _ in b) keys--;
  return keys === 0;
}

/** Node's `req.headers` from its `rawHeaders`: names in lower case, repeated ones joined (set-cookie kept as a list). */
function headersOf(raw: readonly string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const known = headers[name];
    if (known === undefined) headers[name] = name === 'set-cookie' ? [raw[i + 1]] : raw[i + 1];
    else if (Array.isArray(known)) known.push(raw[i + 1]);
    else headers[name] = `${known}, ${raw[i + 1]}`;
  }
  return headers;
}

/** An exchange as `entries()` gives it back: decisions without empty parts, headers as Node keys them. */
function normalized(exchange: Exchange, rawHeaders: readonly string[]): Exchange {
  const { request, response } = exchange;
  return {
    id: exchange.id,
    startedAt: exchange.startedAt,
    durationMs: exchange.durationMs,
    client: exchange.client,
    request: { method: request.method, url: request.url, headers: headersOf(rawHeaders), ...(request.body !== undefined ? { body: request.body } : {}) },
    response: { status: response.status, headers: response.headers, ...(response.body !== undefined ? { body: response.body } : {}) },
    ...(exchange.operationId ? { operationId: exchange.operationId } : {}),
    ...(exchange.user ? { user: exchange.user } : {}),
    ...(exchange.organization ? { organization: exchange.organization } : {}),
    decisions: exchange.decisions.map((d) => ({ stage: d.stage, outcome: d.outcome, ...(d.code ? { code: d.code } : {}), ...(d.detail ? { detail: d.detail } : {}) })),
  };
}

const EMPTY: readonly string[] = [];
const NO_HEADERS: Record<string, string | number> = {};

/**
 * Every exchange with what each pipeline stage decided, bounded however long
 * the mock runs: a ring of at most `capacity` exchanges and about `maxBytes`
 * bytes (bodies, URL and headers counted), optionally spilled to an NDJSON
 * file for whole-run grading.
 *
 * The ring is columns, one slot per exchange, written in place: keeping an
 * exchange makes no object of its own. Strings are interned, and a header
 * list or an answer's headers equal to one kept lately is shared, so a
 * request that repeats the last ones keeps nothing new. Every kept object
 * outlives a young-generation collection, and garbage collection was most of
 * the journal's cost. (Tried and slower: a byte ring of NDJSON lines, as
 * serialising each exchange costs more than keeping it.)
 */
export class Journal {
  /** Slots: `capacity` of them. */
  private readonly slots: number;
  private readonly ids: Float64Array;
  private readonly startedAt: string[];
  private readonly durations: Float64Array;
  private readonly clients: string[];
  private readonly methods: string[];
  private readonly urls: string[];
  private readonly headerLists: (readonly string[])[];
  private readonly requestBodies: (string | undefined)[];
  private readonly statuses: Uint16Array;
  private readonly answerHeaders: Record<string, string | number>[];
  private readonly answerBodies: (string | undefined)[];
  private readonly operationIds: (string | undefined)[];
  private readonly users: (string | undefined)[];
  private readonly organizations: (string | undefined)[];
  /** Each exchange's decisions as one string: FIELD between a decision's parts, RECORD between decisions. */
  private readonly decisions: string[];
  private readonly sizes: Float64Array;
  private readonly maxBytes: number;
  /** The oldest entry is at `first`; `count` of them, `bytes` in all. */
  private first = 0;
  private count = 0;
  private bytes = 0;
  private total = 0;
  private spill: WriteStream | undefined;
  private observer: ((exchange: Exchange) => void) | undefined;
  private readonly strings = new Interner(4 * 1024 * 1024, 8192);
  private readonly recentLists: (readonly string[])[] = [];
  private readonly recentAnswerHeaders: Record<string, string | number>[] = [];

  constructor(private readonly options: JournalOptions) {
    this.slots = Math.max(0, options.capacity);
    const strings = (): string[] => new Array<string>(this.slots).fill('');
    const optional = (): (string | undefined)[] => new Array<string | undefined>(this.slots).fill(undefined);
    this.ids = new Float64Array(this.slots);
    this.startedAt = strings();
    this.durations = new Float64Array(this.slots);
    this.clients = strings();
    this.methods = strings();
    this.urls = strings();
    this.headerLists = new Array<readonly string[]>(this.slots).fill(EMPTY);
    this.requestBodies = optional();
    this.statuses = new Uint16Array(this.slots);
    this.answerHeaders = new Array<Record<string, string | number>>(this.slots).fill(NO_HEADERS);
    this.answerBodies = optional();
    this.operationIds = optional();
    this.users = optional();
    this.organizations = optional();
    this.decisions = strings();
    this.sizes = new Float64Array(this.slots);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (options.spillFile) this.spill = createWriteStream(options.spillFile, { flags: 'a' });
  }

  get size(): number {
    return this.count;
  }

  get recorded(): number {
    return this.total;
  }

  nextId(): number {
    return this.total + 1;
  }

  cut(body: string | undefined): string | undefined {
    if (body === undefined || body.length <= this.options.maxBodyChars) return body;
    return `${body.slice(0, this.options.maxBodyChars)}…[${body.length - this.options.maxBodyChars} more characters]`;
  }

  /** `rawHeaders` is the request's own (Node's flat list). */
  record(exchange: Exchange, rawHeaders: string[]): void {
    this.total++;
    if (this.spill) this.spill.write(`${JSON.stringify(normalized(exchange, rawHeaders))}\n`);
    if (this.observer) this.observer(exchange);
    const capacity = this.slots;
    if (capacity === 0) return;
    // UTF-16 code units, two bytes each, and a little for the slot around them.
    let size = 512 + exchange.request.url.length + (exchange.request.body?.length ?? 0) + (exchange.response.body?.length ?? 0);
    for (const text of rawHeaders) size += text.length;
    for (const decision of exchange.decisions) size += 8 + (decision.detail?.length ?? 0);
    size *= 2;
    if (size > this.maxBytes) return;
    while (this.count > 0 && (this.count === capacity || this.bytes + size > this.maxBytes)) {
      this.release(this.first);
      this.bytes -= this.sizes[this.first];
      this.first = (this.first + 1) % capacity;
      this.count--;
    }
    const slot = (this.first + this.count) % capacity;
    this.write(slot, exchange, rawHeaders);
    this.sizes[slot] = size;
    this.bytes += size;
    this.count++;
  }

  private write(slot: number, exchange: Exchange, rawHeaders: string[]): void {
    const strings = this.strings;
    this.ids[slot] = exchange.id;
    this.startedAt[slot] = exchange.startedAt;
    this.durations[slot] = exchange.durationMs;
    this.clients[slot] = strings.intern(exchange.client);
    this.methods[slot] = exchange.request.method;
    this.urls[slot] = strings.intern(exchange.request.url);
    this.headerLists[slot] = this.listOf(rawHeaders);
    this.requestBodies[slot] = exchange.request.body;
    this.statuses[slot] = exchange.response.status;
    this.answerHeaders[slot] = this.answerHeadersOf(exchange.response.headers);
    // A read's answer comes again while nothing changes (polling); a write's names what it made, and never does.
    const method = exchange.request.method;
    this.answerBodies[slot] = method === 'GET' || method === 'HEAD' ? strings.intern(exchange.response.body) : exchange.response.body;
    this.operationIds[slot] = exchange.operationId;
    this.users[slot] = exchange.user;
    this.organizations[slot] = exchange.organization;
    let decisions = '';
    for (let i = 0; i < exchange.decisions.length; i++) {
      const d = exchange.decisions[i];
      decisions += `${i ? RECORD : ''}${d.stage}${FIELD}${d.outcome}${FIELD}${d.code ?? ''}${FIELD}${d.detail ?? ''}`;
    }
    this.decisions[slot] = strings.intern(decisions);
  }

  /** Lets go of what a slot holds, so that a dropped exchange's strings can be collected. */
  private release(slot: number): void {
    this.urls[slot] = '';
    this.headerLists[slot] = EMPTY;
    this.requestBodies[slot] = undefined;
    this.answerHeaders[slot] = NO_HEADERS;
    this.answerBodies[slot] = undefined;
    this.decisions[slot] = '';
  }

  /** The request's header list as the ring keeps it: one kept lately if equal, else a copy of interned strings. */
  private listOf(raw: readonly string[]): readonly string[] {
    for (const list of this.recentLists) if (sameList(list, raw)) return list;
    const list = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i++) list[i] = this.strings.intern(raw[i]);
    if (this.recentLists.unshift(list) > RECENT_LISTS) this.recentLists.pop();
    return list;
  }

  private answerHeadersOf(headers: Record<string, string | number>): Record<string, string | number> {
    for (const known of this.recentAnswerHeaders) if (sameRecord(known, headers)) return known;
    if (this.recentAnswerHeaders.unshift(headers) > RECENT_LISTS) this.recentAnswerHeaders.pop();
    return headers;
  }

  /** A slot back as an exchange, in the one shape `normalized` gives (the spill file's too). */
  private expand(slot: number): Exchange {
    const text = this.decisions[slot];
    const decisions: Decision[] = text
      ? text.split(RECORD).map((part) => {
          const [stage, outcome, code, detail] = part.split(FIELD);
          return { stage: stage as Stage, outcome: outcome as Decision['outcome'], code, detail };
        })
      : [];
    const exchange: Exchange = {
      id: this.ids[slot],
      startedAt: this.startedAt[slot],
      durationMs: this.durations[slot],
      client: this.clients[slot],
      request: { method: this.methods[slot], url: this.urls[slot], headers: {}, body: this.requestBodies[slot] },
      response: { status: this.statuses[slot], headers: this.answerHeaders[slot], body: this.answerBodies[slot] },
      operationId: this.operationIds[slot],
      user: this.users[slot],
      organization: this.organizations[slot],
      decisions,
    };
    return normalized(exchange, this.headerLists[slot]);
  }

  /** Oldest first; the last `limit` only, if given. */
  entries(limit = Number.POSITIVE_INFINITY): Exchange[] {
    const out: Exchange[] = [];
    for (let i = Math.max(0, this.count - limit); i < this.count; i++) out.push(this.expand((this.first + i) % this.slots));
    return out;
  }

  /** The same as NDJSON lines. */
  lines(limit?: number): string[] {
    return this.entries(limit).map((exchange) => JSON.stringify(exchange));
  }

  /** Runs set-up traffic (a scenario's requests) without writing it to the journal file: it is not the client's. */
  async unspilled<T>(work: () => Promise<T>): Promise<T> {
    const spill = this.spill;
    this.spill = undefined;
    try {
      return await work();
    } finally {
      this.spill = spill;
    }
  }

  clear(): void {
    for (let slot = 0; slot < this.slots; slot++) this.release(slot);
    this.recentLists.length = 0;
    this.recentAnswerHeaders.length = 0;
    this.first = 0;
    this.count = 0;
    this.bytes = 0;
    this.total = 0;
  }

  /** Each exchange as it is recorded, for a log that follows the traffic (`--log json`); one observer. */
  observe(observer: ((exchange: Exchange) => void) | undefined): void {
    this.observer = observer;
  }

  /** Flushes and closes the spill file; an exchange recorded later (an answer still under way) is kept in memory only. */
  close(): Promise<void> {
    const spill = this.spill;
    this.spill = undefined;
    return new Promise((resolve) => (spill ? spill.end(resolve) : resolve()));
  }
}

/** A Host header that names a host (and port) and nothing else: one that would change a URL's structure is not taken. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * A request's URL as HAR 1.2 wants it, absolute: the scheme of the server
 * that answered, the host the request named (its Host header, as a browser's
 * HAR shows it), else the server's own. The path and query stay as they were
 * sent (no resolution of `..`, no re-encoding): the grader reads them back.
 */
export function absoluteUrl(url: string, host: unknown, origin: string): string {
  if (/^https?:\/\//i.test(url)) return url;
  const { protocol, host: own } = new URL(origin);
  const named = typeof host === 'string' && HOST.test(host) ? host : own;
  return `${protocol}//${named}${url.startsWith('/') ? url : `/${url}`}`;
}

/** The origin a request reached, for toHar: its scheme, and its Host header, else the address and port it came in on. */
export function originOf(req: IncomingMessage): string {
  const { socket } = req;
  const scheme = (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const host = req.headers.host;
  if (host && HOST.test(host)) return `${scheme}://${host}`;
  const address = socket.localAddress ?? '127.0.0.1';
  return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${socket.localPort ?? 80}`;
}

/** HAR 1.2, for browsers' and proxies' tools; `origin` is the answering server's (`http://127.0.0.1:4600`). */
export function toHar(exchanges: Exchange[], origin: string): object {
  const pairs = (headers: Record<string, unknown>) =>
    Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined).map((v) => ({ name, value: String(v) })));
  return {
    log: {
      version: '1.2',
      creator: { name: 'grex-harness', version: '0.1.0' },
      entries: exchanges.map((exchange) => {
        // The query as sent, not through `new URL`: a request line need not hold a valid URL (`GET http://[x/... HTTP/1.1`), and one such request must not fail the export.
        const mark = exchange.request.url.indexOf('?');
        const query = new URLSearchParams(mark < 0 ? '' : exchange.request.url.slice(mark + 1));
        return {
          startedDateTime: exchange.startedAt,
          time: exchange.durationMs,
          request: {
            method: exchange.request.method,
            url: absoluteUrl(exchange.request.url, exchange.request.headers.host, origin),
            httpVersion: 'HTTP/1.1',
            headers: pairs(exchange.request.headers),
            queryString: [...query].map(([name, value]) => ({ name, value })),
            cookies: [],
            headersSize: -1,
            bodySize: exchange.request.body?.length ?? 0,
            ...(exchange.request.body !== undefined ? { postData: { mimeType: String(exchange.request.headers['content-type'] ?? ''), text: exchange.request.body } } : {}),
          },
          response: {
            status: exchange.response.status,
            statusText: '',
            httpVersion: 'HTTP/1.1',
            headers: pairs(exchange.response.headers),
            cookies: [],
            content: { size: exchange.response.body?.length ?? 0, mimeType: String(exchange.response.headers['content-type'] ?? ''), text: exchange.response.body ?? '' },
            redirectURL: '',
            headersSize: -1,
            bodySize: exchange.response.body?.length ?? 0,
          },
          cache: {},
          timings: { send: 0, wait: exchange.durationMs, receive: 0 },
          _grex: { id: exchange.id, operationId: exchange.operationId, user: exchange.user, organization: exchange.organization, decisions: exchange.decisions },
        };
      }),
    },
  };
}
