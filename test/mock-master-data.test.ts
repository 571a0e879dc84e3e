import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gsrnCheckDigit, type CodeListEntry, type CodeListName } from '../mock/domain/model.js';
import { expectCode, startTestMock, type Reply, type TestMock } from './support/mock.js';

/**
 * The Master Data API v2 over HTTP: the seven lists under /AH/ and /IB/, and
 * the Super User's maintenance of a code, whose effect every list and the
 * Management API's rules see at once.
 */

const MD = '/masterdataapi';
const LISTS: CodeListName[] = ['EnergySources', 'Technologies', 'Countries', 'Standards', 'Domains', 'CancellationPurposes', 'SupportTypes'];

let mock: TestMock;
before(async () => {
  mock = await startTestMock('mock-master-data');
});
after(() => mock?.close());

const as: TestMock['as'] = (...args) => mock.as(...args);
const read = (username: string, path: string): Promise<CodeListEntry[]> => mock.read(username, path);

const listPath = (role: 'AH' | 'IB', list: CodeListName, query = '') => `${MD}/${role}/masterdataapi/${list}${query}`;
const codePath = (list: string, code: string) => `${MD}/IB/masterdataapi/${list}/${code}`;
const entry = async (list: CodeListName, code: string) => (await read('ib-root', listPath('IB', list, '?$top=500'))).find((candidate) => candidate.code === code);
const byCode = (a: CodeListEntry, b: CodeListEntry) => a.code.localeCompare(b.code);

describe('the seven lists, under /AH/ and /IB/', () => {
  for (const list of LISTS) {
    it(`${list}: 200, every entry ordered by code, the same for both; 401; 403 AUTH_003 across roles; MASTERDATA_002`, async () => {
      const expected = structuredClone(mock.app.registry.codeLists[list]).sort(byCode);
      assert.deepEqual(await read('soleil-cancellation-statement-viewer', listPath('AH', list)), expected);
      assert.deepEqual(await read('ib-pd-viewer', listPath('IB', list)), expected);
      for (const [role, reader, outsider] of [
        ['AH', 'soleil-trader', 'ib-root'],
        ['IB', 'ib-root', 'soleil-root'],
      ] as const) {
        expectCode(await as(null, 'GET', listPath(role, list)), 401, 'AUTH_001');
        expectCode(await as(outsider, 'GET', listPath(role, list)), 403, 'AUTH_003');
        expectCode(await as(reader, 'GET', listPath(role, list, '?$top=501')), 400, 'MASTERDATA_002');
        const invalid = await as(reader, 'GET', listPath(role, list, `?$filter=${encodeURIComponent("colour eq 'green'")}`));
        expectCode(invalid, 400, 'MASTERDATA_002');
        assert.match(invalid.json.responseMessage, /\$filter/);
      }
    });
  }

  it('$filter, $top and $skip page a list', async () => {
    const inactive = await read('soleil-root', listPath('AH', 'Standards', `?$filter=${encodeURIComponent('active eq false')}`));
    assert.deepEqual(inactive.map((standard) => standard.code), ['GO-H2']);
    const all = await read('soleil-root', listPath('AH', 'Countries'));
    assert.deepEqual(await read('soleil-root', listPath('AH', 'Countries', '?$top=5&$skip=5')), all.slice(5, 10));
    expectCode(await as('soleil-root', 'GET', listPath('AH', 'Countries', '?$skip=-1')), 400, 'MASTERDATA_002');
  });
});

