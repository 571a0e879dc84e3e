import {
  decideIssuanceRequest,
  issuanceRequestOf,
  issuanceRequestsOf,
  issueDirectly,
  measurementOf,
  measurementsOf,
  periodProblems,
  recordMeasurement,
  requestIssuance,
  withdrawIssuanceRequest,
  type Decision,
  type DirectIssuanceInput,
  type IssuanceRequestInput,
  type MeasurementInput,
} from '../domain/issuance.js';
import { isRefusal } from '../domain/registry.js';
import { callerOf, code, json, list, type Handler, type Reply, type RequestContext } from './kit.js';

/** The caller's organisation on an organisation-scoped grant; undefined (the whole domain) for the issuing body. */
export function organizationOf(context: RequestContext): string | undefined {
  const caller = callerOf(context);
  return caller.scope === 'domain' ? undefined : caller.organization.organizationId;
}

const writer = (context: RequestContext) => ({ organizationId: callerOf(context).organization.organizationId });

/** Model checks beyond the schema answer the operation's `_002`, naming the fields. */
const invalid = (area: 'MEASUREMENT' | 'ISSUANCE', fields: string[]): Reply | null => (fields.length ? code(`${area}_002`, { 'model fields': fields.join(', ') }) : null);

/** A read of one record: the record, or the refusal that stands for it. */
export const found = (result: object): Reply => (isRefusal(result) ? result : json(result));

/**
 * DELETE takes no body, so the pipeline never looks at its content type; the
 * contract still answers `ISSUANCE_004` to a body sent as anything but JSON.
 */
function unexpectedBody(context: RequestContext): boolean {
  const { headers } = context;
  const sent = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
  const mediaType = String(headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return sent && mediaType !== 'application/json';
}

const measurements: Handler = (context) => list(measurementsOf(context.registry, organizationOf(context)));
const measurement: Handler = (context) => found(measurementOf(context.registry, String(context.path.measurementDataId), organizationOf(context)));
const issuanceRequests: Handler = (context) => list(issuanceRequestsOf(context.registry, organizationOf(context)));
const issuanceRequest: Handler = (context) => found(issuanceRequestOf(context.registry, String(context.path.issuanceRequestId), organizationOf(context)));

export const certificateCreationHandlers: Record<string, Handler> = {
  ahGetMeasurementData: measurements,
  ibGetMeasurementData: measurements,
  ahGetMeasurementDataById: measurement,
  ibGetMeasurementDataById: measurement,
  ahGetIssuanceRequests: issuanceRequests,
  ibGetIssuanceRequests: issuanceRequests,
  ahGetIssuanceRequest: issuanceRequest,
  ibGetIssuanceRequest: issuanceRequest,

  ahCreateMeasurementData: (context) => {
    const body = context.body as MeasurementInput;
    const problems = periodProblems(body.gsrn, { start: body.periodStart, end: body.periodEnd }, { start: 'periodStart', end: 'periodEnd' });
    const result = invalid('MEASUREMENT', problems) ?? recordMeasurement(context.registry, writer(context), body);
    return 'measurementDataId' in result ? code('MEASUREMENT_201', { 'Measurement Data Id': result.measurementDataId }) : result;
  },

  ahCreateIssuanceRequest: (context) => {
    const body = context.body as IssuanceRequestInput;
    const problems = periodProblems(body.gsrn, { start: body.productionPeriodStart, end: body.productionPeriodEnd }, { start: 'productionPeriodStart', end: 'productionPeriodEnd' });
    const result = invalid('ISSUANCE', problems) ?? requestIssuance(context.registry, writer(context), body);
    return 'issuanceRequestId' in result ? code('ISSUANCE_201', { 'Issuance Request Id': result.issuanceRequestId }) : result;
  },

  ahDeleteIssuanceRequest: (context) => {
    if (unexpectedBody(context)) return code('ISSUANCE_004');
    const result = withdrawIssuanceRequest(context.registry, writer(context), String(context.path.issuanceRequestId));
    return 'issuanceRequestId' in result ? code('ISSUANCE_203', { 'Issuance Request Id': result.issuanceRequestId }) : result;
  },

  ibDecideIssuanceRequest: (context) => {
    const body = context.body as Decision;
    // The schema cannot say that a rejection needs its reason.
    const problems = body.decision === 'Reject' && !body.reason?.trim() ? ['reason'] : [];
    const result = invalid('ISSUANCE', problems) ?? decideIssuanceRequest(context.registry, String(context.path.issuanceRequestId), body);
    return 'issuanceRequestId' in result ? code('ISSUANCE_202', { 'Issuance Request Id': result.issuanceRequestId, Status: result.status }) : result;
  },

  ibCreateIssuance: (context) => {
    const body = context.body as DirectIssuanceInput;
    const problems = periodProblems(body.gsrn, { start: body.productionPeriodStart, end: body.productionPeriodEnd }, { start: 'productionPeriodStart', end: 'productionPeriodEnd' });
    if (!body.reason.trim()) problems.push('reason');
    const result = invalid('ISSUANCE', problems) ?? issueDirectly(context.registry, body);
    return 'issuanceId' in result ? code('ISSUANCE_204', { 'Issuance Id': result.issuanceId }) : result;
  },
};
