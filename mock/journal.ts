import { createWriteStream, type WriteStream } from 'node:fs';

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
  /** Bodies longer than this are cut, with a marker. */
  maxBodyChars: number;
  /** Append every exchange to this NDJSON file as well. */
  spillFile?: string;
}

/**
 * Every exchange with what each pipeline stage decided: a ring of fixed
 * capacity, so memory stays bounded however long the mock runs, optionally
 * spilled to an NDJSON file for whole-run grading.
 */
export class Journal {
  private readonly ring: (Exchange | undefined)[];
  private next = 0;
  private total = 0;
  private spill: WriteStream | undefined;

  constructor(private readonly options: JournalOptions) {
    this.ring = new Array(options.capacity);
    if (options.spillFile) this.spill = createWriteStream(options.spillFile, { flags: 'a' });
  }

  get size(): number {
    return Math.min(this.total, this.ring.length);
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

  record(exchange: Exchange): void {
    this.total++;
    if (this.ring.length === 0) return;
    this.ring[this.next] = exchange;
    this.next = (this.next + 1) % this.ring.length;
    this.spill?.write(`${JSON.stringify(exchange)}\n`);
  }

  /** Oldest first. */
  entries(): Exchange[] {
    const out: Exchange[] = [];
    const size = this.size;
    const start = this.total > this.ring.length ? this.next : 0;
    for (let i = 0; i < size; i++) out.push(this.ring[(start + i) % this.ring.length] as Exchange);
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.total = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.spill ? this.spill.end(resolve) : resolve()));
  }
}

/** HAR 1.2, for browsers' and proxies' tools. */
export function toHar(exchanges: Exchange[]): object {
  const pairs = (headers: Record<string, unknown>) =>
    Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined).map((v) => ({ name, value: String(v) })));
  return {
    log: {
      version: '1.2',
      creator: { name: 'grex-harness', version: '0.1.0' },
      entries: exchanges.map((exchange) => {
        const url = new URL(exchange.request.url, 'http://mock');
        return {
          startedDateTime: exchange.startedAt,
          time: exchange.durationMs,
          request: {
            method: exchange.request.method,
            url: exchange.request.url,
            httpVersion: 'HTTP/1.1',
            headers: pairs(exchange.request.headers),
            queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
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