describe('ibUpdateMasterDataCode', () => {
  const put = (username: string, list: string, code: string, body: unknown, contentType?: string) => as(username, 'PUT', codePath(list, code), { body, contentType });
  /** A refused update leaves the whole list as it was. */
  async function refused(list: CodeListName, write: () => Promise<Reply>, status: number, responseCode: string): Promise<void> {
    const before = await read('ib-root', listPath('IB', list, '?$top=500'));
    expectCode(await write(), status, responseCode);
    assert.deepEqual(await read('ib-root', listPath('IB', list, '?$top=500')), before);
  }

  it('200 MASTERDATA_202: the new name and description show in the /AH/ and /IB/ lists at once; list data is kept', async () => {
    const before = (await entry('Standards', 'EECS-GO')) as CodeListEntry;
    const reply = await put('super-user', 'Standards', 'EECS-GO', { name: 'EECS GO (électricité)', description: 'Garanties d’origine électricité.', active: true });
    expectCode(reply, 200, 'MASTERDATA_202');
    assert.match(reply.json.responseMessage, /Code list: Standards\. Code: EECS-GO\./);
    const expected = { ...before, name: 'EECS GO (électricité)', description: 'Garanties d’origine électricité.' };
    assert.deepEqual((await read('soleil-root', listPath('AH', 'Standards'))).find((standard) => standard.code === 'EECS-GO'), expected);
    assert.deepEqual(await entry('Standards', 'EECS-GO'), expected);
  });

  it('200: a null or absent description clears it', async () => {
    expectCode(await put('super-user', 'Countries', 'CH', { name: 'Suisse', description: 'Membre AIB hors UE.', active: true }), 200, 'MASTERDATA_202');
    assert.equal((await entry('Countries', 'CH'))?.description, 'Membre AIB hors UE.');
    expectCode(await put('super-user', 'Countries', 'CH', { name: 'Suisse', description: null, active: true }), 200, 'MASTERDATA_202');
    assert.equal((await entry('Countries', 'CH'))?.description ?? null, null);
  });

  it('deactivating a technology refuses it in new devices (DEVICE_008); reactivating allows it again', async () => {
    // An unregistered GSRN of the eolien series, with its GS1 check digit.
    const first17 = '37600030000000999';
    const offshore = { gsrn: first17 + gsrnCheckDigit(first17), name: 'Parc éolien en mer de Fécamp', technologyCode: 'T020002', energySourceCode: 'F01050100', capacityMW: 497, commissioningDate: '2024-05-01', country: 'FR' };
    const register = () => as('eolien-root', 'POST', '/managementapi/AH/managementapi/ProductionDevices', { body: offshore });
    const technology = (await entry('Technologies', 'T020002')) as CodeListEntry;
    expectCode(await put('super-user', 'Technologies', 'T020002', { name: technology.name, description: technology.description, active: false }), 200, 'MASTERDATA_202');
    assert.equal((await entry('Technologies', 'T020002'))?.active, false);
    expectCode(await register(), 400, 'DEVICE_008');
    expectCode(await put('super-user', 'Technologies', 'T020002', { name: technology.name, description: technology.description, active: true }), 200, 'MASTERDATA_202');
    assert.deepEqual(await entry('Technologies', 'T020002'), technology);
    expectCode(await register(), 201, 'DEVICE_201');
  });

  it('activating a standard opens it to new accounts (no more ACCOUNT_005)', async () => {
    const account = { name: 'Hydrogène vert', standardAssociation: 'GO-H2' };
    expectCode(await as('soleil-root', 'POST', '/managementapi/AH/managementapi/Accounts', { body: account }), 400, 'ACCOUNT_005');
    const standard = (await entry('Standards', 'GO-H2')) as CodeListEntry;
    expectCode(await put('super-user', 'Standards', 'GO-H2', { name: standard.name, description: standard.description, active: true }), 200, 'MASTERDATA_202');
    expectCode(await as('soleil-root', 'POST', '/managementapi/AH/managementapi/Accounts', { body: account }), 201, 'ACCOUNT_201');
  });

  it('401 AUTH_001 without a token; 403 AUTH_003 for anyone but a Super User', async () => {
    const body = { name: 'Solaire', active: true };
    await refused('Technologies', () => as(null, 'PUT', codePath('Technologies', 'T010000'), { body }), 401, 'AUTH_001');
    for (const username of ['ib-root', 'soleil-root']) await refused('Technologies', () => put(username, 'Technologies', 'T010000', body), 403, 'AUTH_003');
  });

  it('MASTERDATA_004 for a body that is not JSON; MASTERDATA_002 naming the fields', async () => {
    await refused('Technologies', () => put('super-user', 'Technologies', 'T010000', '{"name":"Solaire","active":true}', 'text/plain'), 400, 'MASTERDATA_004');
    const invalid = await put('super-user', 'Technologies', 'T010000', { name: '', active: 'yes', colour: 'yellow' });
    expectCode(invalid, 400, 'MASTERDATA_002');
    for (const field of ['name', 'active', 'colour']) assert.match(invalid.json.responseMessage, new RegExp(`\\b${field}\\b`));
    const unknownList = await put('super-user', 'Planets', 'MARS', { name: 'Mars', active: true });
    expectCode(unknownList, 400, 'MASTERDATA_002');
    assert.match(unknownList.json.responseMessage, /codeList/);
    await refused('Technologies', () => put('super-user', 'Technologies', 'T', { name: 'T', active: true }), 400, 'MASTERDATA_002');
  });

  it('404 MASTERDATA_001 for a code the list does not have, even one of another list', async () => {
    const reply = await put('super-user', 'Technologies', 'T999999', { name: 'Fusion', active: true });
    expectCode(reply, 404, 'MASTERDATA_001');
    assert.match(reply.json.responseMessage, /Code list: Technologies\. Code: T999999\./);
    await refused('Technologies', () => put('super-user', 'Technologies', 'FR', { name: 'France', active: true }), 404, 'MASTERDATA_001');
  });
});
