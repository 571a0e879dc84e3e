import { certificateId, isValidGsrn, type Account, type CertificateBundle, type IssuanceRequest, type MeasurementData, type ProductionDevice } from './model.js';
import { lastDayOf, monthOf, shiftMonth, daysBetween } from './calendar.js';
import { refuse, type Refusal, type Registry, type Writer } from './registry.js';

/**
 * From metered production to certificates (certificate-creation.yaml):
 * measurement data, issuance requests, the issuing body's decisions and
 * direct issuance. Every function checks in the contract's order and changes
 * nothing before the last check has passed.
 */

/** Issuance must be requested within this many months of the end of the production month (March: until 31 August). */
const DEADLINE_MONTHS = 5;
const VALIDITY_MONTHS = 12;

/** Twelve months after the end of the production period; a period ending a month ends the same month a year later (28 or 29 February alike). */
function expiryOf(productionEnd: string): string {
  const month = monthOf(productionEnd);
  if (productionEnd === lastDayOf(month)) return lastDayOf(shiftMonth(month, VALIDITY_MONTHS));
  return `${Number(productionEnd.slice(0, 4)) + 1}${productionEnd.slice(4)}`;
}

interface Period {
  start: string;
  end: string;
}

const overlaps = (a: Period, b: Period): boolean => a.start <= b.end && b.start <= a.end;
const hoursOf = (period: Period): number => (daysBetween(period.start, period.end) + 1) * 24;

/** Inside one calendar month that is over by the registry's clock. */
const inEndedMonth = (registry: Registry, period: Period): boolean => monthOf(period.start) === monthOf(period.end) && monthOf(period.start) < monthOf(registry.today());

const deadlinePassed = (registry: Registry, period: Period): boolean => registry.today() > lastDayOf(shiftMonth(monthOf(period.end), DEADLINE_MONTHS));

/**
 * What the schema cannot say about a device and a period: the GSRN's check
 * digit and the period's order. Answers the field names for `_002`.
 */
export function periodProblems(gsrn: string, period: Period, fields: { start: string; end: string }): string[] {
  const problems: string[] = [];
  if (!isValidGsrn(gsrn)) problems.push('gsrn');
  if (period.end < period.start) problems.push(fields.end);
  return problems;
}

/** An account certificates can be issued into. */
const receives = (account: Account | undefined): account is Account => account !== undefined && account.status === 'Active' && !account.isLocked;

function issuingAccountOf(registry: Registry, device: ProductionDevice): Account | null {
  const account = device.issuingAccountNumber ? registry.accounts.get(device.issuingAccountNumber) : undefined;
  return device.status === 'Approved' && receives(account) ? account : null;
}

function ownDevice(registry: Registry, writer: Writer, gsrn: string): ProductionDevice | null {
  const device = registry.devices.get(gsrn);
  return device && device.organizationId === writer.organizationId ? device : null;
}

/**
 * A period of a device is issued once. Issued means certificates exist for
 * it (of any status but Withdrawn: the issuing body corrects metering by
 * withdrawing and issuing again); requested means a Submitted request.
 */
function alreadyIssuedOrRequested(registry: Registry, gsrn: string, period: Period): boolean {
  for (const request of registry.issuanceRequests.values()) {
    if (request.gsrn === gsrn && request.status === 'Submitted' && overlaps(period, { start: request.productionPeriodStart, end: request.productionPeriodEnd })) return true;
  }
  for (const bundle of registry.bundles.values()) {
    if (bundle.gsrn === gsrn && bundle.status !== 'Withdrawn' && overlaps(period, { start: bundle.productionPeriodStart, end: bundle.productionPeriodEnd })) return true;
  }
  return false;
}

/** The period rules every issuance shares, in the contracts' order: ISSUANCE_016, _011, _010. */
function periodRefusal(registry: Registry, gsrn: string, period: Period): Refusal | null {
  if (!inEndedMonth(registry, period)) return refuse('ISSUANCE_016');
  if (deadlinePassed(registry, period)) return refuse('ISSUANCE_011');
  if (alreadyIssuedOrRequested(registry, gsrn, period)) return refuse('ISSUANCE_010');
  return null;
}

const exceedsCapacity = (device: ProductionDevice, period: Period, volumeMWh: number): boolean => volumeMWh > device.capacityMW * hoursOf(period);

/** Newest first, as every collection of this API is by default. */
const newestFirst = <T extends { submittedAt: string }>(items: T[]): T[] => items.sort((a, b) => b.submittedAt.localeCompare(a.submittedAt));

/** `organizationId` narrows to one organisation's devices; without it, the whole domain. */
function ofOrganization(registry: Registry, gsrn: string, organizationId?: string): boolean {
  return organizationId === undefined || registry.devices.get(gsrn)?.organizationId === organizationId;
}

export function measurementsOf(registry: Registry, organizationId?: string): MeasurementData[] {
  return newestFirst([...registry.measurements.values()].filter((item) => ofOrganization(registry, item.gsrn, organizationId)));
}

