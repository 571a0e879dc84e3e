import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, runCli, runCliAsync, startCliMock, type StartedMock } from './support/cli.js';
import { PUBLIC_REPORTS_SWAGGER, writeDemoContracts } from './support/demo-contracts.js';
import { replyOf, type Reply } from './support/mock.js';

/**
 * G-REX's own contracts, through the CLI and HTTP as a user meets them: a
 * second mock stands in for DEMO and publishes deliberately altered
 * documents (a renamed field, a new operation, a removed status, a Swagger
 * 2.0 file); `contracts pull` gets them, `contracts diff` names each
 * difference with its class, and `mock --contracts` serves them.
 */
const scratch = mkdtempSync(join(tmpdir(), 'grex-contracts-pull-'));
const published = join(scratch, 'published');
const pulled = join(scratch, 'pulled');
let standIn: StartedMock;

before(async () => {
  writeDemoContracts(published);
  standIn = await startCliMock(['--contracts', published]);
});
after(async () => {
  await standIn?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const SIX = ['certificatecreationapi', 'managementapi', 'masterdataapi', 'privatereportsapi', 'publicreportsapi', 'transactionapi'];

async function get(base: string, path: string, options: { token?: string; accept?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json', 'user-agent': 'contracts-test/1.0' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return replyOf(await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(30_000) }));
}

async function send(base: string, method: string, path: string, body: unknown, token: string): Promise<Reply> {
  const headers = { accept: 'application/json', 'user-agent': 'contracts-test/1.0', 'content-type': 'application/json', authorization: `Bearer ${token}` };
  return replyOf(await fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) }));
}

