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
import { code, found, invalid, list, organizationOf, writerOf, type Handler } from './kit.js';

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
    const result = invalid('MEASUREMENT', problems) ?? recordMeasurement(context.registry, writerOf(context), body);
    return 'measurementDataId' in result ? code('MEASUREMENT_201', { 'Measurement Data Id': result.measurementDataId }) : result;
  },

  ahCreateIssuanceRequest: (context) => {
    const body = context.body as IssuanceRequestInput;
    const problems = periodProblems(body.gsrn, { start: body.productionPeriodStart, end: body.productionPeriodEnd }, { start: 'productionPeriodStart', end: 'productionPeriodEnd' });
    const result = invalid('ISSUANCE', problems) ?? requestIssuance(context.registry, writerOf(context), body);
    return 'issuanceRequestId' in result ? code('ISSUANCE_201', { 'Issuance Request Id': result.issuanceRequestId }) : result;
  },

  ahDeleteIssuanceRequest: (context) => {
    const result = withdrawIssuanceRequest(context.registry, writerOf(context), String(context.path.issuanceRequestId));
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
