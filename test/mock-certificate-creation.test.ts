import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lastDayOf, shiftMonth } from '../mock/domain/calendar.js';
import { certificateSerial, gsrnCheckDigit, type Account, type CertificateBundle, type IssuanceRequest, type MeasurementData, type ProductionDevice } from '../mock/domain/model.js';
import { expectCode, startTestMock, type Reply, type RequestOptions, type TestMock } from './support/mock.js';

/**
 * The Certificate Creation API v1 over HTTP, as an integrator's client sees
 * it: every operation's success and each code its contract documents, in the
 * contract's order of checks, with the state read back after each write.
 * The tests share one registry and run in order; a describe that writes
 * starts from the fixtures (POST /__admin/reset).
 */

const AH = '/certificatecreationapi/AH/certificatecreationapi';
const IB = '/certificatecreationapi/IB/certificatecreationapi';
const CERTIFICATES = '/privatereportsapi/AH/privatereportsapi/Certificates';
const UNKNOWN_ID = '0b7f3c1e-5d2a-4c8b-9e6f-1a2b3c4d5e6f';

let mock: TestMock;
before(async () => {
  mock = await startTestMock('mock-certificate-creation');
});
after(() => mock?.close());

const as: TestMock['as'] = (...args) => mock.as(...args);
const read = (username: string, path: string) => mock.read(username, path);

/** What the registry holds, without the clock and the journal that every request moves. */
async function registryState(): Promise<object> {
  const { clock, journal, ...state } = (await mock.admin('GET', '/__admin/state')).json;
  return state;
}

/** A refused write leaves the registry, and what `path` shows, as they were. */
async function refusedWithoutChange(username: string, path: string, write: () => Promise<Reply>, status: number, responseCode: string): Promise<Reply> {
  const [before, state] = [await read(username, path), await registryState()];
  const reply = await write();
  expectCode(reply, status, responseCode);
  assert.deepEqual(await read(username, path), before, `${responseCode} changed ${path}`);
  assert.deepEqual(await registryState(), state, `${responseCode} changed the registry`);
  return reply;
}

const reset = () => mock.admin('POST', '/__admin/reset');
const idIn = (reply: Reply, label: string): string => (new RegExp(`${label}: ([0-9a-f-]{36})`).exec(reply.json.responseMessage) as RegExpExecArray)[1];
const wrongCheckDigit = (gsrn: string): string => gsrn.slice(0, 17) + ((Number(gsrn[17]) + 1) % 10);
const unknownGsrn = (): string => '37600990000000001' + gsrnCheckDigit('37600990000000001');
const q = (filter: string): string => encodeURIComponent(filter);

// Subjects are picked from the registry by what they are, not by their numbers, and copied.
const registry = () => mock.app.registry;
const orgOf = (username: string): string => (registry().usersByName.get(username) as { organizationId: string }).organizationId;
const devicesOf = (username: string): ProductionDevice[] => structuredClone([...registry().devices.values()].filter((device) => device.organizationId === orgOf(username)));
/** The month before the clock's: ended, and not issued yet in the fixtures. */
const lastMonth = (): string => shiftMonth(registry().today().slice(0, 7), -1);
const wholeMonth = (month: string) => ({ start: `${month}-01`, end: lastDayOf(month) });
const requestsFor = (gsrn: string): IssuanceRequest[] => [...registry().issuanceRequests.values()].filter((request) => request.gsrn === gsrn);
const measurementsFor = (gsrn: string): MeasurementData[] => [...registry().measurements.values()].filter((item) => item.gsrn === gsrn);

/** soleil's plants: one awaiting a decision for last month, one metered for it without a request, one with neither, one in draft. */
function soleilPlants() {
  const approved = devicesOf('soleil-pd-administrator').filter((device) => device.status === 'Approved');
  const touched = (device: ProductionDevice) => measurementsFor(device.gsrn).some((item) => item.periodStart.startsWith(lastMonth()));
  return {
    pending: approved.find((device) => requestsFor(device.gsrn).some((request) => request.status === 'Submitted')) as ProductionDevice,
    metered: approved.find((device) => touched(device) && !requestsFor(device.gsrn).some((request) => request.productionPeriodStart.startsWith(lastMonth()))) as ProductionDevice,
    idle: approved.find((device) => !touched(device)) as ProductionDevice,
    draft: devicesOf('soleil-pd-administrator').find((device) => device.status === 'Draft') as ProductionDevice,
  };
}

const lastMonthMeasurement = (gsrn: string): MeasurementData => structuredClone(measurementsFor(gsrn).find((item) => item.periodStart.startsWith(lastMonth())) as MeasurementData);
const submittedOf = (username: string): IssuanceRequest =>
  structuredClone([...registry().issuanceRequests.values()].find((request) => request.status === 'Submitted' && registry().devices.get(request.gsrn)?.organizationId === orgOf(username)) as IssuanceRequest);
const approvedOf = (username: string): IssuanceRequest =>
  structuredClone([...registry().issuanceRequests.values()].find((request) => request.status === 'Approved' && registry().devices.get(request.gsrn)?.organizationId === orgOf(username)) as IssuanceRequest);

