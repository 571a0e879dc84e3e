import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_FAIR_USE } from '../mock/fairuse.js';
import { DEFAULT_FIREWALL, type FirewallConfig } from '../mock/firewall.js';
import { startMock, type RunningMock } from '../mock/server.js';

/**
 * The gateway firewall (manual 1.3.1 and the note after Figure 31), over
 * HTTP with node:http: fetch adds Accept, User-Agent and friends by itself,
 * and these tests need to leave them out one by one.
 */

const ACCOUNTS = '/managementapi/AH/managementapi/Accounts';
const LIST = `${ACCOUNTS}?$top=2&$skip=0`;
/** An account of eolien-trader's organisation (the fixtures are seeded). */
const OWN_ACCOUNT = '643003000000000001';
const B2C_KEYS = '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/discovery/v2.0/keys';
const UA = 'grex-firewall-test/1.0';

interface Sent {
  method?: string;
  path: string;
  token?: string;
  /** Headers added to (or replacing) the complete set a well-behaved client sends. */
  headers?: Record<string, string>;
  /** Header names (lower-case) to leave out; `host` turns node:http's own Host off. */
  omit?: string[];
  body?: string;
  /** Send the body chunked (Transfer-Encoding), without Content-Length. */
  chunked?: boolean;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

const q = encodeURIComponent;

function send(base: string, sent: Sent): Promise<Answer> {
  const url = new URL(sent.path, base);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': UA };
  if (sent.body !== undefined) headers['content-type'] = 'application/json';
  if (sent.token) headers.authorization = `Bearer ${sent.token}`;
  Object.assign(headers, sent.headers);
  for (const name of sent.omit ?? []) delete headers[name];
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: sent.method ?? 'GET', path: `${url.pathname}${url.search}`, headers, agent: false, setHost: !sent.omit?.includes('host') },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (sent.body !== undefined && sent.chunked) {
      // Written before end: node:http sends it chunked, with no Content-Length.
      req.write(sent.body);
      req.end();
    } else req.end(sent.body); // node:http adds Content-Length for a body given to end().
  });
}