async function tokenOf(base: string, user: string): Promise<string> {
  const reply = await replyOf(await fetch(`${base}/__admin/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) }));
  assert.equal(reply.status, 200, reply.text);
  return reply.json.access_token as string;
}

/** The differences of one API in `contracts diff --format json`, one line each: `impact kind operation: text`. */
const linesOf = (report: any, api: string): string[] =>
  (report.apis.find((entry: any) => entry.api === api)?.differences ?? [])
    .map((item: any) => `${item.impact} ${item.kind} ${item.operation}: ${item.text}`)
    .sort();

const MANAGEMENT_DIFFERENCES = [
  'breaking field-renamed ahCreateAccount: request body: accountName is name in the contract (renamed)',
  'breaking field-renamed ahGetAccount: response 200: accountName is name in the contract (renamed)',
  'breaking field-renamed ahGetAccounts: response 200: [].accountName is [].name in the contract (renamed)',
  'breaking field-renamed ibGetAccount: response 200: accountName is name in the contract (renamed)',
  'breaking field-renamed ibGetAccounts: response 200: [].accountName is [].name in the contract (renamed)',
  'non-breaking status-missing ahGetAccount: status 404 is in the contract, not in G-REX',
];

const PUBLIC_REPORTS_DIFFERENCES = [
  "breaking operation-missing getAuctionResults: in the contract, not in G-REX's document",
  "breaking operation-missing getCancelledVolumes: in the contract, not in G-REX's document",
  "breaking operation-missing getExpiredVolumes: in the contract, not in G-REX's document",
  "breaking operation-missing getIssuedVolumes: in the contract, not in G-REX's document",
  "breaking operation-missing getProductionDevices: in the contract, not in G-REX's document",
  'non-breaking operation-added Auctions_Get: in G-REX, not in the contract',
];

describe('contracts pull from a stand-in for DEMO', () => {
  it('gets the six swagger.json documents, keeps each as it came with its source and date, and converts the Swagger 2.0 one', () => {
    const started = Date.now();
    const run = runCli(['contracts', 'pull', '--target', standIn.url, '--out', pulled]);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /6 of 6 pulled/);
    const manifest = JSON.parse(readFileSync(join(pulled, 'pull.json'), 'utf8'));
    assert.equal(manifest.target, standIn.url);
    assert.deepEqual(manifest.failures, []);
    assert.deepEqual(manifest.documents.map((entry: any) => entry.api), SIX);
    for (const entry of manifest.documents) {
      assert.equal(entry.url, `${standIn.url}/${entry.api}/${entry.version}/swagger.json`);
      assert.ok(Date.parse(entry.fetchedAt) >= started - 1000 && Date.parse(entry.fetchedAt) <= Date.now(), entry.fetchedAt);
      const bytes = readFileSync(join(pulled, entry.original));
      assert.equal(entry.bytes, bytes.length);
      assert.equal(entry.sha256, createHash('sha256').update(bytes).digest('hex'));
      const converted = JSON.parse(readFileSync(join(pulled, entry.file), 'utf8'));
      assert.match(converted.openapi, /^3\.0\./);
      assert.equal(converted.info['x-grex'].api, entry.api);
      assert.equal(converted.info['x-grex-pulled'].source, entry.url);
    }
    const publicReports = manifest.documents.find((entry: any) => entry.api === 'publicreportsapi');
    assert.equal(publicReports.format, 'Swagger 2.0');
    assert.equal(manifest.documents.find((entry: any) => entry.api === 'managementapi').format, 'OpenAPI 3.0.3');
    // As it came: the stand-in's Swagger 2.0, byte for byte what it served (its own address in `host`).
    const original = JSON.parse(readFileSync(join(pulled, publicReports.original), 'utf8'));
    const fixture = JSON.parse(readFileSync(PUBLIC_REPORTS_SWAGGER, 'utf8'));
    assert.deepEqual({ ...original, host: fixture.host, schemes: fixture.schemes }, fixture);
    assert.equal(original.host, new URL(standIn.url).host);
    const converted = JSON.parse(readFileSync(join(pulled, publicReports.file), 'utf8'));
    assert.equal(converted.paths['/publicreportsapi/Auctions'].get.operationId, 'Auctions_Get');
    assert.ok(converted.components.schemas.AuctionDto);
  });

  it('diff names each planted difference with its class, finds none in the four unchanged APIs, and exits 1', () => {
    const run = runCli(['contracts', 'diff', pulled, '--format', 'json']);
    assert.equal(run.status, 1, run.stderr);
    const report = JSON.parse(run.stdout);
    for (const api of ['certificatecreationapi', 'masterdataapi', 'privatereportsapi', 'transactionapi']) assert.deepEqual(linesOf(report, api), [], api);
    assert.deepEqual(linesOf(report, 'managementapi'), MANAGEMENT_DIFFERENCES);
    assert.deepEqual(linesOf(report, 'publicreportsapi'), PUBLIC_REPORTS_DIFFERENCES);
    assert.equal(report.breaking, 10);
    assert.equal(report.nonBreaking, 2);
    const management = report.apis.find((entry: any) => entry.api === 'managementapi');
    assert.equal(management.source, `${standIn.url}/managementapi/v2/swagger.json`);
    assert.equal(management.matched, 23);

    const text = runCli(['contracts', 'diff', pulled]);
    assert.equal(text.status, 1);
    assert.match(text.stdout, /^ {2}breaking {6}ahCreateAccount {2}POST \/AH\/managementapi\/Accounts {2}request body: accountName is name in the contract \(renamed\)$/m);
    assert.match(text.stdout, /^ {2}2 operations in both, 1 only in G-REX, 5 only in the contract; 5 breaking, 1 non-breaking differences$/m);
    assert.match(text.stdout, /^Total: 10 breaking, 2 non-breaking differences in 6 documents\.$/m);
  });

  it('diff reads swagger.json files saved by hand (no pull.json) the same way, Swagger 2.0 included', () => {
    const run = runCli(['contracts', 'diff', published, '--format', 'json']);
    assert.equal(run.status, 1, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.deepEqual(linesOf(report, 'managementapi'), MANAGEMENT_DIFFERENCES);
    assert.deepEqual(linesOf(report, 'publicreportsapi'), PUBLIC_REPORTS_DIFFERENCES);
    assert.deepEqual(report.notPulled, ['certificatecreationapi v1', 'masterdataapi v2', 'privatereportsapi v1', 'transactionapi v1']);
  });

  it('diff reads a swagger.json linked into the folder (saved elsewhere) as the file it links to', () => {
    const linked = join(scratch, 'linked');
    mkdirSync(linked);
    symlinkSync(join(published, 'managementapi.json'), join(linked, 'managementapi.json'));
    const run = runCli(['contracts', 'diff', linked, '--format', 'json']);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.deepEqual(linesOf(JSON.parse(run.stdout), 'managementapi'), MANAGEMENT_DIFFERENCES);
  });

  it('diff exits 0 when nothing breaks a client', () => {
    const calm = join(scratch, 'calm');
    mkdirSync(calm);
    copyFileSync(join(pulled, 'masterdataapi-v2.openapi.json'), join(calm, 'masterdataapi.json'));
    const run = runCli(['contracts', 'diff', calm]);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /Total: 0 breaking, 0 non-breaking differences in 1 document\./);
  });
});

describe('mock --contracts serves the pulled documents', () => {
  let served: StartedMock;
  before(async () => {
    served = await startCliMock(['--contracts', pulled, '--self-check']);
  });
  after(() => served?.stop());

  it('lists in its banner which operations keep the handlers, which answer from examples, and what is not served', () => {
    assert.match(served.banner, /Public Reports API \(publicreportsapi v1\): \S+publicreportsapi-v1\.openapi\.json, Swagger 2\.0, pulled \S+ from http:\/\/127\.0\.0\.1:\d+\/publicreportsapi\/v1\/swagger\.json/);
    assert.match(served.banner, /from the document's examples \(1\):\n +Auctions_Get \(GET \/publicreportsapi\/Auctions\)/);
    assert.match(served.banner, /AccountHolders_Get \(handler getAccountHolders\)/);
    assert.match(served.banner, /ahGetAccount \(renamed: accountName=name\)/);
    assert.match(served.banner, /not in the document, not served \(5\):\n +getProductionDevices, getIssuedVolumes/);
  });

  it('answers the new operation from its example, paged, and no longer the operations G-REX does not have', async () => {
    const fixture = JSON.parse(readFileSync(PUBLIC_REPORTS_SWAGGER, 'utf8'));
    const example = fixture.paths['/publicreportsapi/Auctions'].get.responses['200'].examples['application/json'];
    const auctions = await get(served.url, '/publicreportsapi/publicreportsapi/Auctions?$top=10&$skip=0');
    assert.equal(auctions.status, 200, auctions.text);
    assert.equal(auctions.headers.get('x-grex-self-check'), null);
    assert.deepEqual(auctions.json, example);
    assert.deepEqual((await get(served.url, '/publicreportsapi/publicreportsapi/Auctions?$top=10&$skip=1')).json, []);
    const tooMany = await get(served.url, '/publicreportsapi/publicreportsapi/Auctions?$top=501');
    assert.equal(tooMany.json.responseCode, 'REQUEST_002', tooMany.text);
    assert.equal((await get(served.url, '/publicreportsapi/publicreportsapi/IssuedVolumes')).json.responseCode, 'ROUTE_001');
    const holders = await get(served.url, '/publicreportsapi/publicreportsapi/AccountHolders?$top=3&$skip=0');
    assert.equal(holders.status, 200, holders.text);
    assert.equal(holders.json.length, 3);
  });

  it('serves the renamed field both ways: answers say accountName, a create request takes accountName and refuses name', async () => {
    const token = await tokenOf(served.url, 'eolien-root');
    const accounts = await get(served.url, '/managementapi/AH/managementapi/Accounts?$top=5&$skip=0', { token });
    assert.equal(accounts.status, 200, accounts.text);
    assert.equal(accounts.headers.get('x-grex-self-check'), null, accounts.text);
    for (const account of accounts.json) {
      assert.equal(typeof account.accountName, 'string');
      assert.equal('name' in account, false);
    }
    const created = await send(served.url, 'POST', '/managementapi/AH/managementapi/Accounts', { accountName: 'Compte PPA 2027', standardAssociation: 'EECS-GO' }, token);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.responseCode, 'ACCOUNT_201');
    const number = /Account number: (\d{18})/.exec(created.json.responseMessage)?.[1];
    const account = await get(served.url, `/managementapi/AH/managementapi/Accounts/${number}`, { token });
    assert.equal(account.status, 200, account.text);
    assert.equal(account.json.accountName, 'Compte PPA 2027');
    const refused = await send(served.url, 'POST', '/managementapi/AH/managementapi/Accounts', { name: 'Compte PPA 2027', standardAssociation: 'EECS-GO' }, token);
    assert.equal(refused.status, 400);
    assert.equal(refused.json.responseCode, 'ACCOUNT_002');
    assert.match(refused.json.responseMessage, /Error in: accountName, name\./);
  });

  it('filters and orders by the renamed field as G-REX names it ($filter accountName), and refuses the contract\'s name', async () => {
    const token = await tokenOf(served.url, 'eolien-root');
    const all = await get(served.url, '/managementapi/AH/managementapi/Accounts?$top=50&$skip=0', { token });
    const names = (all.json as { accountName: string }[]).map((account) => account.accountName);
    const wanted = names[names.length - 1];
    const filter = encodeURIComponent(`accountName eq '${wanted.replaceAll("'", "''")}'`);
    const found = await get(served.url, `/managementapi/AH/managementapi/Accounts?$top=50&$skip=0&$filter=${filter}`, { token });
    assert.equal(found.status, 200, found.text);
    assert.ok(found.json.length >= 1, found.text);
    for (const account of found.json) assert.equal(account.accountName, wanted);
    const ordered = await get(served.url, `/managementapi/AH/managementapi/Accounts?$top=50&$skip=0&$orderby=${encodeURIComponent('accountName desc')}`, { token });
    assert.equal(ordered.status, 200, ordered.text);
    assert.deepEqual(ordered.json.map((account: { accountName: string }) => account.accountName), [...names].sort().reverse());
    const theirs = await get(served.url, `/managementapi/AH/managementapi/Accounts?$top=50&$skip=0&$filter=${encodeURIComponent(`name eq '${wanted}'`)}`, { token });
    assert.equal(theirs.status, 400, theirs.text);
    assert.match(theirs.json.responseMessage, /unknown field 'name'/);
  });

  it('says so when its domain answers a status G-REX removed from the document (self-check)', async () => {
    const token = await tokenOf(served.url, 'eolien-root');
    const missing = await get(served.url, '/managementapi/AH/managementapi/Accounts/643003000000009999', { token });
    assert.equal(missing.status, 500);
    assert.equal(missing.headers.get('x-grex-self-check'), 'failed');
    assert.match(missing.json.responseMessage, /ahGetAccount answered 404 against its contract: status 404 is not documented/);
  });

  it("serves G-REX's documents at swagger.json, as they came, at the mock's address", async () => {
    const swagger = await get(served.url, '/publicreportsapi/v1/swagger.json');
    assert.equal(swagger.json.swagger, '2.0');
    assert.equal(swagger.json.host, new URL(served.url).host);
    assert.ok(swagger.json.paths['/publicreportsapi/Auctions']);
    const openapi = await get(served.url, '/managementapi/v2/swagger.json');
    assert.equal(openapi.json.servers[0].url, `${served.url}/managementapi`);
    assert.ok(openapi.json.components.schemas.Account.properties.accountName);
  });

  it('grade --contracts checks traffic against the served documents; without it, against the reconstructed ones', async () => {
    const journal = await get(served.url, '/__admin/journal');
    assert.equal(journal.status, 200);
    // Traffic recorded elsewhere (no mock verdicts in it): the grader checks each request against the contracts itself.
    const recorded = join(scratch, 'recorded.ndjson');
    const lines = journal.text.trim().split('\n').map((line) => {
      const { decisions: _decisions, operationId: _operationId, ...exchange } = JSON.parse(line);
      return JSON.stringify({ ...exchange, decisions: [] });
    });
    writeFileSync(recorded, `${lines.join('\n')}\n`);
    const offenders = (args: string[]): string[] => {
      const out = mkdtempSync(join(scratch, 'grade-'));
      runCli(['grade', recorded, '--out', out, '--format', 'json', ...args]);
      const rule = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).rules.find((candidate: any) => candidate.rule === 'request-contract');
      return rule.evidence.map((finding: any) => finding.reason).sort();
    };
    const reconstructed = offenders([]).join('\n');
    assert.match(reconstructed, /GET \/publicreportsapi\/publicreportsapi\/Auctions: GET \/publicreportsapi\/publicreportsapi\/Auctions: no operation of the contracts has this path/);
    assert.match(reconstructed, /POST \/managementapi\/AH\/managementapi\/Accounts: .*name/);
    // Against G-REX's documents, what is left is what the client really sent wrong there: $top=501, an operation G-REX does not have, the create request with the old name.
    const againstServed = offenders(['--contracts', pulled]);
    assert.deepEqual(
      againstServed.map((reason) => reason.split(':')[0]),
      ['GET /publicreportsapi/publicreportsapi/Auctions', 'GET /publicreportsapi/publicreportsapi/IssuedVolumes', 'POST /managementapi/AH/managementapi/Accounts'],
      againstServed.join('\n'),
    );
    assert.match(againstServed[0], /\$top must be <= 500/);
    assert.match(againstServed[2], /accountName/);
  });
});