describe('every operation: 401 without a token, 403 AUTH_003 for a role the permission table does not list', () => {
  // [method, path, a user whose roles the operation does not grant]
  const operations: [string, string, string][] = [
    ['GET', `${AH}/MeasurementData`, 'soleil-trader'],
    ['POST', `${AH}/MeasurementData`, 'soleil-pd-viewer'],
    ['GET', `${AH}/MeasurementData/${UNKNOWN_ID}`, 'soleil-account-viewer'],
    ['GET', `${AH}/IssuanceRequests`, 'soleil-trader'],
    ['POST', `${AH}/IssuanceRequests`, 'soleil-pd-viewer'],
    ['GET', `${AH}/IssuanceRequests/${UNKNOWN_ID}`, 'soleil-cancellation-statement-viewer'],
    ['DELETE', `${AH}/IssuanceRequests/${UNKNOWN_ID}`, 'soleil-pd-viewer'],
    ['GET', `${IB}/MeasurementData`, 'ib-ah-viewer'],
    ['GET', `${IB}/MeasurementData/${UNKNOWN_ID}`, 'soleil-root'],
    ['GET', `${IB}/IssuanceRequests`, 'ib-user-administrator'],
    ['GET', `${IB}/IssuanceRequests/${UNKNOWN_ID}`, 'ib-cancellation-statement-viewer'],
    ['PATCH', `${IB}/IssuanceRequests/${UNKNOWN_ID}`, 'ib-pd-viewer'],
    ['POST', `${IB}/Issuances`, 'ib-pd-editor'],
  ];
  const bodyFor = (method: string): Omit<RequestOptions, 'token'> => (method === 'POST' || method === 'PATCH' ? { body: {} } : {});

  it('401 AUTH_001 without a token', async () => {
    for (const [method, path] of operations) expectCode(await as(null, method, path, bodyFor(method)), 401, 'AUTH_001');
  });

  it('403 AUTH_003 for a user without a granted role, before the body is looked at', async () => {
    for (const [method, path, username] of operations) expectCode(await as(username, method, path, bodyFor(method)), 403, 'AUTH_003');
  });
});

describe('reads: the own organisation for an account holder, the domain for the issuing body', () => {
  it('ahGetMeasurementData: own devices only, newest first, paged and filtered', async () => {
    const own = new Set(devicesOf('soleil-pd-viewer').map((device) => device.gsrn));
    const items: MeasurementData[] = await read('soleil-pd-viewer', `${AH}/MeasurementData?$top=500`);
    assert.ok(items.length > 0);
    assert.ok(items.every((item) => own.has(item.gsrn)));
    assert.deepEqual(items.map((item) => item.submittedAt), items.map((item) => item.submittedAt).sort().reverse());
    assert.equal((await read('soleil-root', `${AH}/MeasurementData?$top=2&$skip=1`)).length, 2);
    const { metered } = soleilPlants();
    const filtered: MeasurementData[] = await read('soleil-pd-administrator', `${AH}/MeasurementData?$filter=${q(`gsrn eq '${metered.gsrn}' and issuanceRequestId eq null`)}`);
    assert.deepEqual(filtered.map((item) => item.measurementDataId), [lastMonthMeasurement(metered.gsrn).measurementDataId]);
  });

  it('ibGetMeasurementData: every organisation of the domain', async () => {
    const items: MeasurementData[] = await read('ib-pd-viewer', `${IB}/MeasurementData?$top=500`);
    const organizations = new Set(items.map((item) => registry().devices.get(item.gsrn)?.organizationId));
    assert.ok(organizations.has(orgOf('soleil-root')) && organizations.has(orgOf('eolien-root')));
    assert.equal(items.length, registry().measurements.size);
  });

  it('MeasurementData/{id}: 200 for the own (AH) or any (IB) entry; 404 MEASUREMENT_001 for another organisation or an unknown id', async () => {
    const entry = lastMonthMeasurement(soleilPlants().metered.gsrn);
    assert.deepEqual(await read('soleil-pd-viewer', `${AH}/MeasurementData/${entry.measurementDataId}`), entry);
    assert.deepEqual(await read('ib-supervisory-authority', `${IB}/MeasurementData/${entry.measurementDataId}`), entry);
    const refused = await as('eolien-pd-viewer', 'GET', `${AH}/MeasurementData/${entry.measurementDataId}`);
    expectCode(refused, 404, 'MEASUREMENT_001');
    assert.match(refused.json.responseMessage, new RegExp(entry.measurementDataId));
    expectCode(await as('soleil-root', 'GET', `${AH}/MeasurementData/${UNKNOWN_ID}`), 404, 'MEASUREMENT_001');
    expectCode(await as('ib-root', 'GET', `${IB}/MeasurementData/${UNKNOWN_ID}`), 404, 'MEASUREMENT_001');
  });

  it('ahGetIssuanceRequests and ahGetIssuanceRequest: own devices only, an Approved one names its range', async () => {
    const own = new Set(devicesOf('soleil-pd-viewer').map((device) => device.gsrn));
    const items: IssuanceRequest[] = await read('soleil-pd-viewer', `${AH}/IssuanceRequests?$top=500`);
    assert.ok(items.every((item) => own.has(item.gsrn)));
    assert.deepEqual(new Set(items.map((item) => item.status)), new Set(['Approved', 'Rejected', 'Submitted']));
    const approved = approvedOf('soleil-pd-viewer');
    const one: IssuanceRequest = await read('soleil-pd-viewer', `${AH}/IssuanceRequests/${approved.issuanceRequestId}`);
    assert.deepEqual(one, approved);
    assert.equal((certificateSerial(one.endCertificateId as string) as number) - (certificateSerial(one.startCertificateId as string) as number) + 1, one.volumeMWh);
    const pending: IssuanceRequest[] = await read('soleil-pd-viewer', `${AH}/IssuanceRequests?$filter=${q("status eq 'Submitted'")}`);
    assert.deepEqual(pending.map((item) => item.issuanceRequestId), [submittedOf('soleil-pd-viewer').issuanceRequestId]);
  });

  it('ibGetIssuanceRequests and ibGetIssuanceRequest: the whole domain; 404 ISSUANCE_001 only for an unknown id', async () => {
    const items: IssuanceRequest[] = await read('ib-pd-editor', `${IB}/IssuanceRequests?$top=500`);
    assert.equal(items.length, registry().issuanceRequests.size);
    const eolien = submittedOf('eolien-root');
    assert.deepEqual(await read('ib-pd-editor', `${IB}/IssuanceRequests/${eolien.issuanceRequestId}`), eolien);
    expectCode(await as('soleil-root', 'GET', `${AH}/IssuanceRequests/${eolien.issuanceRequestId}`), 404, 'ISSUANCE_001');
    expectCode(await as('soleil-root', 'GET', `${AH}/IssuanceRequests/${UNKNOWN_ID}`), 404, 'ISSUANCE_001');
    expectCode(await as('super-user', 'GET', `${IB}/IssuanceRequests/${UNKNOWN_ID}`), 404, 'ISSUANCE_001');
  });

  it('400 _002 for a malformed query or path id, naming it ($top above 500 included: this API documents no _014)', async () => {
    const cases: [string, string, string][] = [
      ['soleil-root', `${AH}/MeasurementData?$top=0`, 'MEASUREMENT_002'],
      ['soleil-root', `${AH}/MeasurementData?$top=501`, 'MEASUREMENT_002'],
      ['soleil-root', `${AH}/MeasurementData/not-a-uuid`, 'MEASUREMENT_002'],
      ['ib-root', `${IB}/MeasurementData?$filter=${q("colour eq 'blue'")}`, 'MEASUREMENT_002'],
      ['ib-root', `${IB}/MeasurementData/42`, 'MEASUREMENT_002'],
      ['soleil-root', `${AH}/IssuanceRequests?$orderby=colour`, 'ISSUANCE_002'],
      ['soleil-root', `${AH}/IssuanceRequests/not-a-uuid`, 'ISSUANCE_002'],
      ['ib-root', `${IB}/IssuanceRequests?$skip=-1`, 'ISSUANCE_002'],
      ['ib-root', `${IB}/IssuanceRequests/not-a-uuid`, 'ISSUANCE_002'],
    ];
    for (const [username, path, responseCode] of cases) expectCode(await as(username, 'GET', path), 400, responseCode);
  });
});

