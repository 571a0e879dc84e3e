import { isUsableIssuingAccount } from './accounts.js';
import { isActiveCode } from './master-data.js';
import { isValidGsrn, type DeviceStatus, type ProductionDevice } from './model.js';
import { refuse, type Refusal, type Registry, type Writer } from './registry.js';

/** A registration: the device as the holder describes it; the registry sets its owner and status. */
export type NewDevice = Omit<ProductionDevice, 'organizationId' | 'status' | 'supportScheme' | 'issuingAccountNumber'> &
  Partial<Pick<ProductionDevice, 'supportScheme' | 'issuingAccountNumber'>>;

export interface DeviceDecision {
  status: 'Approved' | 'Rejected' | 'Inactive';
  reason?: string;
}

/** The issuing body's decisions: the device life cycle's table (Inactive is final). */
const DECISIONS: Record<DeviceStatus, readonly DeviceStatus[]> = {
  Draft: [],
  Submitted: ['Approved', 'Rejected'],
  Approved: ['Inactive'],
  Rejected: ['Inactive'],
  Inactive: [],
};

/** The country of the issuing body's domain: devices of other countries belong to other registries. */
const domainCountry = (registry: Registry): string | undefined => registry.organizations.get(registry.issuingBody.organizationId)?.country;

/** What the schema cannot say about a new device, for DEVICE_002: the fields to name. */
export function newDeviceProblems(registry: Registry, request: NewDevice): string[] {
  const fields: string[] = [];
  if (request.commissioningDate > registry.today()) fields.push('commissioningDate');
  if (request.country !== domainCountry(registry)) fields.push('country');
  return fields;
}

/** A rejection or an inactivation is explained to the account holder, so it needs a reason (DEVICE_002). */
export function decisionProblems(decision: DeviceDecision): string[] {
  return decision.status !== 'Approved' && !decision.reason?.trim() ? ['reason'] : [];
}

/** Registers a device of the writer's organisation as a Draft; its issuing account, when named, is flagged as one. */
export function registerDevice(registry: Registry, writer: Writer, request: NewDevice): ProductionDevice | Refusal {
  if (!isValidGsrn(request.gsrn)) return refuse('DEVICE_005');
  if (!isActiveCode(registry, 'Technologies', request.technologyCode) || !isActiveCode(registry, 'EnergySources', request.energySourceCode)) return refuse('DEVICE_008');
  const issuingAccountNumber = request.issuingAccountNumber ?? null;
  if (issuingAccountNumber !== null && !isUsableIssuingAccount(registry, writer.organizationId, issuingAccountNumber)) return refuse('DEVICE_009');
  if (registry.devices.has(request.gsrn)) return refuse('DEVICE_006', { GSRN: request.gsrn });
  const device: ProductionDevice = {
    gsrn: request.gsrn,
    name: request.name,
    organizationId: writer.organizationId,
    technologyCode: request.technologyCode,
    energySourceCode: request.energySourceCode,
    capacityMW: request.capacityMW,
    commissioningDate: request.commissioningDate,
    country: request.country,
    ...(request.location !== undefined ? { location: request.location } : {}),
    supportScheme: request.supportScheme ?? 'None',
    issuingAccountNumber,
    status: 'Draft',
  };
  registry.devices.set(device.gsrn, device);
  registry.touch('devices', device);
  const issuing = issuingAccountNumber === null ? undefined : registry.accounts.get(issuingAccountNumber);
  if (issuing) {
    issuing.isIssuingAccount = true;
    registry.touch('accounts', issuing);
  }
  return device;
}

/** The account holder sends a Draft for approval; it needs an issuing account that can receive certificates. */
export function submitDevice(registry: Registry, device: ProductionDevice): ProductionDevice | Refusal {
  if (device.status !== 'Draft') return refuse('DEVICE_007', { 'Current Status': device.status, 'Requested Status': 'Submitted' });
  if (!isUsableIssuingAccount(registry, device.organizationId, device.issuingAccountNumber)) return refuse('DEVICE_009');
  device.status = 'Submitted';
  registry.touch('devices', device);
  return device;
}

/** The issuing body approves, rejects or inactivates a device, along the life cycle only. */
export function decideDevice(registry: Registry, device: ProductionDevice, decision: DeviceDecision): ProductionDevice | Refusal {
  if (!DECISIONS[device.status].includes(decision.status)) return refuse('DEVICE_007', { 'Current Status': device.status, 'Requested Status': decision.status });
  device.status = decision.status;
  registry.touch('devices', device);
  return device;
}
