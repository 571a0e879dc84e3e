import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { loadContracts } from '../contracts/lib/load.js';
import { createContractChecker } from '../grader/contract-check.js';
import type { Exchange } from '../mock/journal.js';
import { startTestMock, type Reply, type TestMock } from './support/mock.js';

/**
 * Content negotiation as ASP.NET does it (common.yaml `info.x-grex-xml`,
 * reconstructed): `Accept: application/xml` or `text/xml` answers the same
 * data as DataContract XML; JSON stays the default. Through HTTP, with the
 * self-check on.
 */
let mock: TestMock;
before(async () => {
  mock = await startTestMock('mock-xml');
});
after(() => mock.close());

const NAMESPACE = String((loadContracts().common.info['x-grex-xml'] as { namespace: string }).namespace);
const ROOT_ATTRIBUTES = `xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="${NAMESPACE}"`;
const ACCOUNTS = '/managementapi/AH/managementapi/Accounts?$top=5&$skip=0';
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

const asXml = (username: string | null, path: string, accept = 'application/xml'): Promise<Reply> => mock.as(username, 'GET', path, { headers: { accept } });

/** The child elements of an element's text, in order: `[name, inner text]`, for flat structures. */
const children = (xml: string): [string, string][] => [...xml.matchAll(/<([A-Za-z]\w*)(?: [^>]*)?(?:\/>|>(.*?)<\/\1>)/g)].map((match) => [match[1], match[2] ?? '']);

describe('Accept: application/xml answers DataContract XML', () => {
  it('a list: ArrayOf{Type} in the DataContract namespace, one element per item, PascalCase members in alphabetical order, i:nil for null', async () => {
    const json = await mock.read('eolien-root', ACCOUNTS);
    const reply = await asXml('eolien-root', ACCOUNTS);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('content-type'), 'application/xml; charset=utf-8');
    assert.equal(reply.headers.get('x-grex-self-check'), null);
    assert.ok(reply.text.startsWith(`<ArrayOfAccount ${ROOT_ATTRIBUTES}>`), reply.text.slice(0, 200));
    assert.ok(reply.text.endsWith('</ArrayOfAccount>'));
    const accounts = children(reply.text.slice(reply.text.indexOf('>') + 1, -'</ArrayOfAccount>'.length));
    assert.deepEqual(accounts.map(([name]) => name), json.map(() => 'Account'));
    accounts.forEach(([, inner], index) => {
      const members = children(inner);
      const names = members.map(([name]) => name);
      assert.deepEqual(names, [...names].sort(), 'alphabetical, as DataContractSerializer writes members without an order');
      const expected = Object.entries(json[index] as Record<string, unknown>).map(([key, value]) => [key[0].toUpperCase() + key.slice(1), value === null ? '' : String(value)]);
      assert.deepEqual(members.sort(), expected.sort());
    });
    const topLevel = json.findIndex((account: { parentAccountNumber: string | null }) => account.parentAccountNumber === null);
    assert.ok(topLevel >= 0);
    assert.match(accounts[topLevel][1], /<ParentAccountNumber i:nil="true"\/>/);
  });

  it('one object: its type as the root; a list of strings in the serialization Arrays namespace', async () => {
    const user = (await mock.read('eolien-root', '/managementapi/AH/managementapi/Users?$top=1&$skip=0'))[0];
    const reply = await asXml('eolien-root', `/managementapi/AH/managementapi/Users/${user.userId}`, 'text/xml');
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('content-type'), 'text/xml; charset=utf-8');
    assert.ok(reply.text.startsWith(`<User ${ROOT_ATTRIBUTES}>`), reply.text.slice(0, 200));
    const roles = user.roles.map((role: string) => `<d2p1:string>${role}</d2p1:string>`).join('');
    assert.ok(reply.text.includes(`<Roles xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays">${roles}</Roles>`), reply.text);
  });

  it('refusals too: the envelope as <Envelope>, the 401 and the model validation 400', async () => {
    const unauthorized = await asXml(null, ACCOUNTS);
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.text, `<Envelope ${ROOT_ATTRIBUTES}><ResponseCode>AUTH_001</ResponseCode><ResponseMessage>Unauthorized. The access token is missing, invalid or expired, or the user is not known.</ResponseMessage><StatusCode>401</StatusCode></Envelope>`);
    const invalid = await mock.as('eolien-root', 'POST', '/managementapi/AH/managementapi/Accounts', { body: {}, headers: { accept: 'application/xml' } });
    assert.equal(invalid.status, 400);
    assert.match(invalid.text, /^<Envelope [^>]+><ResponseCode>ACCOUNT_002<\/ResponseCode><ResponseMessage>Input model validation failed\. Error in: [^<]+<\/ResponseMessage><StatusCode>400<\/StatusCode><\/Envelope>$/);
  });

  it('escapes text: a name with & and < reads back as written', async () => {
    const name = 'R&D <PPA> 2027';
    const created = await mock.as('eolien-root', 'POST', '/managementapi/AH/managementapi/Accounts', { body: { name, standardAssociation: 'EECS-GO' } });
    assert.equal(created.status, 201, created.text);
    const number = /Account number: (\d{18})/.exec(created.json.responseMessage)?.[1];
    const reply = await asXml('eolien-root', `/managementapi/AH/managementapi/Accounts/${number}`);
    assert.ok(reply.text.includes('<Name>R&amp;D &lt;PPA&gt; 2027</Name>'), reply.text);
  });

  it('a cancellation statement as XML as well as JSON or PDF', async () => {
    const statements = await mock.read('soleil-root', '/privatereportsapi/AH/privatereportsapi/CancellationStatements?$top=1&$skip=0');
    const id = statements[0].statementId;
    const reply = await asXml('soleil-root', `/privatereportsapi/AH/privatereportsapi/CancellationStatements/${id}`);
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.text, new RegExp(`^<CancellationStatement [^>]+>.*<StatementId>${id}</StatementId>`));
  });
});

