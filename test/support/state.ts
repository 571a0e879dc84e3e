import assert from 'node:assert/strict';
import { gsrnCheckDigit, type Account, type CertificateBundle } from '../../mock/domain/model.js';
import type { MockClient, Reply } from './mock.js';

/** A 2xx, or the answer in the failure message. */
export function ok(reply: Reply): any {
  assert.ok(reply.status >= 200 && reply.status < 300, `${reply.status} ${reply.text}`);
  return reply.json;
}

/** The id a `_201` answer names in its message. */
export const idIn = (reply: Reply): string => (/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(ok(reply).responseMessage) as RegExpExecArray)[0];

/** Éolien du Ponant's issuing account (where its devices' certificates are issued) and an open Volta account of the same standard. */
export async function eolienAndVolta(mock: MockClient): Promise<{ issuing: Account; volta: Account }> {
  const own = (await mock.read('eolien-root', '/managementapi/AH/managementapi/Accounts?$top=500&$skip=0')) as Account[];
  const issuing = own.find((account) => account.isIssuingAccount && account.status === 'Active' && !account.isLocked) as Account;
  const [voltaOwn] = (await mock.read('volta-trader', '/managementapi/AH/managementapi/Accounts?$top=1&$skip=0')) as Account[];
  const all = (await mock.readAll('ib-root', '/managementapi/IB/managementapi/Accounts')) as Account[];
  const volta = all.find(
    (account) => account.organizationId === voltaOwn.organizationId && account.standardAssociation === issuing.standardAssociation && account.status === 'Active' && !account.isLocked,
  ) as Account;
  assert.ok(issuing && volta);
  return { issuing, volta };
}

/**
 * A new 10 MW device of Éolien du Ponant, registered, submitted and approved
 * through the APIs, issuing into `issuing`; its GSRN ends in `serial`.
 */
export async function approvedDevice(mock: MockClient, issuing: Account, serial: number): Promise<string> {
  const first17 = `64300399${String(serial).padStart(9, '0')}`;
  const gsrn = `${first17}${gsrnCheckDigit(first17)}`;
  ok(
    await mock.as('eolien-pd-administrator', 'POST', '/managementapi/AH/managementapi/ProductionDevices', {
      body: { gsrn, name: `State test plant ${serial}`, technologyCode: 'T020002', energySourceCode: 'F01050100', capacityMW: 10, commissioningDate: '2020-01-01', country: 'FR', issuingAccountNumber: issuing.accountNumber },
    }),
  );
  ok(await mock.as('eolien-pd-administrator', 'PATCH', `/managementapi/AH/managementapi/ProductionDevices/${gsrn}/Status`, { body: { status: 'Submitted' } }));
  ok(await mock.as('ib-pd-administrator', 'PATCH', `/managementapi/IB/managementapi/ProductionDevices/${gsrn}/Status`, { body: { status: 'Approved' } }));
  return gsrn;
}

/** Issues `volumeMWh` certificates of a device for a month (`YYYY-MM`) directly; the bundle they make. */
export async function issue(mock: MockClient, gsrn: string, account: Account, month: string, volumeMWh: number): Promise<CertificateBundle> {
  const end = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).toISOString().slice(0, 10);
  ok(
    await mock.as('super-user', 'POST', '/certificatecreationapi/IB/certificatecreationapi/Issuances', {
      body: { gsrn, accountNumber: account.accountNumber, productionPeriodStart: `${month}-01`, productionPeriodEnd: end, volumeMWh, reason: 'State test' },
    }),
  );
  const filter = encodeURIComponent(`gsrn eq '${gsrn}' and productionPeriodStart eq ${month}-01`);
  const [bundle] = (await mock.read('ib-root', `/privatereportsapi/IB/privatereportsapi/Certificates?$top=1&$skip=0&$filter=${filter}`)) as CertificateBundle[];
  assert.equal(bundle?.volumeMWh, volumeMWh);
  return bundle;
}