describe('mock --contracts: an operation only G-REX has, without an example', () => {
  let served: StartedMock;
  before(async () => {
    // Swashbuckle writes [StringLength] and [Range] as bounds, and rarely an example.
    const dir = join(scratch, 'no-example');
    mkdirSync(dir);
    const swagger = JSON.parse(readFileSync(PUBLIC_REPORTS_SWAGGER, 'utf8'));
    swagger.paths['/publicreportsapi/Lots'] = {
      get: { operationId: 'Lots_Get', produces: ['application/json'], responses: { '200': { description: 'Success', schema: { type: 'array', items: { $ref: '#/definitions/LotDto' } } } } },
    };
    swagger.definitions.LotDto = {
      type: 'object',
      required: ['code', 'reference', 'volume', 'price'],
      properties: {
        code: { type: 'string', minLength: 1, maxLength: 4 },
        reference: { type: 'string', minLength: 10, maxLength: 12 },
        volume: { type: 'integer', format: 'int32', minimum: 1, maximum: 1000 },
        price: { type: 'number', minimum: 0, exclusiveMinimum: true },
        delta: { type: 'integer', maximum: -1 },
      },
    };
    writeFileSync(join(dir, 'publicreportsapi.json'), JSON.stringify(swagger));
    served = await startCliMock(['--contracts', dir, '--self-check']);
  });
  after(() => served?.stop());

  it('answers a value its schema accepts (lengths and bounds kept), which the self-check passes', async () => {
    const lots = await get(served.url, '/publicreportsapi/publicreportsapi/Lots');
    assert.equal(lots.status, 200, lots.text);
    assert.equal(lots.headers.get('x-grex-self-check'), null, lots.text);
    const [lot] = lots.json;
    assert.ok(lot.code.length >= 1 && lot.code.length <= 4, lot.code);
    assert.ok(lot.reference.length >= 10 && lot.reference.length <= 12, lot.reference);
    assert.ok(Number.isInteger(lot.volume) && lot.volume >= 1 && lot.volume <= 1000, String(lot.volume));
    assert.ok(lot.price > 0, String(lot.price));
    assert.ok(lot.delta <= -1, String(lot.delta));
  });
});