describe('JSON stays the default', () => {
  it('*/*, JSON and XML at the same quality, JSON preferred: JSON; XML preferred, or a browser Accept (XML above */*): XML', async () => {
    // text/* too: ASP.NET's JSON formatter answers text/json, and comes first.
    for (const accept of ['*/*', 'application/json', 'application/json, application/xml', 'application/xml;q=0.5, application/json', 'text/plain', 'text/*']) {
      const reply = await asXml('eolien-root', ACCOUNTS, accept);
      assert.equal(reply.headers.get('content-type'), 'application/json; charset=utf-8', accept);
      assert.ok(Array.isArray(reply.json), accept);
    }
    // Media types are case-insensitive (RFC 9110 8.3.1), as ASP.NET compares them.
    for (const accept of ['application/xml, application/json;q=0.5', BROWSER, 'text/xml, */*;q=0.1', 'Application/XML', 'TEXT/XML, application/json;q=0.5']) {
      const reply = await asXml('eolien-root', ACCOUNTS, accept);
      assert.match(String(reply.headers.get('content-type')), /^(application|text)\/xml; charset=utf-8$/, accept);
    }
  });

  it('B2C is Microsoft service: its discovery document stays JSON', async () => {
    const reply = await asXml(null, '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/v2.0/.well-known/openid-configuration');
    assert.equal(reply.status, 200);
    assert.ok(reply.json?.issuer, reply.text);
  });
});

describe('XML and the gateway, the journal and the grader', () => {
  it("passes the firewall's Accept rule (strict profile too); the firewall's 403 stays its HTML page", async () => {
    assert.equal((await mock.admin('POST', '/__admin/firewall', { profile: 'strict' })).status, 200);
    // As the firewall tests send it: a GET with all five headers of manual 1.3.1 (fetch would drop Content-Length).
    const get = async (path: string): Promise<{ status: number; type: string | undefined; text: string }> => {
      const headers = { accept: 'application/xml', 'user-agent': 'xml-test/1.0', 'content-type': 'application/json', 'content-length': '0', authorization: `Bearer ${await mock.token('eolien-root')}` };
      return new Promise((resolve, reject) => {
        request(`${mock.url}${path}`, { headers }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text }));
        })
          .on('error', reject)
          .end();
      });
    };
    try {
      const reply = await get(ACCOUNTS);
      assert.equal(reply.status, 200, reply.text);
      assert.ok(reply.text.startsWith('<ArrayOfAccount '));
      const blocked = await get(`${ACCOUNTS}&$filter=${encodeURIComponent("name eq 'https://x'")}`);
      assert.equal(blocked.status, 403);
      assert.equal(blocked.type, 'text/html');
    } finally {
      await mock.admin('POST', '/__admin/firewall', { profile: 'realistic' });
    }
  });

  it('the contract checker (grader, drift) takes an XML answer where the contract documents JSON', async () => {
    const lines = (await mock.admin('GET', '/__admin/journal')).text.trim().split('\n').map((line) => JSON.parse(line) as Exchange);
    const xml = lines.filter((exchange) => /xml/.test(String(exchange.response.headers['content-type'])));
    assert.ok(xml.length >= 5, `${xml.length} XML answers journaled`);
    const checker = createContractChecker();
    for (const exchange of xml) assert.deepEqual(checker.checkResponse(exchange), [], `${exchange.request.url}`);
    // Only the declared XML types: any other type where the contract documents JSON is still drift.
    const yaml = structuredClone(xml[0]);
    yaml.response.headers['content-type'] = 'application/yaml';
    assert.deepEqual(checker.checkResponse(yaml).map((item) => item.text), [`response ${yaml.response.status}: Content-Type "application/yaml" is not in the contract (documented: application/json)`]);
  });
});
