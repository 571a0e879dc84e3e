import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createContractChecker, type ContractChecker } from '../grader/contract-check.js';
import type { Difference } from '../contracts/lib/difference.js';
import { loadContracts } from '../contracts/lib/load.js';
import type { Exchange } from '../mock/journal.js';
import { runCli } from './support/cli.js';
import { startTestMock, type TestMock } from './support/mock.js';

/**
 * The contract checker the proxy and the grader share, on exchanges taken
 * from a real mock's journal (which answers as its contracts say) and on
 * copies of them edited to be wrong.
 */

const ACCOUNTS = '/managementapi/AH/managementapi/Accounts?$top=3&$skip=0';
const ACCOUNT = '/managementapi/AH/managementapi/Accounts/643003000000000001';
const TECHNOLOGIES = '/masterdataapi/AH/masterdataapi/Technologies?$top=2&$skip=0';
const AUCTIONS = '/publicreportsapi/publicreportsapi/AuctionResults?$top=2&$skip=0';
const TRANSFERS = '/transactionapi/AH/transactionapi/Transfers';
const EOLIEN_ISSUING = '643003000000000005';
const VOLTA_TRADING = '643006000000000002';

let mock: TestMock;
let checker: ContractChecker;
let journal: Exchange[];

/** The journaled exchange of a request (the first one with this method and URL, and status if given). */
const exchangeOf = (method: string, url: string, status?: number): Exchange => {
  const found = journal.find((exchange) => exchange.request.method === method && exchange.request.url === url && (status === undefined || exchange.response.status === status));
  assert.ok(found, `${method} ${url} is in the journal`);
  return structuredClone(found);
};

const texts = (differences: Difference[]): string[] => differences.map((item) => item.text);

/** A copy of an exchange with its JSON answer edited. */
const withBody = (exchange: Exchange, edit: (body: any) => unknown): Exchange => {
  const copy = structuredClone(exchange);
  const body = JSON.parse(copy.response.body ?? 'null');
  const edited = edit(body);
  copy.response.body = JSON.stringify(edited === undefined ? body : edited);
  return copy;
};

before(async () => {
  mock = await startTestMock('contract-check');
  checker = createContractChecker();
  await mock.as('eolien-trader', 'GET', ACCOUNTS);
  await mock.as('eolien-trader', 'GET', ACCOUNT);
  await mock.as('eolien-trader', 'GET', TECHNOLOGIES);
  await mock.as(null, 'GET', AUCTIONS);
  const filter = encodeURIComponent(`accountNumber eq '${EOLIEN_ISSUING}' and status eq 'Active'`);
  const bundles = await mock.read('eolien-trader', `/privatereportsapi/AH/privatereportsapi/Certificates?$top=50&$skip=0&$filter=${filter}&$orderby=expiryDate desc`);
  const bundle = bundles[0];
  const transfer = await mock.as('eolien-trader', 'POST', TRANSFERS, {
    body: { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [{ startCertificateId: bundle.startCertificateId, endCertificateId: bundle.startCertificateId }] },
  });
  assert.equal(transfer.status, 201, transfer.text);
  await mock.as('eolien-trader', 'GET', '/managementapi/AH/managementapi/Accounts?$top=9999');
  await mock.as(null, 'GET', ACCOUNTS);
  await mock.as('eolien-trader', 'POST', TRANSFERS, { body: 'fromAccountNumber=1', contentType: 'text/plain' });
  await mock.as('eolien-trader', 'GET', '/managementapi/AH/managementapi/Nowhere');
  await mock.as('eolien-trader', 'GET', '/managementapi/AH/managementapi/Accounts/1');
  // The firewall's HTML 403: a request without Accept.
  const blocked = await mock.request('GET', AUCTIONS.replace('$top=2', '$top=1'), { headers: { accept: '' } });
  assert.equal(blocked.status, 403);
  const refresh = await mock.admin('POST', '/__admin/refresh-token', { user: 'eolien-trader' });
  const { refresh_token: refreshToken, client_id: clientId, scope, token_endpoint: tokenEndpoint } = refresh.json;
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, scope }).toString();
  const token = await mock.request('POST', tokenEndpoint, { body: form, contentType: 'application/x-www-form-urlencoded' });
  assert.equal(token.status, 200, token.text);
  // Fair use's 429, with a limit of one request a minute.
  await mock.admin('POST', '/__admin/fairuse', { enabled: true, limits: [{ requests: 1, windowSeconds: 60 }] });
  await mock.as('volta-trader', 'GET', TECHNOLOGIES);
  const limited = await mock.as('volta-trader', 'GET', TECHNOLOGIES.replace('$top=2', '$top=3'));
  assert.equal(limited.status, 429);
  await mock.admin('POST', '/__admin/fairuse', { enabled: false });
  const text = (await mock.admin('GET', '/__admin/journal')).text;
  journal = text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Exchange);
});
after(() => mock?.close());

