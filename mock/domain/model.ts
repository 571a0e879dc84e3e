/**
 * The registry's state. Field names are the contracts' own, so a read is the
 * record itself; fields that G-REX never shows are kept apart (`UserSecret`)
 * or carried in maps beside the records.
 */

export type AccountStatus = 'Active' | 'Inactive';
export type BundleStatus = 'Active' | 'Reserved' | 'Cancelled' | 'Exported' | 'Expired' | 'Withdrawn';
export type TransactionType = 'Issuance' | 'Transfer' | 'Export' | 'Import' | 'Cancellation' | 'Withdrawal' | 'Expiry';
export type TransactionStatus = 'Scheduled' | 'Pending' | 'Completed' | 'Failed' | 'Rejected' | 'Cancelled';
export type DeviceStatus = 'Draft' | 'Submitted' | 'Approved' | 'Rejected' | 'Inactive';

export interface Organization {
  organizationId: string;
  name: string;
  siren?: string;
  country: string;
  aibCode?: string;
  type: 'AccountHolder' | 'IssuingBody';
  status: 'Active' | 'Inactive';
}

export interface User {
  userId: string;
  username: string;
  displayName: string;
  email: string;
  phoneNumber?: string;
  organizationId: string;
  roles: string[];
  status: 'Invited' | 'Active' | 'Inactive';
  createdAt: string;
}

/** What sign-in needs and no API shows. */
export interface UserSecret {
  password: string;
}

export interface Account {
  accountNumber: string;
  name: string;
  organizationId: string;
  standardAssociation: string;
  parentAccountNumber: string | null;
  isDefault: boolean;
  isLocked: boolean;
  isIssuingAccount: boolean;
  status: AccountStatus;
  createdAt: string;
}

export interface ProductionDevice {
  gsrn: string;
  name: string;
  organizationId: string;
  technologyCode: string;
  energySourceCode: string;
  capacityMW: number;
  commissioningDate: string;
  country: string;
  location?: string;
  supportScheme: 'None' | 'FeedInTariff' | 'FeedInPremium' | 'InvestmentSupport';
  issuingAccountNumber: string | null;
  status: DeviceStatus;
}

export interface CertificateRange {
  startCertificateId: string;
  endCertificateId: string;
}

export interface CertificateBundle {
  bundleId: string;
  issuanceId: string;
  accountNumber: string;
  startCertificateId: string;
  endCertificateId: string;
  volumeMWh: number;
  productionPeriodStart: string;
  productionPeriodEnd: string;
  issuingDate: string;
  expiryDate: string;
  status: BundleStatus;
  gsrn: string;
  technologyCode: string;
  energySourceCode: string;
  country: string;
  issuingBody: string;
  supportReceived: boolean;
}

export interface Transaction {
  transactionId: string;
  type: TransactionType;
  status: TransactionStatus;
  createdAt: string;
  completedAt: string | null;
  fromAccountNumber: string | null;
  toAccountNumber: string | null;
  volumeMWh: number;
  bundles: CertificateRange[];
}

/** Whether a transaction moved certificates into or out of one of the accounts. */
export function touchesAccounts(transaction: Transaction, accounts: ReadonlySet<string>): boolean {
  return (transaction.fromAccountNumber !== null && accounts.has(transaction.fromAccountNumber)) || (transaction.toAccountNumber !== null && accounts.has(transaction.toAccountNumber));
}

/** Code-unit order of two strings (ISO-8601 instants and dates sort in time order by it). */
export const ascending = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface Cancellation {
  transactionId: string;
  statementId: string;
  accountNumber: string;
  beneficiaryName: string;
  beneficiaryCountry: string;
  consumptionPeriodStart: string;
  consumptionPeriodEnd: string;
  purpose: string;
  placeOfConsumption: string;
}

export interface ScheduledTransaction {
  scheduledTransactionId: string;
  status: 'Scheduled' | 'Pending' | 'Completed' | 'Failed' | 'Cancelled';
  executeAt: string;
  createdAt: string;
  fromAccountNumber: string;
  toAccountNumber: string;
  volumeMWh: number;
  bundles: CertificateRange[];
  reference?: string;
  transactionId?: string | null;
  executedAt?: string | null;
  cancelledAt?: string | null;
  failureCode?: string | null;
  failureMessage?: string | null;
}

export interface MeasurementData {
  measurementDataId: string;
  gsrn: string;
  periodStart: string;
  periodEnd: string;
  volumeMWh: number;
  submittedAt: string;
  issuanceRequestId: string | null;
}

export interface IssuanceRequest {
  issuanceRequestId: string;
  gsrn: string;
  productionPeriodStart: string;
  productionPeriodEnd: string;
  volumeMWh: number;
  measurementDataId: string | null;
  status: 'Submitted' | 'Approved' | 'Rejected' | 'Withdrawn';
  submittedAt: string;
  decidedAt: string | null;
  decisionReason: string | null;
  issuingAccountNumber: string | null;
  issuanceId: string | null;
  startCertificateId: string | null;
  endCertificateId: string | null;
}

export interface CodeListEntry {
  code: string;
  name: string;
  description?: string;
  active: boolean;
  [extra: string]: unknown;
}

export type CodeListName = 'EnergySources' | 'Technologies' | 'Countries' | 'Standards' | 'Domains' | 'CancellationPurposes' | 'SupportTypes';

export interface AuctionResult {
  auctionDate: string;
  productionMonth: string;
  technologyCode: string;
  region: string;
  volumeOfferedMWh: number;
  volumeSoldMWh: number;
  weightedAveragePriceEurPerMWh: number;
}

/** Everything a fixture profile generates; the registry is built from it and rebuilt from it on reset. */
export interface RegistryData {
  /** The instant the fixtures describe: the mock's clock starts here. */
  epoch: string;
  issuingBody: { organizationId: string; name: string };
  organizations: Organization[];
  users: (User & UserSecret)[];
  accounts: Account[];
  devices: ProductionDevice[];
  bundles: CertificateBundle[];
  transactions: Transaction[];
  cancellations: Cancellation[];
  scheduled: ScheduledTransaction[];
  measurements: MeasurementData[];
  issuanceRequests: IssuanceRequest[];
  codeLists: Record<CodeListName, CodeListEntry[]>;
  auctions: AuctionResult[];
  /** The next free certificate number (ids are `1` + 19 digits). */
  nextCertificate: number;
}

const idText = Buffer.alloc(20);

/**
 * Certificate ids are 20 digits: `1` and a 19-digit serial, so serials stay
 * exact JavaScript numbers. Written as bytes and read back as one flat
 * string: a template would leave a tree of pieces in every bundle the
 * registry keeps.
 */
export function certificateId(serial: number): string {
  let rest = serial;
  idText[0] = 0x31;
  for (let i = 19; i >= 1; i--) {
    const digit = rest % 10;
    idText[i] = 0x30 + digit;
    rest = (rest - digit) / 10;
  }
  return idText.toString('latin1');
}

export function certificateSerial(id: string): number | null {
  if (!/^1[0-9]{19}$/.test(id)) return null;
  const serial = Number(id.slice(1));
  return Number.isSafeInteger(serial) ? serial : null;
}

/** GS1 mod-10 check digit over the first 17 digits of a GSRN. */
export function gsrnCheckDigit(first17: string): number {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[16 - i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10;
}

export function isValidGsrn(gsrn: string): boolean {
  return /^[0-9]{18}$/.test(gsrn) && gsrnCheckDigit(gsrn.slice(0, 17)) === Number(gsrn[17]);
}