describe('certify --contracts', () => {
  it("runs the client against a mock serving G-REX's documents and grades it against them", async () => {
    // A client that reads the operation only G-REX's document has, as a user's would after the pull.
    const client = [
      process.execPath,
      '-e',
      "fetch(process.env.BaseURIPublicReportsAPI + '/publicreportsapi/Auctions?$top=5&$skip=0', { headers: { accept: 'application/json', 'user-agent': 'certify-test/1.0' } }).then((r) => console.log('status', r.status))",
    ];
    const certify = (out: string, args: string[]) => runCliAsync(['certify', '--out', out, '--format', 'json', ...args, '--', ...client]);
    const [withDocuments, without] = [join(scratch, 'certify-served'), join(scratch, 'certify-reconstructed')];
    const runs = await Promise.all([certify(withDocuments, ['--contracts', pulled]), certify(without, [])]);
    const verdict = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).rules.find((rule: any) => rule.rule === 'request-contract');
    assert.match(readFileSync(join(withDocuments, 'client.log'), 'utf8'), /status 200/, runs[0].stdout + runs[0].stderr);
    assert.equal(verdict(withDocuments).passed, true, JSON.stringify(verdict(withDocuments)));
    assert.equal(runs[0].status, 0, runs[0].stdout + runs[0].stderr);
    assert.match(readFileSync(join(without, 'client.log'), 'utf8'), /status 404/);
    assert.equal(verdict(without).passed, false);
    assert.equal(runs[1].status, 1);
  });
});