describe('POST MeasurementData (ahCreateMeasurementData)', () => {
  before(reset);
  const LIST = `${AH}/MeasurementData?$top=500`;
  const post = (body: unknown, username = 'soleil-pd-administrator', contentType?: string) => as(username, 'POST', `${AH}/MeasurementData`, { body, contentType });

  it('400 MEASUREMENT_004 for a body that is not JSON', async () => {
    await refusedWithoutChange('soleil-root', LIST, () => post('gsrn=1', 'soleil-root', 'text/plain'), 400, 'MEASUREMENT_004');
  });

  it('400 MEASUREMENT_002 naming the fields: check digit, period order, negative volume, missing field', async () => {
    const { idle } = soleilPlants();
    const { start, end } = wholeMonth(lastMonth());
    const bad = await refusedWithoutChange('soleil-root', LIST, () => post({ gsrn: wrongCheckDigit(idle.gsrn), periodStart: end, periodEnd: start, volumeMWh: 10 }), 400, 'MEASUREMENT_002');
    assert.match(bad.json.responseMessage, /Error in: gsrn, periodEnd\./);
    const negative = await post({ gsrn: idle.gsrn, periodStart: start, periodEnd: end, volumeMWh: -1 });
    expectCode(negative, 400, 'MEASUREMENT_002');
    assert.match(negative.json.responseMessage, /volumeMWh/);
    const missing = await post({ gsrn: idle.gsrn, periodStart: start, volumeMWh: 1 });
    expectCode(missing, 400, 'MEASUREMENT_002');
    assert.match(missing.json.responseMessage, /periodEnd/);
  });

  it('403 MEASUREMENT_003 for another organisation’s device or an unknown one', async () => {
    const { start, end } = wholeMonth(lastMonth());
    const theirs = devicesOf('eolien-root').find((device) => device.status === 'Approved') as ProductionDevice;
    const refused = await refusedWithoutChange('soleil-root', LIST, () => post({ gsrn: theirs.gsrn, periodStart: start, periodEnd: end, volumeMWh: 1 }), 403, 'MEASUREMENT_003');
    assert.match(refused.json.responseMessage, new RegExp(theirs.gsrn));
    expectCode(await post({ gsrn: unknownGsrn(), periodStart: start, periodEnd: end, volumeMWh: 1 }), 403, 'MEASUREMENT_003');
  });

  it('400 MEASUREMENT_011 for a period across two months or in a month that has not ended', async () => {
    const { idle } = soleilPlants();
    const month = lastMonth();
    const across = { gsrn: idle.gsrn, periodStart: `${shiftMonth(month, -1)}-20`, periodEnd: `${month}-10`, volumeMWh: 1 };
    await refusedWithoutChange('soleil-root', LIST, () => post(across), 400, 'MEASUREMENT_011');
    const today = registry().today();
    expectCode(await post({ gsrn: idle.gsrn, periodStart: `${today.slice(0, 7)}-01`, periodEnd: today, volumeMWh: 1 }), 400, 'MEASUREMENT_011');
  });

  it('400 MEASUREMENT_010 when the device already has data for part of the period', async () => {
    const { metered } = soleilPlants();
    const month = lastMonth();
    await refusedWithoutChange('soleil-root', LIST, () => post({ gsrn: metered.gsrn, periodStart: `${month}-10`, periodEnd: `${month}-12`, volumeMWh: 3 }), 400, 'MEASUREMENT_010');
  });

  it('201 MEASUREMENT_201: recorded, readable by id, listed first, visible to the issuing body and to no other organisation', async () => {
    const { idle } = soleilPlants();
    const { start, end } = wholeMonth(lastMonth());
    const created = await post({ gsrn: idle.gsrn, periodStart: start, periodEnd: end, volumeMWh: 1234.567 });
    expectCode(created, 201, 'MEASUREMENT_201');
    const id = idIn(created, 'Measurement data id');
    const entry: MeasurementData = await read('soleil-pd-viewer', `${AH}/MeasurementData/${id}`);
    assert.deepEqual({ ...entry, submittedAt: undefined }, { measurementDataId: id, gsrn: idle.gsrn, periodStart: start, periodEnd: end, volumeMWh: 1234.567, submittedAt: undefined, issuanceRequestId: null });
    assert.equal((await read('soleil-root', LIST))[0].measurementDataId, id);
    assert.deepEqual(await read('ib-pd-viewer', `${IB}/MeasurementData/${id}`), entry);
    expectCode(await as('eolien-root', 'GET', `${AH}/MeasurementData/${id}`), 404, 'MEASUREMENT_001');
    // A month without production is recorded too.
    const previous = wholeMonth(shiftMonth(lastMonth(), -1));
    const idleMonths = measurementsFor(idle.gsrn).map((item) => item.periodStart.slice(0, 7));
    const free = idleMonths.includes(previous.start.slice(0, 7)) ? wholeMonth(shiftMonth(lastMonth(), -6)) : previous;
    expectCode(await post({ gsrn: idle.gsrn, periodStart: free.start, periodEnd: free.end, volumeMWh: 0 }, 'soleil-root'), 201, 'MEASUREMENT_201');
  });
});