export function measurementOf(registry: Registry, id: string, organizationId?: string): MeasurementData | Refusal {
  const item = registry.measurements.get(id);
  return item && ofOrganization(registry, item.gsrn, organizationId) ? item : refuse('MEASUREMENT_001', { 'Measurement Data Id': id });
}

export function issuanceRequestsOf(registry: Registry, organizationId?: string): IssuanceRequest[] {
  return newestFirst([...registry.issuanceRequests.values()].filter((item) => ofOrganization(registry, item.gsrn, organizationId)));
}

export function issuanceRequestOf(registry: Registry, id: string, organizationId?: string): IssuanceRequest | Refusal {
  const item = registry.issuanceRequests.get(id);
  return item && ofOrganization(registry, item.gsrn, organizationId) ? item : refuse('ISSUANCE_001', { 'Issuance Request Id': id });
}

export interface MeasurementInput {
  gsrn: string;
  periodStart: string;
  periodEnd: string;
  volumeMWh: number;
}

export function recordMeasurement(registry: Registry, writer: Writer, input: MeasurementInput): MeasurementData | Refusal {
  const device = ownDevice(registry, writer, input.gsrn);
  if (!device) return refuse('MEASUREMENT_003', { GSRN: input.gsrn });
  const period = { start: input.periodStart, end: input.periodEnd };
  if (!inEndedMonth(registry, period)) return refuse('MEASUREMENT_011');
  for (const other of registry.measurements.values()) {
    if (other.gsrn === device.gsrn && overlaps(period, { start: other.periodStart, end: other.periodEnd })) return refuse('MEASUREMENT_010', { GSRN: device.gsrn });
  }
  const measurement: MeasurementData = {
    measurementDataId: registry.newId(),
    gsrn: device.gsrn,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    volumeMWh: input.volumeMWh,
    submittedAt: registry.now(),
    issuanceRequestId: null,
  };
  registry.measurements.set(measurement.measurementDataId, measurement);
  registry.touch('measurements', measurement);
  return measurement;
}

export interface IssuanceRequestInput {
  gsrn: string;
  productionPeriodStart: string;
  productionPeriodEnd: string;
  volumeMWh: number;
  measurementDataId?: string;
}

/** The measurement a request cites must be of its device and period and cover its volume in whole MWh. */
function supports(measurement: MeasurementData | undefined, input: IssuanceRequestInput): boolean {
  return (
    measurement !== undefined &&
    measurement.gsrn === input.gsrn &&
    measurement.periodStart === input.productionPeriodStart &&
    measurement.periodEnd === input.productionPeriodEnd &&
    Math.floor(measurement.volumeMWh) >= input.volumeMWh
  );
}

export function requestIssuance(registry: Registry, writer: Writer, input: IssuanceRequestInput): IssuanceRequest | Refusal {
  const device = ownDevice(registry, writer, input.gsrn);
  if (!device) return refuse('ISSUANCE_003', { GSRN: input.gsrn });
  const account = issuingAccountOf(registry, device);
  if (!account) return refuse('ISSUANCE_012');
  const period = { start: input.productionPeriodStart, end: input.productionPeriodEnd };
  const refusal = periodRefusal(registry, device.gsrn, period);
  if (refusal) return refusal;
  const measurement = input.measurementDataId === undefined ? undefined : registry.measurements.get(input.measurementDataId);
  if (input.measurementDataId !== undefined && !supports(measurement, input)) return refuse('ISSUANCE_015');
  if (exceedsCapacity(device, period, input.volumeMWh)) return refuse('ISSUANCE_013');
  const request: IssuanceRequest = {
    issuanceRequestId: registry.newId(),
    gsrn: device.gsrn,
    productionPeriodStart: input.productionPeriodStart,
    productionPeriodEnd: input.productionPeriodEnd,
    volumeMWh: input.volumeMWh,
    measurementDataId: measurement?.measurementDataId ?? null,
    status: 'Submitted',
    submittedAt: registry.now(),
    decidedAt: null,
    decisionReason: null,
    issuingAccountNumber: account.accountNumber,
    issuanceId: null,
    startCertificateId: null,
    endCertificateId: null,
  };
  registry.issuanceRequests.set(request.issuanceRequestId, request);
  registry.touch('issuanceRequests', request);
  if (measurement) {
    measurement.issuanceRequestId = request.issuanceRequestId;
    registry.touch('measurements', measurement);
  }
  return request;
}

/** A measurement names the latest Submitted or Approved request based on it: after a withdrawal or rejection, the one before, if any. */
function relink(registry: Registry, measurementDataId: string | null): void {
  const measurement = measurementDataId ? registry.measurements.get(measurementDataId) : undefined;
  if (!measurement) return;
  const live = [...registry.issuanceRequests.values()].filter(
    (request) => request.measurementDataId === measurementDataId && (request.status === 'Submitted' || request.status === 'Approved'),
  );
  measurement.issuanceRequestId = newestFirst(live)[0]?.issuanceRequestId ?? null;
  registry.touch('measurements', measurement);
}