/** An HTTP/1.0 request on a bare socket: the only way to reach the mock without Host (node:http answers 400 to HTTP/1.1 without it). */
function sendHttp10(base: string, path: string, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET ${path} HTTP/1.0\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`);
    });
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (raw += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const split = raw.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = raw.slice(0, split).split('\r\n');
      const parsed: IncomingHttpHeaders = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers: parsed, text: raw.slice(split + 4) });
    });
  });
}

/** The gateway's answer: 403, its HTML page (not the JSON envelope) and, with diagnostics, the rule. */
function expectFirewall(answer: Answer, rule: string, diagnostics = true): void {
  assert.equal(answer.status, 403, answer.text);
  assert.match(String(answer.headers['content-type']), /^text\/html/);
  assert.match(answer.text, /403 Forbidden/);
  assert.equal(answer.headers['x-grex-firewall-rule'], diagnostics ? rule : undefined);
}

/** The firewall let it through: whatever the API then answers, it is not the gateway's page. */
function expectPassed(answer: Answer, status?: number): void {
  assert.equal(answer.headers['x-grex-firewall-rule'], undefined, answer.text);
  assert.doesNotMatch(String(answer.headers['content-type']), /^text\/html/, answer.text);
  if (status !== undefined) assert.equal(answer.status, status, answer.text);
}

interface Harness {
  mock: RunningMock;
  send(sent: Sent): Promise<Answer>;
  admin(method: string, path: string, body?: unknown): Promise<Answer>;
  token(user?: string): Promise<string>;
}

async function boot(firewall: Partial<FirewallConfig>): Promise<Harness> {
  const mock = await startMock({ port: 0, host: '127.0.0.1', fairUse: { ...DEFAULT_FAIR_USE, enabled: false }, firewall: { ...DEFAULT_FIREWALL, ...firewall } });
  const admin = (method: string, path: string, body?: unknown): Promise<Answer> => send(mock.url, { method, path, body: body === undefined ? undefined : JSON.stringify(body) });
  return {
    mock,
    send: (sent) => send(mock.url, sent),
    admin,
    async token(user = 'eolien-trader') {
      const answer = await admin('POST', '/__admin/token', { user });
      assert.equal(answer.status, 200, answer.text);
      return (JSON.parse(answer.text) as { access_token: string }).access_token;
    },
  };
}

describe('firewall, realistic profile (the default): required headers', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    h = await boot({ blockAfter: 1_000_000 });
    token = await h.token();
  });
  after(() => h.mock.close());

  it('a normal API call with every header passes (200)', async () => {
    const answer = await h.send({ path: LIST, token });
    expectPassed(answer, 200);
    assert.equal((JSON.parse(answer.text) as unknown[]).length, 2);
  });

  it('header-accept: no Accept is refused; any Accept passes', async () => {
    expectFirewall(await h.send({ path: LIST, token, omit: ['accept'] }), 'header-accept');
    expectFirewall(await h.send({ path: LIST, token, headers: { accept: '' } }), 'header-accept');
    expectPassed(await h.send({ path: LIST, token, headers: { accept: '*/*' } }), 200);
  });

  it('header-user-agent: no User-Agent is refused; curl\'s passes', async () => {
    expectFirewall(await h.send({ path: LIST, token, omit: ['user-agent'] }), 'header-user-agent');
    expectPassed(await h.send({ path: LIST, token, headers: { 'user-agent': 'curl/8.5.0' } }), 200);
  });

  it('header-host: no Host is refused, over HTTP/1.0 and HTTP/1.1; with Host it passes', async () => {
    const authorization = `Bearer ${token}`;
    const base = { accept: 'application/json', 'user-agent': UA, authorization };
    expectFirewall(await sendHttp10(h.mock.url, LIST, base), 'header-host');
    expectPassed(await sendHttp10(h.mock.url, LIST, { ...base, host: new URL(h.mock.url).host }), 200);
    // The mock's server lets an HTTP/1.1 request without Host through to the gateway, which refuses it as G-REX does.
    expectFirewall(await h.send({ path: LIST, token, omit: ['host'] }), 'header-host');
  });

  it('the first missing header names the rule; the journal records it with every missing header', async () => {
    await h.admin('DELETE', '/__admin/journal');
    expectFirewall(await h.send({ path: LIST, token, omit: ['accept', 'user-agent'] }), 'header-accept');
    const lines = (await h.admin('GET', '/__admin/journal')).text.trim().split('\n').map((line) => JSON.parse(line));
    const rejected = lines.flatMap((line) => line.decisions).find((decision: { stage: string }) => decision.stage === 'firewall');
    assert.equal(rejected.outcome, 'reject');
    assert.equal(rejected.code, 'header-accept');
    assert.match(rejected.detail, /Accept, User-Agent/);
  });

  it('a GET without Content-Type and Content-Length passes (what Postman and curl send)', async () => {
    const answer = await h.send({ path: LIST, token, omit: ['content-type', 'content-length'] });
    expectPassed(answer, 200);
  });

  it('header-content-type: a body without Content-Type is refused; a POST with Content-Length: 0 needs none', async () => {
    expectFirewall(await h.send({ method: 'POST', path: ACCOUNTS, token, body: '{"name":"x"}', omit: ['content-type'] }), 'header-content-type');
    expectPassed(await h.send({ method: 'POST', path: ACCOUNTS, token, headers: { 'content-length': '0' } }));
    expectPassed(await h.send({ method: 'POST', path: ACCOUNTS, token, body: '{"name":"x"}' }));
  });

  it('header-content-length: a chunked body (Transfer-Encoding, no Content-Length) is refused; the same body with its length passes', async () => {
    expectFirewall(await h.send({ method: 'POST', path: ACCOUNTS, token, body: '{"name":"x"}', chunked: true }), 'header-content-length');
    expectPassed(await h.send({ method: 'POST', path: ACCOUNTS, token, body: '{"name":"x"}' }));
  });

  it('B2C is Microsoft\'s service, not behind the G-REX gateway: no User-Agent, no Accept, still 200', async () => {
    const answer = await h.send({ path: B2C_KEYS, omit: ['user-agent', 'accept'] });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.headers['x-grex-firewall-rule'], undefined);
  });
});

describe('firewall, strict profile: all five headers on every request', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    h = await boot({ profile: 'strict', blockAfter: 1_000_000 });
    token = await h.token();
  });
  after(() => h.mock.close());

  it('header-content-type and header-content-length on a GET too; a GET with both passes', async () => {
    expectFirewall(await h.send({ path: LIST, token }), 'header-content-type');
    expectFirewall(await h.send({ path: LIST, token, headers: { 'content-type': 'application/json' } }), 'header-content-length');
    expectPassed(await h.send({ path: LIST, token, headers: { 'content-type': 'application/json', 'content-length': '0' } }), 200);
  });

  it('a POST with a body and its headers passes; without Content-Type it is refused', async () => {
    expectPassed(await h.send({ method: 'POST', path: ACCOUNTS, token, body: '{"name":"x"}' }));
    expectFirewall(await h.send({ method: 'POST', path: ACCOUNTS, token, body: '{"name":"x"}', omit: ['content-type'] }), 'header-content-type');
  });
});

describe('firewall: payload rules on query values and body strings', () => {
  let h: Harness;
  let token: string;
  const filter = (text: string): string => `${LIST}&$filter=${q(text)}`;
  const post = (body: unknown, contentType = 'application/json'): Promise<Answer> =>
    h.send({ method: 'POST', path: ACCOUNTS, token, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } });
  before(async () => {
    h = await boot({ blockAfter: 1_000_000 });
    token = await h.token();
  });
  after(() => h.mock.close());

  it('near misses: an OData filter with quotes, or, a date, an ellipsis, and < > in text all pass', async () => {
    const one = await h.send({ path: filter(`accountNumber eq '${OWN_ACCOUNT}'`), token });
    expectPassed(one, 200);
    assert.equal((JSON.parse(one.text) as { accountNumber: string }[])[0].accountNumber, OWN_ACCOUNT);
    expectPassed(await h.send({ path: filter(`accountNumber eq '${OWN_ACCOUNT}' or name eq 'O''Brien'`), token }), 200);
    expectPassed(await h.send({ path: filter('createdAt ge 2019-05-01'), token }), 200);
    expectPassed(await h.send({ path: filter("name eq 'to be continued...' or name eq 'Parc <Nord> data center'"), token }), 200);
    expectPassed(await post({ name: 'Négoce 2025-05-01', note: "l'éolien, d'Arcy", when: '2025-05-01T00:00:00Z', list: ['metadata: ok', 'select union'] }));
  });

  it('url-scheme: http://, https://, ftp://, file://, javascript:, data: in a query value or a body string, any case', async () => {
    expectFirewall(await h.send({ path: `${LIST}&callback=${q('https://evil.example')}`, token }), 'url-scheme');
    expectFirewall(await h.send({ path: filter("name eq 'HTTP://x'"), token }), 'url-scheme');
    for (const value of ['ftp://host', 'file://etc', 'JavaScript:alert(1)', 'data:text/html;base64,AAAA']) {
      expectFirewall(await post({ name: value }), 'url-scheme');
    }
    expectPassed(await post({ name: 'https and http are schemes', comment: 'Metering data: 5 MWh, javascript is off' }));
  });

  it('slash: the manual\'s "/" (and "\\") in a value; a date with dashes passes', async () => {
    expectFirewall(await h.send({ path: filter(`accountNumber eq '6430/03'`), token }), 'slash');
    expectFirewall(await post({ name: 'A\\B' }), 'slash');
    expectFirewall(await post({ name: 'ok', period: { from: '01/05/2025' } }), 'slash');
    expectPassed(await post({ name: 'ok', period: { from: '2025-05-01' } }));
  });

  it('path-traversal: ../ and ..\\ in values, %2e%2e raw or decoded, and in parameter names', async () => {
    expectFirewall(await h.send({ path: `${LIST}&file=${q('../../etc/passwd')}`, token }), 'path-traversal');
    expectFirewall(await h.send({ path: `${LIST}&file=%2e%2e%2fsecret`, token }), 'path-traversal');
    expectFirewall(await h.send({ path: `${LIST}&file=%252e%252e`, token }), 'path-traversal');
    expectFirewall(await h.send({ path: `${LIST}&${q('../x')}=1`, token }), 'path-traversal');
    expectFirewall(await post({ name: '..\\windows' }), 'path-traversal');
    expectPassed(await h.send({ path: `${LIST}&note=${q('v1..2')}`, token }), 200);
  });

  it('script: <script, onerror=, onload=, <iframe, <svg, also behind JSON \\u escapes', async () => {
    expectFirewall(await h.send({ path: `${LIST}&q=${q('<SCRIPT>alert(1)')}`, token }), 'script');
    for (const value of ['<img src=x onerror=alert(1)>', '<body onload = x>', '<iframe src=x>', '<svg>']) expectFirewall(await post({ name: value }), 'script');
    expectFirewall(await post('{"name":"\\u003cscript\\u003e"}'), 'script');
    expectPassed(await post({ name: 'Script & scripting, download = 3, <b>' }));
  });

  it('sql: the classic injections, any case; a lone quote passes', async () => {
    expectFirewall(await h.send({ path: filter("name eq '' or '1'='1'"), token }), 'sql');
    expectFirewall(await h.send({ path: `${LIST}&id=${q("1' OR 1=1")}`, token }), 'sql');
    for (const value of ['x UNION SELECT password', "x';--", 'x; drop table accounts', "x'; DELETE FROM users", 'SLEEP(5)']) {
      expectFirewall(await post({ nested: { deep: [1, { name: value }] } }), 'sql');
    }
    expectPassed(await post({ name: "Compte d'Oc", comment: 'select the union; then sleep (8 hours)' }));
  });

  it('form bodies are checked like queries', async () => {
    expectFirewall(await post(`name=${q('https://evil.example')}`, 'application/x-www-form-urlencoded'), 'url-scheme');
    expectPassed(await post('name=Compte+2025-05-01', 'application/x-www-form-urlencoded'));
  });

  it('a body that is not JSON is left to the API (its own 400, as JSON)', async () => {
    const root = await h.token('soleil-root');
    const answer = await h.send({ method: 'POST', path: ACCOUNTS, token: root, body: '{"name": "https://evil.example"' });
    expectPassed(answer, 400);
    assert.match((JSON.parse(answer.text) as { responseCode: string }).responseCode, /^ACCOUNT_00[24]$/);
  });

  it('B2C paths are not subject to the G-REX payload rules', async () => {
    expectPassed(await h.send({ path: `${B2C_KEYS}?x=${q('https://a/b')}` }), 200);
  });
});

describe('firewall: diagnostics off answers exactly as G-REX', () => {
  let h: Harness;
  before(async () => {
    h = await boot({ diagnostics: false, blockAfter: 1_000_000 });
  });
  after(() => h.mock.close());

  it('403 and the HTML page, without x-grex-firewall-rule; the journal still knows the rule', async () => {
    const token = await h.token();
    expectFirewall(await h.send({ path: LIST, token, omit: ['user-agent'] }), 'header-user-agent', false);
    expectFirewall(await h.send({ path: `${LIST}&x=${q('a/b')}`, token }), 'slash', false);
    const journal = (await h.admin('GET', '/__admin/journal')).text;
    assert.match(journal, /"code":"header-user-agent"/);
    assert.match(journal, /"code":"slash"/);
  });
});

describe('firewall: repeated violations block the client, on the mock clock', () => {
  let h: Harness;
  const violate = async (token: string): Promise<void> => {
    expectFirewall(await h.send({ path: LIST, token, omit: ['accept'] }), 'header-accept');
    expectFirewall(await h.send({ path: `${LIST}&x=${q('a/b')}`, token }), 'slash');
    expectFirewall(await h.send({ path: `${LIST}&x=${q('<svg>')}`, token }), 'script');
  };
  before(async () => {
    h = await boot({ blockAfter: 3, blockWindowSeconds: 300, blockSeconds: 600 });
  });
  after(() => h.mock.close());

  it('blockAfter violations block every request (rule blocked) until blockSeconds have passed', async () => {
    await h.admin('POST', '/__admin/reset');
    const token = await h.token();
    expectPassed(await h.send({ path: LIST, token }), 200);
    await violate(token);
    expectFirewall(await h.send({ path: LIST, token }), 'blocked');
    expectFirewall(await h.send({ path: `${ACCOUNTS}/${OWN_ACCOUNT}`, token }), 'blocked');
    const blocks = h.mock.app.firewall.blocks();
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0].client, '127.0.0.1');
    assert.equal(blocks[0].rule, 'script');
    // The mock's clock runs on between the blocking violation and this look.
    const left = blocks[0].until - h.mock.app.clock.now();
    assert.ok(left > 590_000 && left <= 600_000, `blocked for ${left} ms more`);
    // Neither the admin API nor B2C stands behind the gateway: a blocked client still reaches them.
    assert.equal((await h.admin('GET', '/__admin/health')).status, 200);
    assert.equal((await h.send({ path: B2C_KEYS })).status, 200);

    assert.equal((await h.admin('POST', '/__admin/clock', { advance: 'PT9M' })).status, 200);
    expectFirewall(await h.send({ path: LIST, token }), 'blocked');
    assert.equal((await h.admin('POST', '/__admin/clock', { advance: 'PT2M' })).status, 200);
    expectPassed(await h.send({ path: LIST, token }), 200);
    assert.deepEqual(h.mock.app.firewall.blocks(), []);
  });

  it('the block lasts blockSeconds from the blocking violation (PT11M lifts a 600 s block)', async () => {
    await h.admin('POST', '/__admin/reset');
    const token = await h.token();
    await violate(token);
    expectFirewall(await h.send({ path: LIST, token }), 'blocked');
    await h.admin('POST', '/__admin/clock', { advance: 'PT11M' });
    expectPassed(await h.send({ path: LIST, token }), 200);
  });

  it('violations outside blockWindowSeconds do not add up', async () => {
    await h.admin('POST', '/__admin/reset');
    const token = await h.token();
    expectFirewall(await h.send({ path: LIST, token, omit: ['accept'] }), 'header-accept');
    expectFirewall(await h.send({ path: LIST, token, omit: ['accept'] }), 'header-accept');
    await h.admin('POST', '/__admin/clock', { advance: 'PT6M' });
    expectFirewall(await h.send({ path: LIST, token, omit: ['accept'] }), 'header-accept');
    expectFirewall(await h.send({ path: LIST, token, omit: ['accept'] }), 'header-accept');
    expectPassed(await h.send({ path: LIST, token }), 200);
    expectFirewall(await h.send({ path: LIST, token, omit: ['accept'] }), 'header-accept');
    expectFirewall(await h.send({ path: LIST, token }), 'blocked');
  });

  it('POST /__admin/reset lifts every block', async () => {
    await h.admin('POST', '/__admin/reset');
    const token = await h.token();
    await violate(token);
    expectFirewall(await h.send({ path: LIST, token }), 'blocked');
    assert.equal((await h.admin('POST', '/__admin/reset')).status, 200);
    assert.deepEqual(h.mock.app.firewall.blocks(), []);
    expectPassed(await h.send({ path: LIST, token: await h.token() }), 200);
  });
});