describe('POST IssuanceRequests (ahCreateIssuanceRequest), in the contract’s order of checks', () => {
  before(reset);
  const LIST = `${IB}/IssuanceRequests?$top=500`;
  const post = (body: unknown, contentType?: string) => as('soleil-pd-administrator', 'POST', `${AH}/IssuanceRequests`, { body, contentType });
  const ask = (device: ProductionDevice, month: string, volumeMWh: number, extra: object = {}) => {
    const { start, end } = wholeMonth(month);
    return { gsrn: device.gsrn, productionPeriodStart: start, productionPeriodEnd: end, volumeMWh, ...extra };
  };
  const refused = (body: unknown, status: number, responseCode: string) => refusedWithoutChange('ib-root', LIST, () => post(body), status, responseCode);

  it('400 ISSUANCE_004 for a body that is not JSON', async () => {
    await refusedWithoutChange('ib-root', LIST, () => post('{}', 'text/plain'), 400, 'ISSUANCE_004');
  });

  it('400 ISSUANCE_002 naming the fields: check digit, period order, a volume under 1', async () => {
    const { idle } = soleilPlants();
    const { start, end } = wholeMonth(lastMonth());
    const reply = await refused({ gsrn: wrongCheckDigit(idle.gsrn), productionPeriodStart: end, productionPeriodEnd: start, volumeMWh: 5 }, 400, 'ISSUANCE_002');
    assert.match(reply.json.responseMessage, /Error in: gsrn, productionPeriodEnd\./);
    const zero = await post(ask(idle, lastMonth(), 0));
    expectCode(zero, 400, 'ISSUANCE_002');
    assert.match(zero.json.responseMessage, /volumeMWh/);
  });

  it('403 ISSUANCE_003 for another organisation’s device or an unknown one', async () => {
    const theirs = devicesOf('eolien-root').find((device) => device.status === 'Approved') as ProductionDevice;
    const reply = await refused(ask(theirs, lastMonth(), 1), 403, 'ISSUANCE_003');
    assert.match(reply.json.responseMessage, new RegExp(theirs.gsrn));
    expectCode(await post({ ...ask(theirs, lastMonth(), 1), gsrn: unknownGsrn() }), 403, 'ISSUANCE_003');
  });

  it('400 ISSUANCE_012 for a device that is not Approved, or whose issuing account is locked', async () => {
    const { draft, idle } = soleilPlants();
    await refused(ask(draft, lastMonth(), 1), 400, 'ISSUANCE_012');
    const lock = (locked: boolean) =>
      as('ib-root', 'PATCH', `/managementapi/IB/managementapi/Accounts/${idle.issuingAccountNumber}/Lock`, { body: { locked, reason: 'Metering dispute under review' } });
    assert.equal((await lock(true)).status, 200);
    await refused(ask(idle, lastMonth(), 1), 400, 'ISSUANCE_012');
    assert.equal((await lock(false)).status, 200);
  });

  it('400 ISSUANCE_016 for a period across two months or in a month that has not ended', async () => {
    const { idle } = soleilPlants();
    const month = lastMonth();
    await refused({ ...ask(idle, month, 1), productionPeriodStart: `${shiftMonth(month, -1)}-15` }, 400, 'ISSUANCE_016');
    await refused(ask(idle, shiftMonth(month, 1), 1), 400, 'ISSUANCE_016');
  });

  it('400 ISSUANCE_011 more than five months after the end of the production month', async () => {
    const { idle } = soleilPlants();
    // Five months before last month ended more than five months ago (its deadline was the end of last month).
    await refused(ask(idle, shiftMonth(lastMonth(), -5), 1), 400, 'ISSUANCE_011');
  });

  it('400 ISSUANCE_010 when part of the period is already issued or requested', async () => {
    const { pending, idle } = soleilPlants();
    await refused(ask(pending, lastMonth(), 1), 400, 'ISSUANCE_010');
    const issuedMonth = shiftMonth(lastMonth(), -1);
    assert.ok([...registry().bundles.values()].some((bundle) => bundle.gsrn === idle.gsrn && bundle.productionPeriodStart.startsWith(issuedMonth)));
    await refused({ ...ask(idle, issuedMonth, 1), productionPeriodStart: `${issuedMonth}-20` }, 400, 'ISSUANCE_010');
  });

  it('400 ISSUANCE_015 for a measurement that is unknown, of another device, or below the volume', async () => {
    const { metered, pending } = soleilPlants();
    const measured = lastMonthMeasurement(metered.gsrn);
    const whole = Math.floor(measured.volumeMWh);
    await refused(ask(metered, lastMonth(), whole + 1, { measurementDataId: measured.measurementDataId }), 400, 'ISSUANCE_015');
    await refused(ask(metered, lastMonth(), 1, { measurementDataId: lastMonthMeasurement(pending.gsrn).measurementDataId }), 400, 'ISSUANCE_015');
    await refused(ask(metered, lastMonth(), 1, { measurementDataId: UNKNOWN_ID }), 400, 'ISSUANCE_015');
  });

  it('400 ISSUANCE_013 for a volume above capacity × the period’s hours', async () => {
    const { idle } = soleilPlants();
    const month = lastMonth();
    const days = Number(lastDayOf(month).slice(8));
    await refused(ask(idle, month, Math.floor(idle.capacityMW * days * 24) + 1), 400, 'ISSUANCE_013');
    // Half a month allows half the volume.
    await refused({ ...ask(idle, month, Math.floor(idle.capacityMW * 15 * 24) + 1), productionPeriodEnd: `${month}-15` }, 400, 'ISSUANCE_013');
  });

  it('201 ISSUANCE_201: Submitted, based on its measurement, which now names it', async () => {
    const { metered } = soleilPlants();
    const measured = lastMonthMeasurement(metered.gsrn);
    const created = await post(ask(metered, lastMonth(), Math.floor(measured.volumeMWh), { measurementDataId: measured.measurementDataId }));
    expectCode(created, 201, 'ISSUANCE_201');
    const id = idIn(created, 'Issuance request id');
    const request: IssuanceRequest = await read('soleil-pd-viewer', `${AH}/IssuanceRequests/${id}`);
    assert.equal(request.status, 'Submitted');
    assert.equal(request.measurementDataId, measured.measurementDataId);
    assert.equal(request.issuingAccountNumber, metered.issuingAccountNumber);
    assert.deepEqual([request.decidedAt, request.issuanceId, request.startCertificateId, request.endCertificateId], [null, null, null, null]);
    assert.equal((await read('soleil-pd-viewer', `${AH}/MeasurementData/${measured.measurementDataId}`)).issuanceRequestId, id);
    // The same request again is refused: the period is now requested.
    expectCode(await post(ask(metered, lastMonth(), 1)), 400, 'ISSUANCE_010');
  });

  it('the deadline: the last day of the fifth month after production is in time, at capacity × hours; the next day is not', async () => {
    const { idle } = soleilPlants();
    const month = lastMonth();
    const days = Number(lastDayOf(month).slice(8));
    /** At `now`, as soleil with a token of that time (months later, the earlier ones have expired). */
    const postAt = async (now: string, body: unknown) => {
      await mock.admin('POST', '/__admin/clock', { now });
      const token = (await mock.admin('POST', '/__admin/token', { user: 'soleil-pd-administrator' })).json.access_token;
      return mock.request('POST', `${AH}/IssuanceRequests`, { token, body });
    };
    expectCode(await postAt(`${lastDayOf(shiftMonth(month, 5))}T23:00:00Z`, ask(idle, month, Math.floor(idle.capacityMW * days * 24))), 201, 'ISSUANCE_201');
    const state = await registryState();
    expectCode(await postAt(`${shiftMonth(month, 6)}-01T00:30:00Z`, ask(idle, month, 1)), 400, 'ISSUANCE_011');
    assert.deepEqual((await registryState() as { issuanceRequests: object }).issuanceRequests, (state as { issuanceRequests: object }).issuanceRequests);
  });
});