interface Hit {
  path: string;
  at: number;
  headers: IncomingHttpHeaders;
}

/** A server that answers each swagger.json path as `answer` says, and remembers every request. */
interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function fakeGrex(answer: (path: string, count: number) => FakeAnswer): Promise<{ url: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.push({ path, at: performance.now(), headers: req.headers });
    const { status, headers, body } = answer(path, hits.filter((hit) => hit.path === path).length);
    res.writeHead(status, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

const FIREWALL_PAGE = '<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center><hr><center>Microsoft-Azure-Application-Gateway/v2</center></body></html>';
const MINIMAL = JSON.stringify({ swagger: '2.0', info: { title: 'Certificate Creation API', version: 'v1' }, paths: {} });

describe('contracts pull reports what stops it, in a handful of requests', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  it('waits out a 429 as Retry-After asks, and names a sign-in page, a redirect, JSON that is no swagger, a 404 and the firewall', async () => {
    const fake = await fakeGrex((path, count): FakeAnswer => {
      if (path.startsWith('/certificatecreationapi/')) return count === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: '{}' } : { status: 200, headers: { 'content-type': 'application/json' }, body: MINIMAL };
      if (path.startsWith('/managementapi/')) return { status: 200, headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html><head><title>Sign in to your account</title></head></html>' };
      if (path.startsWith('/masterdataapi/')) return { status: 302, headers: { location: 'https://gcrfdemo.b2clogin.com/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/authorize' } };
      if (path.startsWith('/privatereportsapi/')) return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"message":"Hello"}' };
      if (path.startsWith('/publicreportsapi/')) return { status: 404, body: '' };
      return { status: 403, headers: { 'content-type': 'text/html' }, body: FIREWALL_PAGE };
    });
    servers.push(fake.server);
    const out = join(scratch, 'pull-problems');
    const run = await runCliAsync(['contracts', 'pull', '--target', fake.url, '--out', out]);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /certificatecreationapi v1: 429 \(fair use, manual 1\.2\): waiting 1 s as Retry-After asks/);
    const manifest = JSON.parse(readFileSync(join(out, 'pull.json'), 'utf8'));
    assert.deepEqual(manifest.documents.map((entry: any) => entry.api), ['certificatecreationapi']);
    const problems = Object.fromEntries(manifest.failures.map((failure: any) => [failure.api, failure.problem]));
    assert.match(problems.managementapi, /^an HTML page \("Sign in to your account"\), not a swagger document/);
    assert.match(problems.masterdataapi, /^302: redirected to https:\/\/gcrfdemo\.b2clogin\.com\/\S+, a sign-in page/);
    assert.match(problems.privatereportsapi, /not a Swagger 2\.0 or OpenAPI 3 document/);
    assert.match(problems.publicreportsapi, /^404: no swagger\.json here/);
    assert.match(problems.transactionapi, /^403 from G-REX's firewall \(an HTML page "403 Forbidden", not JSON\)/);
    // Seven requests: one per API, and one more after the 429, no sooner than Retry-After said.
    assert.equal(fake.hits.length, 7);
    const [first, second] = fake.hits.filter((hit) => hit.path.startsWith('/certificatecreationapi/'));
    assert.ok(second.at - first.at >= 1000, `waited ${second.at - first.at} ms`);
    for (const hit of fake.hits) {
      assert.equal(hit.headers.accept, 'application/json');
      assert.equal(hit.headers['user-agent'], 'grex-harness contracts pull');
    }
  });

  it('stops at the first firewall 403: no more requests from an address the gateway may block', async () => {
    const fake = await fakeGrex(() => ({ status: 403, headers: { 'content-type': 'text/html' }, body: FIREWALL_PAGE }));
    servers.push(fake.server);
    const run = await runCliAsync(['contracts', 'pull', '--target', fake.url, '--out', join(scratch, 'pull-firewall')]);
    assert.equal(run.status, 1);
    assert.equal(fake.hits.length, 1);
    assert.match(run.stdout, /Nothing pulled \(6 failed\); nothing written\./);
    assert.match(run.stdout, /FAILED .*403 from G-REX's firewall/);
  });

  it('stops at a Retry-After longer than --max-wait, saying when to pull again', async () => {
    const fake = await fakeGrex(() => ({ status: 429, headers: { 'retry-after': '3600' }, body: '{}' }));
    servers.push(fake.server);
    const run = await runCliAsync(['contracts', 'pull', '--target', fake.url, '--out', join(scratch, 'pull-429'), '--max-wait', '5']);
    assert.equal(run.status, 1);
    assert.equal(fake.hits.length, 1);
    assert.match(run.stdout, /429: fair use \(manual 1\.2\); G-REX asks to wait 3600 s \(Retry-After\), more than --max-wait\. Pull again after \d{4}-/);
  });

  it('stops when the host cannot be reached', async () => {
    const closed = await fakeGrex(() => ({ status: 200 }));
    const { url } = closed;
    await new Promise((resolve) => closed.server.close(resolve));
    const run = await runCliAsync(['contracts', 'pull', '--target', url, '--out', join(scratch, 'pull-unreachable')]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, new RegExp(`FAILED ${url}/certificatecreationapi/v1/swagger\\.json: cannot reach ${new URL(url).host} \\(ECONNREFUSED`));
    assert.equal(run.stdout.match(/FAILED/g)?.length, 1, run.stdout);
  });
});

describe('contracts pull: where it writes, how long it waits, how much it reads', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  /** A server whose handler streams as it likes; remembers the paths asked. */
  async function streaming(handle: (path: string, res: ServerResponse) => void): Promise<{ url: string; paths: string[] }> {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '/');
      handle(req.url ?? '/', res);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
  }

  it('--target demo writes into reports/contracts-pulled/eexfrancedemoapi.grexel.com, the folder the README\'s next commands name, and creates nothing when nothing came', () => {
    const cwd = realpathSync(mkdtempSync(join(scratch, 'cwd-')));
    // A millisecond: the request gives up before it reaches DEMO (or fails sooner offline); what matters is the folder it names.
    const run = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, 'contracts', 'pull', '--target', 'demo', '--timeout', '0.001'], { cwd, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`^Pulling 6 swagger\\.json documents from https://eexfrancedemoapi\\.grexel\\.com into ${join(cwd, 'reports', 'contracts-pulled', 'eexfrancedemoapi.grexel.com').replaceAll('.', '\\.')}\n`));
    assert.match(run.stdout, /Nothing pulled \(6 failed\); nothing written\./);
    assert.equal(existsSync(join(cwd, 'reports')), false, 'nothing written, no folder either');
  });

  it('--timeout bounds the whole answer: a server that trickles its body forever is given up, and the pull stops there', async () => {
    const trickle = await streaming((_path, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const run = await runCliAsync(['contracts', 'pull', '--target', trickle.url, '--out', join(scratch, 'pull-trickle'), '--timeout', '1']);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`FAILED ${trickle.url}/certificatecreationapi/v1/swagger\\.json: no complete answer from ${new URL(trickle.url).host} within 1 s \\(--timeout\\)`));
    assert.deepEqual(trickle.paths, ['/certificatecreationapi/v1/swagger.json']);
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
  });

  it('reads no more than 100 MB of an answer, and says so', async () => {
    const flood = await streaming((path, res) => {
      if (!path.startsWith('/certificatecreationapi/')) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      let sent = 0;
      const more = (): void => {
        while (sent < 101) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    const run = await runCliAsync(['contracts', 'pull', '--target', flood.url, '--out', join(scratch, 'pull-flood')]);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /certificatecreationapi v1: FAILED \S+: 200: an answer of more than 100 MB, not read to the end/);
    assert.equal(flood.paths.length, 6);
  });

  it('pulls and diffs a large JSON document in seconds (JSON is read as JSON, not through the YAML parser)', async () => {
    // 5 MB, one schema of 100,000 properties: the YAML parser takes minutes over it, JSON.parse a fraction of a second.
    const properties = Object.fromEntries(Array.from({ length: 100_000 }, (_, index) => [`field${index}`, { type: 'string', description: `Field ${index}` }]));
    const large = { openapi: '3.0.3', info: { title: 'G-REX Master Data API', version: 'v2' }, paths: {}, components: { schemas: { Large: { type: 'object', properties } } } };
    const server = await streaming((path, res) => {
      if (!path.startsWith('/masterdataapi/')) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(large));
    });
    const out = join(scratch, 'pull-large');
    const run = await runCliAsync(['contracts', 'pull', '--target', server.url, '--out', out]);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /masterdataapi v2: \S+: OpenAPI 3\.0\.3, 0 operations/);
    const diff = await runCliAsync(['contracts', 'diff', out, '--format', 'json']);
    assert.equal(diff.status, 1, diff.stdout + diff.stderr);
    const report = JSON.parse(diff.stdout);
    assert.equal(report.apis[0].api, 'masterdataapi');
    assert.equal(report.apis[0].onlyInContract, 15);
  });
});

