import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { FairUseBudget } from './budget.js';
import type { Target } from './target.js';

export interface Exchange {
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response: { status: number; headers: Record<string, string>; text: string; json: any };
  durationMs: number;
}

export interface SendOptions {
  /** A bearer token, or none. */
  token?: string;
  query?: Record<string, string | number>;
  /** A JSON value (sent as application/json), or a string sent as it is. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Required headers to leave out, to see what the gateway does without them (lower case); without `content-length` a body is sent chunked. */
  omit?: string[];
  /** The local address to send from (a second loopback client, `127.0.0.2`), so a block the test provokes is that client's alone. */
  from?: string;
}

/** One connection pool per local address a test sends from. */
const agents = new Map<string, Dispatcher>();
const agentFrom = (address: string): Dispatcher => {
  let agent = agents.get(address);
  if (!agent) agents.set(address, (agent = new Agent({ localAddress: address })));
  return agent;
};

/** What the suites say they are, as the manual asks every client to (1.3.1: User-Agent is required). */
export const USER_AGENT = 'grex-harness-suites/0.1 (+conformance)';

const ATTACHMENT_BODY_LIMIT = 32_000;

/**
 * The suites' one way to the registry: the manual's required headers on
 * every request, every G-REX call through the fair-use budget when the
 * target has one, and every exchange kept so a failing test can show it.
 */
export class GrexHttp {
  readonly exchanges: Exchange[] = [];

  constructor(
    readonly target: Target,
    private readonly budget?: FairUseBudget,
  ) {}

  /** A G-REX API call: `contract` is the contract's name (`management`), `path` as the contract writes it (`/AH/managementapi/Accounts`). */
  async api(contract: string, method: string, path: string, options: SendOptions = {}): Promise<Exchange> {
    const base = this.target.baseUris[contract];
    if (!base) throw new Error(`no base URI for the ${contract} API on ${this.target.name}`);
    const url = new URL(`${base}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, String(value));
    await this.budget?.acquire();
    return this.send(method, url.href, options);
  }

  /** A form POST to the target's B2C tenant (`/oauth2/v2.0/token`): not a G-REX API, so not in its fair-use windows. */
  async b2cToken(form: Record<string, string>): Promise<Exchange> {
    const { host, tenant, policy } = this.target.b2c;
    return this.send('POST', `${host}/${tenant}.onmicrosoft.com/${policy}/oauth2/v2.0/token`, {
      body: new URLSearchParams(form).toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
  }

  /** A GET at the target's B2C tenant: a path under its policy (`/v2.0/.well-known/openid-configuration`), or a URL its discovery document gave. */
  async b2cGet(where: string): Promise<Exchange> {
    const { host, tenant, policy } = this.target.b2c;
    return this.send('GET', /^https?:\/\//.test(where) ? where : `${host}/${tenant}.onmicrosoft.com/${policy}${where}`, {});
  }

  /** The mock's admin API; a project that targets DEMO has none and must not reach for it. */
  async admin(method: string, path: string, body?: unknown): Promise<Exchange> {
    if (!this.target.admin) throw new Error(`the ${this.target.name} target has no /__admin (DEMO has none): this check belongs to the mock`);
    return this.send(method, `${this.target.admin}${path}`, body === undefined ? {} : { body });
  }

  private async send(method: string, url: string, options: SendOptions): Promise<Exchange> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT, ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    for (const name of options.omit ?? []) delete headers[name];
    // undici writes Content-Length for a string body; a body of unknown length goes chunked, as a streaming client sends it.
    const sent = body !== undefined && headers['content-length'] === undefined ? Readable.from([Buffer.from(body)]) : body;
    const dispatcher = options.from ? agentFrom(options.from) : undefined;
    const started = performance.now();
    const reply = await request(url, { method: method as 'GET', headers, body: sent, dispatcher, headersTimeout: 30_000, bodyTimeout: 30_000 });
    const text = await reply.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const responseHeaders = Object.fromEntries(Object.entries(reply.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value)]));
    const exchange: Exchange = {
      request: { method, url, headers, ...(body === undefined ? {} : { body }) },
      response: { status: reply.statusCode, headers: responseHeaders, text, json },
      durationMs: Math.round(performance.now() - started),
    };
    this.exchanges.push(exchange);
    return exchange;
  }
}

/** Tokens are shown by their last characters only: a report from DEMO must not carry a working credential. */
const redact = (name: string, value: string): string =>
  name === 'authorization' ? value.replace(/^(Bearer\s+).*(.{6})$/i, '$1…$2') : value;

const redactForm = (body: string): string => body.replace(/((?:refresh_token|code|code_verifier)=)[^&]*([^&]{6})/g, '$1…$2');

const redactJson = (text: string): string => text.replace(/("(?:access_token|refresh_token|id_token)"\s*:\s*")[^"]*([^"]{6})"/g, '$1…$2"');

/** One exchange as an HTTP transcript, for a report attachment. */
export function transcript(exchange: Exchange): string {
  const { request: sent, response: got } = exchange;
  const body = (text: string | undefined): string => {
    if (!text) return '';
    let shown = text;
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Not JSON (a form, the gateway's HTML page): as it is.
    }
    shown = redactJson(redactForm(shown));
    return `\n${shown.length > ATTACHMENT_BODY_LIMIT ? `${shown.slice(0, ATTACHMENT_BODY_LIMIT)}\n… (${shown.length} characters in all)` : shown}\n`;
  };
  return [
    `${sent.method} ${sent.url}`,
    ...Object.entries(sent.headers).map(([name, value]) => `${name}: ${redact(name, value)}`),
    body(sent.body),
    `HTTP ${got.status} (${exchange.durationMs} ms)`,
    ...Object.entries(got.headers).map(([name, value]) => `${name}: ${value}`),
    body(got.text),
  ].join('\n');
}