describe('DELETE IssuanceRequests/{id} (ahDeleteIssuanceRequest)', () => {
  before(reset);
  const LIST = `${AH}/IssuanceRequests?$top=500`;
  const remove = (id: string, options: Omit<RequestOptions, 'token'> = {}) => as('soleil-pd-administrator', 'DELETE', `${AH}/IssuanceRequests/${id}`, options);

  it('400 ISSUANCE_004 for a body sent as anything but JSON', async () => {
    const { issuanceRequestId } = submittedOf('soleil-root');
    await refusedWithoutChange('soleil-root', LIST, () => remove(issuanceRequestId, { body: 'withdraw', contentType: 'text/plain' }), 400, 'ISSUANCE_004');
  });

  it('400 ISSUANCE_002 for an id that is not a UUID; 404 ISSUANCE_001 for another organisation’s request or an unknown one', async () => {
    await refusedWithoutChange('soleil-root', LIST, () => remove('not-a-uuid'), 400, 'ISSUANCE_002');
    await refusedWithoutChange('ib-root', `${IB}/IssuanceRequests?$top=500`, () => remove(submittedOf('eolien-root').issuanceRequestId), 404, 'ISSUANCE_001');
    expectCode(await remove(UNKNOWN_ID), 404, 'ISSUANCE_001');
  });

  it('400 ISSUANCE_014 for a request already decided, naming its status', async () => {
    const reply = await refusedWithoutChange('soleil-root', LIST, () => remove(approvedOf('soleil-root').issuanceRequestId), 400, 'ISSUANCE_014');
    assert.match(reply.json.responseMessage, /Its status is Approved\./);
  });

  it('200 ISSUANCE_203: Withdrawn (kept, dated), its measurement freed, its period open again', async () => {
    const request = submittedOf('soleil-root');
    const removed = await remove(request.issuanceRequestId);
    expectCode(removed, 200, 'ISSUANCE_203');
    assert.match(removed.json.responseMessage, new RegExp(request.issuanceRequestId));
    const after: IssuanceRequest = await read('soleil-root', `${AH}/IssuanceRequests/${request.issuanceRequestId}`);
    assert.equal(after.status, 'Withdrawn');
    assert.equal(after.decidedAt, registry().issuanceRequests.get(request.issuanceRequestId)?.decidedAt);
    assert.ok(after.decidedAt && after.decidedAt > after.submittedAt);
    assert.equal((await read('soleil-root', `${AH}/MeasurementData/${request.measurementDataId}`)).issuanceRequestId, null);
    expectCode(await remove(request.issuanceRequestId), 400, 'ISSUANCE_014');
    const again = await as('soleil-root', 'POST', `${AH}/IssuanceRequests`, {
      body: { gsrn: request.gsrn, productionPeriodStart: request.productionPeriodStart, productionPeriodEnd: request.productionPeriodEnd, volumeMWh: request.volumeMWh, measurementDataId: request.measurementDataId },
    });
    expectCode(again, 201, 'ISSUANCE_201');
    assert.equal((await read('soleil-root', `${AH}/MeasurementData/${request.measurementDataId}`)).issuanceRequestId, idIn(again, 'Issuance request id'));
  });
});

