import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMock, type RunningMock } from '../mock/server.js';
import { HOST_NAMES } from '../mock/tls.js';
import { CLI, ROOT } from './support/cli.js';

let mock: RunningMock;
before(async () => {
  mock = await startMock({ port: 0, host: '127.0.0.1', tls: true });
});
after(() => mock?.close());

interface Answer {
  status: number;
  body: string;
  headers: Record<string, unknown>;
}

/** An HTTPS request to the mock as a client that resolved `name` to 127.0.0.1 through a hosts entry. */
function call(name: string, path: string, options: { ca?: string; headers?: Record<string, string>; method?: string; body?: string; url?: string } = {}): Promise<Answer> {
  const port = Number(new URL(options.url ?? mock.url).port);
  const headers = { host: name, ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }) };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', servername: isIP(name) ? undefined : name, headers, ca: options.ca }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const get = (name: string, path: string, ca?: string): Promise<Answer> => call(name, path, { ca });

describe('hosts mode (--tls)', () => {
  it('serves HTTPS that a client trusting only the printed authority accepts, for every real host name', async () => {
    assert.ok(mock.caFile);
    const ca = readFileSync(mock.caFile, 'utf8');
    for (const name of HOST_NAMES) {
      const reply = await get(name, '/__admin/health', ca);
      assert.equal(reply.status, 200, name);
    }
    const docs = JSON.parse((await get('eexfrancedemoapi.grexel.com', '/managementapi/v2/swagger.json', ca)).body);
    assert.equal(docs.servers[0].url, 'https://eexfrancedemoapi.grexel.com/managementapi');
  });

  it('is refused by a client that does not trust the authority, and for a name it was not made for', async () => {
    await assert.rejects(get('eexfrancedemoapi.grexel.com', '/__admin/health'), /self[- ]signed|unable to verify|certificate/i);
    await assert.rejects(get('example.com', '/__admin/health', readFileSync(mock.caFile as string, 'utf8')), /altnames|does not match|Hostname/i);
  });
});

describe('hosts mode and a request head over the gateway limit', () => {
  it('answers a 20 KB URL over HTTPS with 431 REQUEST_031 as JSON, as over HTTP', async () => {
    const ca = readFileSync(mock.caFile as string, 'utf8');
    const reply = await get('eexfrancedemoapi.grexel.com', `/managementapi/AH/managementapi/Accounts?$top=1&$skip=0&$filter=${'a'.repeat(20_000)}`, ca);
    assert.equal(reply.status, 431, reply.body);
    assert.equal(JSON.parse(reply.body).responseCode, 'REQUEST_031');
    assert.equal(mock.app.journal.entries(1)[0].response.status, 431);
  });
});

describe('hosts mode and B2C discovery', () => {
  it('names HTTPS endpoints on the real B2C host in the discovery document', async () => {
    const ca = readFileSync(mock.caFile as string, 'utf8');
    const reply = await get('gcrfdemo.b2clogin.com', '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/v2.0/.well-known/openid-configuration', ca);
    assert.equal(reply.status, 200, reply.body);
    const document = JSON.parse(reply.body);
    assert.match(document.token_endpoint, /^https:\/\/gcrfdemo\.b2clogin\.com\/gcrfdemo\.onmicrosoft\.com\/b2c_1_signin\/oauth2\/v2\.0\/token$/i);
  });
});

describe("hosts mode: each G-REX host takes its own tenant's tokens", () => {
  it("answers 401 to a PROD (gcrfr) token on the DEMO host name and to a DEMO token on the PROD one, 200 on their own; localhost takes both", async () => {
    const ca = readFileSync(mock.caFile as string, 'utf8');
    const token = async (tenant: string): Promise<string> => {
      const issued = await call('localhost', '/__admin/token', { ca, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ib-root', tenant }) });
      assert.equal(issued.status, 200, issued.body);
      return JSON.parse(issued.body).access_token;
    };
    const path = '/masterdataapi/IB/masterdataapi/Technologies?$top=1';
    const as = (token: string, host?: string) => ({ ca, headers: { accept: 'application/json', 'user-agent': 'hosts-mode-test/1.0', authorization: `Bearer ${token}`, ...(host ? { host } : {}) } });
    const demo = await token('gcrfdemo');
    const prod = await token('gcrfr');
    for (const [host, own, other, otherTenant] of [
      ['eexfrancedemoapi.grexel.com', demo, prod, 'gcrfr'],
      ['eexfranceapi.grexel.com', prod, demo, 'gcrfdemo'],
    ] as const) {
      assert.equal((await call(host, path, as(own))).status, 200, `${host}, its own tenant`);
      const refused = await call(host, path, as(other));
      assert.equal(refused.status, 401, `${host}, the other tenant: ${refused.body}`);
      assert.equal(JSON.parse(refused.body).responseCode, 'AUTH_001');
      assert.match(String(refused.headers['www-authenticate']), new RegExp(`from the B2C tenant ${otherTenant}, and ${host.replace(/\./g, '\\.')} takes tokens of`));
      // With the port in Host, as a client of a mock on another port than 443 sends it.
      assert.equal((await call(host, path, as(other, `${host}:${new URL(mock.url).port}`))).status, 401, `${host}:port`);
    }
    for (const local of ['localhost', '127.0.0.1']) {
      for (const either of [demo, prod]) assert.equal((await call(local, path, as(either))).status, 200, `${local} takes both tenants' tokens`);
    }
  });
});

describe('hosts mode on a fresh cache', () => {
  it('two mocks started at once make one authority, and each serves a certificate the ca.pem it printed signed', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'grex-tls-cache-'));
    const started = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'mock', '--tls', '--port', '0'], { cwd: ROOT, env: { ...process.env, GREX_HARNESS_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
      const banner = new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`no Ready line in 60 s: ${text}`)), 60_000);
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('Ready.')) {
            clearTimeout(timer);
            resolve(text);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${text}`)));
      });
      return { child, banner };
    });
    try {
      for (const { banner } of started) {
        const text = await banner;
        const url = /listening on (https:\/\/\S+)/.exec(text)?.[1] as string;
        const caFile = /trust the certificate authority (\S+)/.exec(text)?.[1] as string;
        assert.equal(caFile, join(cache, 'tls', 'ca.pem'));
        const reply = await call('eexfrancedemoapi.grexel.com', '/__admin/health', { ca: readFileSync(caFile, 'utf8'), url });
        assert.equal(reply.status, 200);
      }
    } finally {
      for (const { child } of started) child.kill('SIGKILL');
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