describe('contracts: bad input gets a clear answer and exit 2', () => {
  it('names what is missing or wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['contracts'], /grex-harness contracts: pull or diff\?/],
      [['contracts', 'fetch'], /unknown subcommand "fetch": pull or diff/],
      [['contracts', 'pull'], /--target is required: demo, prod or a URL/],
      [['contracts', 'pull', '--target', 'ftp://example.com'], /--target must be demo, prod or an http\(s\) URL/],
      [['contracts', 'pull', '--target', 'demo', '--max-wait', 'soon'], /--max-wait must be a number of seconds/],
      // Refused before any request is sent.
      [['contracts', 'pull', '--target', 'demo', '--out', PUBLIC_REPORTS_SWAGGER], /--out \S+publicreportsapi-v1\.swagger\.json is a file, not a folder/],
      [['contracts', 'diff'], /diff needs one folder/],
      [['contracts', 'diff', join(scratch, 'nowhere')], /nowhere: no such folder/],
      [['contracts', 'diff', pulled, '--format', 'xml'], /--format must be text or json/],
      [['mock', '--contracts', join(scratch, 'nowhere')], /grex-harness mock: --contracts .*nowhere: no such folder/],
      // One of the documents instead of their folder: a usage error, not "breaking differences" (exit 1) for CI.
      [['contracts', 'diff', join(published, 'managementapi.json')], /managementapi\.json: a file, not a folder: give the folder that holds the swagger\.json documents/],
      [['mock', '--contracts', join(published, 'managementapi.json')], /grex-harness mock: --contracts .*managementapi\.json: a file, not a folder/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCliAsync(args)));
    cases.forEach(([args, message], index) => {
      assert.equal(runs[index].status, 2, `${args.join(' ')}: ${runs[index].stdout}${runs[index].stderr}`);
      assert.match(runs[index].stderr, message, args.join(' '));
    });
    const help = runCli(['contracts', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /grex-harness contracts pull --target demo\|prod\|URL/);
  });

  it('names the file that is not a document, cannot be told apart, or documents an API twice', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'notes.json': '{"hello": "world"}' }, /notes\.json: not a Swagger 2\.0 or OpenAPI 3 document/],
      [{ 'broken.json': '{"swagger": ' }, /broken\.json: neither JSON nor YAML/],
      [{ 'api.json': JSON.stringify({ openapi: '3.0.1', info: { title: 'Something', version: '1' }, paths: { '/x': {} } }) }, /api\.json: cannot tell which G-REX API it documents/],
      [{ 'a.json': readFileSync(PUBLIC_REPORTS_SWAGGER, 'utf8'), 'b.json': readFileSync(PUBLIC_REPORTS_SWAGGER, 'utf8') }, /b\.json and \S+a\.json both document publicreportsapi: keep one/],
    ];
    const runs = await Promise.all(
      cases.map(([files]) => {
        const dir = mkdtempSync(join(scratch, 'bad-'));
        for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
        return runCliAsync(['contracts', 'diff', dir]);
      }),
    );
    cases.forEach(([, message], index) => {
      assert.equal(runs[index].status, 2, runs[index].stdout + runs[index].stderr);
      assert.match(runs[index].stderr, message);
    });
  });
});