describe('PATCH IssuanceRequests/{id} (ibDecideIssuanceRequest)', () => {
  before(reset);
  const LIST = `${IB}/IssuanceRequests?$top=500`;
  const decide = (id: string, body: unknown, contentType?: string) => as('ib-pd-administrator', 'PATCH', `${IB}/IssuanceRequests/${id}`, { body, contentType });
  const refused = (id: string, body: unknown, status: number, responseCode: string, contentType?: string) =>
    refusedWithoutChange('ib-root', LIST, () => decide(id, body, contentType), status, responseCode);

  it('400 ISSUANCE_004 for a body that is not JSON', async () => {
    await refused(submittedOf('soleil-root').issuanceRequestId, 'decision=Approve', 400, 'ISSUANCE_004', 'application/x-www-form-urlencoded');
  });

  it('400 ISSUANCE_002: an unknown decision, a rejection without a reason, an id that is not a UUID', async () => {
    const { issuanceRequestId } = submittedOf('soleil-root');
    const unknown = await refused(issuanceRequestId, { decision: 'Maybe' }, 400, 'ISSUANCE_002');
    assert.match(unknown.json.responseMessage, /decision/);
    const reasonless = await refused(issuanceRequestId, { decision: 'Reject', reason: '   ' }, 400, 'ISSUANCE_002');
    assert.match(reasonless.json.responseMessage, /Error in: reason\./);
    expectCode(await decide(issuanceRequestId, { decision: 'Reject' }), 400, 'ISSUANCE_002');
    await refused('not-a-uuid', { decision: 'Approve' }, 400, 'ISSUANCE_002');
  });

  it('404 ISSUANCE_001 for an unknown request; 400 ISSUANCE_014 for a decided one', async () => {
    await refused(UNKNOWN_ID, { decision: 'Approve' }, 404, 'ISSUANCE_001');
    const reply = await refused(approvedOf('eolien-root').issuanceRequestId, { decision: 'Reject', reason: 'Second thoughts' }, 400, 'ISSUANCE_014');
    assert.match(reply.json.responseMessage, /Approved/);
  });

  it('400 ISSUANCE_012 when the device’s issuing account can no longer receive certificates', async () => {
    const request = submittedOf('eolien-root');
    const account = registry().devices.get(request.gsrn)?.issuingAccountNumber as string;
    const lock = (locked: boolean) => as('ib-root', 'PATCH', `/managementapi/IB/managementapi/Accounts/${account}/Lock`, { body: { locked, reason: 'Audit of the issuing account' } });
    assert.equal((await lock(true)).status, 200);
    await refused(request.issuanceRequestId, { decision: 'Approve' }, 400, 'ISSUANCE_012');
    // A rejection issues nothing, so a locked account does not stop it.
    assert.equal((await lock(false)).status, 200);
  });

  it('200 ISSUANCE_202 Reject: Rejected with its reason, nothing issued, the measurement freed', async () => {
    const request = submittedOf('eolien-root');
    const state = (await registryState()) as { bundles: object; transactions: object };
    const reply = await decide(request.issuanceRequestId, { decision: 'Reject', reason: 'Volume not supported by the grid operator' });
    expectCode(reply, 200, 'ISSUANCE_202');
    assert.match(reply.json.responseMessage, /Status: Rejected\./);
    const after: IssuanceRequest = await read('eolien-root', `${AH}/IssuanceRequests/${request.issuanceRequestId}`);
    assert.deepEqual([after.status, after.decisionReason, after.issuanceId], ['Rejected', 'Volume not supported by the grid operator', null]);
    const now = (await registryState()) as { bundles: object; transactions: object };
    assert.deepEqual([now.bundles, now.transactions], [state.bundles, state.transactions]);
    assert.equal((await read('eolien-root', `${AH}/MeasurementData/${request.measurementDataId}`)).issuanceRequestId, null);
  });

  it('200 ISSUANCE_202 Approve: one Active bundle of the next contiguous ids in the issuing account, an Issuance transaction, and the reports follow', async () => {
    const request = submittedOf('soleil-root');
    const device = registry().devices.get(request.gsrn) as ProductionDevice;
    const month = request.productionPeriodStart.slice(0, 7);
    const first = registry().nextCertificate;
    const issuedBefore = await issuedVolume(month, device.technologyCode);
    const statisticsBefore = await issuedThisMonth(device.technologyCode);
    const balanceBefore = await activeBalance(device.issuingAccountNumber as string, device.technologyCode);

    const reply = await decide(request.issuanceRequestId, { decision: 'Approve' });
    expectCode(reply, 200, 'ISSUANCE_202');
    assert.match(reply.json.responseMessage, /Status: Approved\./);
    const after: IssuanceRequest = await read('soleil-pd-viewer', `${AH}/IssuanceRequests/${request.issuanceRequestId}`);
    assert.equal(after.status, 'Approved');
    assert.equal(certificateSerial(after.startCertificateId as string), first);
    assert.equal(certificateSerial(after.endCertificateId as string), first + request.volumeMWh - 1);

    const bundles: CertificateBundle[] = await read('soleil-account-viewer', `${CERTIFICATES}?$top=10&$filter=${q(`issuanceId eq '${after.issuanceId}'`)}`);
    assert.equal(bundles.length, 1);
    const [bundle] = bundles;
    assert.deepEqual(
      { ...bundle, bundleId: undefined },
      {
        bundleId: undefined,
        issuanceId: after.issuanceId,
        accountNumber: device.issuingAccountNumber,
        startCertificateId: after.startCertificateId,
        endCertificateId: after.endCertificateId,
        volumeMWh: request.volumeMWh,
        productionPeriodStart: request.productionPeriodStart,
        productionPeriodEnd: request.productionPeriodEnd,
        issuingDate: registry().today(),
        expiryDate: lastDayOf(shiftMonth(month, 12)),
        status: 'Active',
        gsrn: device.gsrn,
        technologyCode: device.technologyCode,
        energySourceCode: device.energySourceCode,
        country: device.country,
        issuingBody: registry().issuingBody.name,
        supportReceived: device.supportScheme !== 'None',
      },
    );
    const history = await read('soleil-account-viewer', `/privatereportsapi/AH/privatereportsapi/TransactionHistory?$filter=${q("type eq 'Issuance'")}&$top=1`);
    assert.deepEqual(
      { type: history[0].type, to: history[0].toAccountNumber, volume: history[0].volumeMWh, bundles: history[0].bundles },
      { type: 'Issuance', to: device.issuingAccountNumber, volume: request.volumeMWh, bundles: [{ startCertificateId: after.startCertificateId, endCertificateId: after.endCertificateId }] },
    );
    assert.equal(await issuedVolume(month, device.technologyCode), issuedBefore + request.volumeMWh);
    assert.equal(await issuedThisMonth(device.technologyCode), statisticsBefore + request.volumeMWh);
    assert.equal(await activeBalance(device.issuingAccountNumber as string, device.technologyCode), balanceBefore + request.volumeMWh);

    // The next issuance continues the numbering.
    const next = submittedOf('hydro-root');
    expectCode(await decide(next.issuanceRequestId, { decision: 'Approve', reason: 'Metering confirmed' }), 200, 'ISSUANCE_202');
    const approved: IssuanceRequest = await read('ib-pd-viewer', `${IB}/IssuanceRequests/${next.issuanceRequestId}`);
    assert.equal(certificateSerial(approved.startCertificateId as string), first + request.volumeMWh);
    assert.equal(approved.decisionReason, 'Metering confirmed');
  });
});