describe('the contract checker on the mock own traffic', () => {
  it('finds the operation the mock routed each exchange to', () => {
    const routed = journal.filter((exchange) => exchange.operationId);
    assert.ok(routed.length >= 10);
    for (const exchange of routed) assert.equal(checker.operationOf(exchange.request.method, exchange.request.url), exchange.operationId, exchange.request.url);
    assert.equal(checker.operationOf('GET', '/managementapi/AH/managementapi/Nowhere'), undefined);
    assert.equal(checker.operationOf('GET', `http://eexfrancedemoapi.grexel.com${ACCOUNT}`), 'ahGetAccount');
  });

  it('finds nothing wrong with any answer the mock gave, the firewall 403 and the 429 included', () => {
    assert.ok(journal.some((exchange) => exchange.response.status === 403 && String(exchange.response.headers['content-type']).startsWith('text/html')));
    assert.ok(journal.some((exchange) => exchange.response.status === 429));
    for (const exchange of journal) assert.deepEqual(checker.checkResponse(exchange), [], `${exchange.request.method} ${exchange.request.url} ${exchange.response.status}`);
  });

  it('finds nothing wrong with valid requests, and names the field of invalid ones', () => {
    for (const url of [ACCOUNTS, ACCOUNT, TECHNOLOGIES, AUCTIONS]) assert.deepEqual(checker.checkRequest(exchangeOf('GET', url)), []);
    const transfers = journal.filter((exchange) => exchange.operationId === 'ahCreateTransfer');
    assert.deepEqual(checker.checkRequest(transfers[0]), []);
    assert.deepEqual(checker.checkRequest(exchangeOf('GET', '/managementapi/AH/managementapi/Accounts?$top=9999')), ['$top must be <= 500']);
    assert.deepEqual(checker.checkRequest(transfers[1]), ['Content-Type "text/plain" is not application/json']);
    assert.match(checker.checkRequest(exchangeOf('GET', '/managementapi/AH/managementapi/Accounts/1')).join(), /accountNumber/);
    assert.deepEqual(checker.checkRequest(exchangeOf('GET', '/managementapi/AH/managementapi/Nowhere')), ['GET /managementapi/AH/managementapi/Nowhere: no operation of the contracts has this path']);
  });
});