function close(registry: Registry, request: IssuanceRequest, status: IssuanceRequest['status'], reason: string | null): void {
  request.status = status;
  request.decidedAt = registry.now();
  request.decisionReason = reason;
  registry.touch('issuanceRequests', request);
  relink(registry, request.measurementDataId);
}

export function withdrawIssuanceRequest(registry: Registry, writer: Writer, id: string): IssuanceRequest | Refusal {
  const request = issuanceRequestOf(registry, id, writer.organizationId);
  if ('refused' in request) return request;
  if (request.status !== 'Submitted') return refuse('ISSUANCE_014', { Status: request.status });
  close(registry, request, 'Withdrawn', null);
  return request;
}

/**
 * Creates the bundle of an issuance: the next free certificate ids, Active
 * in `account`, with the device's attributes, valid twelve months after the
 * production period; an Issuance transaction records it.
 */
function issue(registry: Registry, device: ProductionDevice, account: Account, period: Period, volumeMWh: number): CertificateBundle {
  const first = registry.nextCertificate;
  registry.nextCertificate += volumeMWh;
  registry.touchField('nextCertificate');
  const bundle: CertificateBundle = {
    bundleId: registry.newId(),
    issuanceId: registry.newId(),
    accountNumber: account.accountNumber,
    startCertificateId: certificateId(first),
    endCertificateId: certificateId(first + volumeMWh - 1),
    volumeMWh,
    productionPeriodStart: period.start,
    productionPeriodEnd: period.end,
    issuingDate: registry.today(),
    expiryDate: expiryOf(period.end),
    status: 'Active',
    gsrn: device.gsrn,
    technologyCode: device.technologyCode,
    energySourceCode: device.energySourceCode,
    country: device.country,
    issuingBody: registry.issuingBody.name,
    supportReceived: device.supportScheme !== 'None',
  };
  registry.addBundle(bundle);
  registry.record('Issuance', {
    toAccountNumber: account.accountNumber,
    bundles: [{ startCertificateId: bundle.startCertificateId, endCertificateId: bundle.endCertificateId }],
    volumeMWh,
  });
  return bundle;
}

export interface Decision {
  decision: 'Approve' | 'Reject';
  reason?: string;
}

export function decideIssuanceRequest(registry: Registry, id: string, decision: Decision): IssuanceRequest | Refusal {
  const request = issuanceRequestOf(registry, id);
  if ('refused' in request) return request;
  if (request.status !== 'Submitted') return refuse('ISSUANCE_014', { Status: request.status });
  const reason = decision.reason?.trim() || null;
  if (decision.decision === 'Reject') {
    close(registry, request, 'Rejected', reason);
    return request;
  }
  const device = registry.devices.get(request.gsrn);
  const account = device ? issuingAccountOf(registry, device) : null;
  if (!device || !account) return refuse('ISSUANCE_012');
  const bundle = issue(registry, device, account, { start: request.productionPeriodStart, end: request.productionPeriodEnd }, request.volumeMWh);
  Object.assign(request, {
    issuingAccountNumber: account.accountNumber,
    issuanceId: bundle.issuanceId,
    startCertificateId: bundle.startCertificateId,
    endCertificateId: bundle.endCertificateId,
  });
  close(registry, request, 'Approved', reason);
  return request;
}

export interface DirectIssuanceInput {
  gsrn: string;
  accountNumber: string;
  productionPeriodStart: string;
  productionPeriodEnd: string;
  volumeMWh: number;
  reason: string;
}

/** An account holds only its standard's certificates; a device's certificates are of its issuing account's standard (any, when it has none). */
function acceptsCertificatesOf(registry: Registry, account: Account, device: ProductionDevice): boolean {
  const standard = device.issuingAccountNumber ? registry.accounts.get(device.issuingAccountNumber)?.standardAssociation : undefined;
  return standard === undefined || standard === account.standardAssociation;
}

export function issueDirectly(registry: Registry, input: DirectIssuanceInput): CertificateBundle | Refusal {
  const device = registry.devices.get(input.gsrn);
  if (!device || device.status !== 'Approved') return refuse('ISSUANCE_012');
  const account = registry.accounts.get(input.accountNumber);
  if (!receives(account) || !acceptsCertificatesOf(registry, account, device)) return refuse('ISSUANCE_017', { 'Account Number': input.accountNumber });
  const period = { start: input.productionPeriodStart, end: input.productionPeriodEnd };
  const refusal = periodRefusal(registry, device.gsrn, period);
  if (refusal) return refusal;
  if (exceedsCapacity(device, period, input.volumeMWh)) return refuse('ISSUANCE_013');
  return issue(registry, device, account, period, input.volumeMWh);
}