/** The public IssuedVolumes of a production month for a technology. */
async function issuedVolume(month: string, technologyCode: string): Promise<number> {
  const rows = await (await mock.request('GET', `/publicreportsapi/publicreportsapi/IssuedVolumes?from=${month}&to=${month}`)).json;
  return rows.find((row: { technologyCode: string }) => row.technologyCode === technologyCode)?.volumeMWh ?? 0;
}

/** The IB DomainStatistics issued volume of the current month for a technology. */
async function issuedThisMonth(technologyCode: string): Promise<number> {
  const month = registry().today().slice(0, 7);
  const rows = await read('ib-ah-viewer', `/privatereportsapi/IB/privatereportsapi/DomainStatistics?from=${month}&to=${month}&technologyCode=${technologyCode}`);
  return rows[0]?.issuedVolumeMWh ?? 0;
}

/** The Active volume of one account and technology in AccountBalances (as the account's owner sees it). */
async function activeBalance(accountNumber: string, technologyCode: string): Promise<number> {
  const owner = registry().accounts.get(accountNumber)?.organizationId;
  const username = [...registry().users.values()].find((user) => user.organizationId === owner && user.roles.includes('AH Root'))?.username as string;
  const rows = await read(username, `/privatereportsapi/AH/privatereportsapi/AccountBalances?accountNumber=${accountNumber}&technologyCode=${technologyCode}`);
  return rows[0]?.activeVolumeMWh ?? 0;
}