describe('the contract checker on exchanges edited to be wrong', () => {
  it('reports a field the contract does not have, in an object and in every item of a list (once)', () => {
    assert.deepEqual(texts(checker.checkResponse(withBody(exchangeOf('GET', ACCOUNT), (body) => void (body.notInContract = 1)))), ['response 200: notInContract is not in the contract']);
    const list = withBody(exchangeOf('GET', ACCOUNTS, 200), (body) => body.forEach((item: any) => (item.notInContract = 1)));
    assert.deepEqual(texts(checker.checkResponse(list)), ['response 200: [].notInContract is not in the contract']);
  });

  it('reports an unknown field even where the contract leaves additionalProperties open, and not where it allows them', () => {
    const open = loadContracts();
    const account = (open.contracts.find((contract) => contract.name === 'management')?.doc.components?.schemas as any).Account;
    delete account.additionalProperties;
    const extra = withBody(exchangeOf('GET', ACCOUNT), (body) => void (body.notInContract = 1));
    assert.deepEqual(texts(createContractChecker(open).checkResponse(extra)), ['response 200: notInContract is not in the contract']);
    account.additionalProperties = true;
    assert.deepEqual(createContractChecker(open).checkResponse(extra), []);
  });

  it('reports a wrong type, a missing required field, an undocumented status, media type or non-JSON body', () => {
    const account = exchangeOf('GET', ACCOUNT);
    assert.deepEqual(texts(checker.checkResponse(withBody(account, (body) => void (body.isLocked = 'no')))), ['response 200: isLocked is string, the contract says boolean']);
    assert.deepEqual(texts(checker.checkResponse(withBody(account, (body) => void delete body.status))), ['response 200: status is required by the contract but missing']);
    assert.match(texts(checker.checkResponse({ ...account, response: { ...account.response, status: 418 } })).join(), /^status 418 is not in the contract \(documented: 200, /);
    const plain = { ...account, response: { ...account.response, headers: { ...account.response.headers, 'content-type': 'text/plain' } } };
    assert.match(texts(checker.checkResponse(plain)).join(), /^response 200: Content-Type "text\/plain" is not in the contract \(documented: application\/json\)/);
    assert.match(texts(checker.checkResponse({ ...account, response: { ...account.response, body: '{"accountNumber":' } })).join(), /^response 200: the body is not valid JSON/);
  });

  it('reports a gateway answer that differs from what common.yaml documents', () => {
    const firewall = structuredClone(journal.find((exchange) => exchange.response.status === 403) as Exchange);
    firewall.response.headers['content-type'] = 'application/json';
    assert.deepEqual(texts(checker.checkResponse(firewall)), ['response 403: Content-Type "application/json" is not in the contract (documented: text/html)']);
    const limited = journal.find((exchange) => exchange.response.status === 429) as Exchange;
    assert.deepEqual(texts(checker.checkResponse(withBody(limited, (body) => void delete body.responseCode))), ['response 429: responseCode is required by the contract but missing']);
    const unknown = exchangeOf('GET', '/managementapi/AH/managementapi/Nowhere');
    assert.deepEqual(texts(checker.checkResponse({ ...unknown, response: { ...unknown.response, status: 200 } })), ['in G-REX, not in the contract']);
  });

  it('reports drift in B2C answers, whose schemas are B2C own', () => {
    const token = journal.find((exchange) => exchange.operationId === 'b2cRedeemToken') as Exchange;
    assert.deepEqual(checker.checkResponse(token), []);
    assert.deepEqual(texts(checker.checkResponse(withBody(token, (body) => void (body.extra_claim = 'x')))), ['response 200: extra_claim is not in the contract']);
  });

  it('reports a broken request body by field, and leaves a body the journal cut alone', () => {
    const transfer = journal.find((exchange) => exchange.operationId === 'ahCreateTransfer') as Exchange;
    const body = JSON.parse(transfer.request.body ?? '{}');
    delete body.toAccountNumber;
    body.bundles[0].endCertificateId = 7;
    const broken = { ...transfer, request: { ...transfer.request, body: JSON.stringify(body) } };
    const problems = checker.checkRequest(broken);
    assert.equal(problems.length, 2, problems.join('; '));
    assert.ok(problems.some((line) => line.startsWith('toAccountNumber ')), problems.join('; '));
    assert.ok(problems.some((line) => line.startsWith('bundles[0].endCertificateId ')), problems.join('; '));
    const cut = { ...transfer, request: { ...transfer.request, body: `${transfer.request.body?.slice(0, 20)}…[120 more characters]` } };
    assert.deepEqual(checker.checkRequest(cut), []);
  });
});

describe('drift and the contract diff share one vocabulary', () => {
  it('a field G-REX answers and a field its document adds, or a required field missing from both, read and class the same', () => {
    const answered = checker.checkResponse(withBody(exchangeOf('GET', ACCOUNT), (body) => {
      body.notInContract = 1;
      delete body.status;
    }));
    // The same two differences, as G-REX's swagger.json would show them to `contracts diff`.
    const management = structuredClone(loadContracts().contracts.find((contract) => contract.name === 'management')?.doc) as any;
    const account = management.components.schemas.Account;
    account.properties.notInContract = { type: 'integer' };
    delete account.properties.status;
    account.required = account.required.filter((name: string) => name !== 'status');
    const dir = mkdtempSync(join(tmpdir(), 'grex-vocabulary-'));
    try {
      writeFileSync(join(dir, 'managementapi.json'), JSON.stringify(management));
      const run = runCli(['contracts', 'diff', dir, '--format', 'json']);
      assert.equal(run.status, 1, run.stderr);
      const published = (JSON.parse(run.stdout).apis[0].differences as (Difference & { operation: string })[]).filter((item) => item.operation === 'ahGetAccount');
      const shape = (items: Difference[]) => items.map(({ kind, impact, text }) => ({ kind, impact, text })).sort((a, b) => a.text.localeCompare(b.text));
      assert.deepEqual(shape(published), shape(answered));
      assert.deepEqual(shape(answered), [
        { kind: 'field-added', impact: 'non-breaking', text: 'response 200: notInContract is not in the contract' },
        { kind: 'field-missing', impact: 'breaking', text: 'response 200: status is required by the contract but missing' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