describe('POST Issuances (ibCreateIssuance), in the contract’s order of checks', () => {
  before(reset);
  const post = (body: unknown, contentType?: string) => as('super-user', 'POST', `${IB}/Issuances`, { body, contentType });
  const dgecWind = () => devicesOf('dgec-root').find((device) => device.status === 'Approved' && device.technologyCode === 'T020000') as ProductionDevice;
  const dgecAccounts = (): Account[] => structuredClone(registry().accountsOf(orgOf('dgec-root')));
  const auctionAccount = () => dgecAccounts().find((account) => !account.isDefault && !account.isIssuingAccount) as Account;
  const issue = (device: ProductionDevice, month: string, volumeMWh: number, extra: object = {}) => {
    const { start, end } = wholeMonth(month);
    return { gsrn: device.gsrn, accountNumber: auctionAccount().accountNumber, productionPeriodStart: start, productionPeriodEnd: end, volumeMWh, reason: 'Feed-in production issued to the State account', ...extra };
  };
  const refused = (body: unknown, status: number, responseCode: string, contentType?: string) =>
    refusedWithoutChange('ib-root', `${IB}/IssuanceRequests?$top=500`, () => post(body, contentType), status, responseCode);

  it('400 ISSUANCE_004 for a body that is not JSON', async () => {
    await refused(JSON.stringify(issue(dgecWind(), lastMonth(), 10)), 400, 'ISSUANCE_004', 'text/plain');
  });

  it('400 ISSUANCE_002 naming the fields: a blank reason, the check digit, the period order, a volume under 1', async () => {
    const device = dgecWind();
    const { start, end } = wholeMonth(lastMonth());
    const reply = await refused(issue(device, lastMonth(), 10, { gsrn: wrongCheckDigit(device.gsrn), productionPeriodStart: end, productionPeriodEnd: start, reason: '  ' }), 400, 'ISSUANCE_002');
    assert.match(reply.json.responseMessage, /Error in: gsrn, productionPeriodEnd, reason\./);
    expectCode(await post(issue(device, lastMonth(), 0)), 400, 'ISSUANCE_002');
    expectCode(await post({ ...issue(device, lastMonth(), 10), reason: undefined }), 400, 'ISSUANCE_002');
  });

  it('400 ISSUANCE_012 for an unknown device or one that is not Approved', async () => {
    await refused(issue(dgecWind(), lastMonth(), 10, { gsrn: unknownGsrn() }), 400, 'ISSUANCE_012');
    await refused(issue(soleilPlants().draft, lastMonth(), 10), 400, 'ISSUANCE_012');
  });

  it('400 ISSUANCE_017 for an account that is unknown, locked, inactive, or of another standard', async () => {
    const accounts = [...registry().accounts.values()];
    const locked = accounts.find((account) => account.isLocked && account.status === 'Active') as Account;
    const inactive = accounts.find((account) => account.status === 'Inactive') as Account;
    const gas = accounts.find((account) => account.standardAssociation !== auctionAccount().standardAssociation && account.status === 'Active' && !account.isLocked) as Account;
    for (const accountNumber of ['643099000000000001', locked.accountNumber, inactive.accountNumber, gas.accountNumber]) {
      const reply = await refused(issue(dgecWind(), lastMonth(), 10, { accountNumber }), 400, 'ISSUANCE_017');
      assert.match(reply.json.responseMessage, new RegExp(accountNumber));
    }
  });

  it('400 ISSUANCE_016, _011, _010 and _013: the period and volume rules of an issuance request', async () => {
    const device = dgecWind();
    const month = lastMonth();
    await refused(issue(device, month, 10, { productionPeriodStart: `${shiftMonth(month, -1)}-28` }), 400, 'ISSUANCE_016');
    await refused(issue(device, shiftMonth(month, 1), 10), 400, 'ISSUANCE_016');
    await refused(issue(device, shiftMonth(month, -5), 10), 400, 'ISSUANCE_011');
    await refused(issue(device, shiftMonth(month, -1), 10), 400, 'ISSUANCE_010');
    const days = Number(lastDayOf(month).slice(8));
    await refused(issue(device, month, Math.floor(device.capacityMW * days * 24) + 1), 400, 'ISSUANCE_013');
  });

  it('201 ISSUANCE_204: the bundle lands in the named account, the public volumes follow, and the period is issued once', async () => {
    const device = dgecWind();
    const month = lastMonth();
    const before = await issuedVolume(month, device.technologyCode);
    const first = registry().nextCertificate;
    const reply = await post(issue(device, month, 9876));
    expectCode(reply, 201, 'ISSUANCE_204');
    const issuanceId = idIn(reply, 'Issuance id');
    const bundles: CertificateBundle[] = await read('dgec-root', `${CERTIFICATES}?$top=10&$filter=${q(`issuanceId eq '${issuanceId}'`)}`);
    assert.equal(bundles.length, 1);
    assert.deepEqual(
      [bundles[0].accountNumber, bundles[0].volumeMWh, certificateSerial(bundles[0].startCertificateId), certificateSerial(bundles[0].endCertificateId), bundles[0].supportReceived, bundles[0].status],
      [auctionAccount().accountNumber, 9876, first, first + 9875, true, 'Active'],
    );
    assert.equal(await issuedVolume(month, device.technologyCode), before + 9876);
    expectCode(await post(issue(device, month, 1)), 400, 'ISSUANCE_010');
  });
});
