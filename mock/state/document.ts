import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ContractSet } from '../../contracts/lib/load.js';
import { SchemaValidator } from '../../contracts/lib/schema.js';
import type { AuthorizationCode, B2CService, MfaCode, RefreshGrant } from '../b2c/service.js';
import type { Clock } from '../clock.js';
import type { FairUseCaller, FairUseLimiter } from '../fairuse.js';
import type { Firewall, FirewallState } from '../firewall.js';
import { certificateSerial, type CodeListName, type RegistryData, type User, type UserSecret } from '../domain/model.js';
import type { Registry } from '../domain/registry.js';

// ajv-formats is CommonJS with a default export; under NodeNext its namespace is what we get.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * The whole state of a mock as one JSON document: what `POST /__admin/snapshot`
 * answers, `POST /__admin/restore` and `--scenario FILE.json` take, and what
 * the state file (`--state`) holds row by row. Settings (firewall, fair-use
 * limits, B2C lifetimes, faults) are not state: they come from the command
 * line and the admin API, as WireMock's settings do.
 */
export const STATE_FORMAT = 'grex-harness-state';
/** Raised whenever a field changes meaning; a document of another version is refused, never half-read. */
export const STATE_VERSION = 1;

/** The registry's records and fields (`RegistryData` without the fixtures' epoch), with the duplicate-write fingerprints. */
export type RegistryState = Omit<RegistryData, 'epoch'> & {
  /** Recent writes' fingerprints and when they were accepted (ms, mock clock): the same write within ten minutes is refused. */
  recentWrites: [string, number][];
};

export interface B2CState {
  authorizationCodes: AuthorizationCode[];
  refreshTokens: RefreshGrant[];
  mfaCodes: MfaCode[];
}

export interface StateDocument {
  format: typeof STATE_FORMAT;
  version: number;
  /** The mock's clock when the state was taken: a restore sets the clock here, and it runs on from there. */
  clock: string;
  registry: RegistryState;
  b2c: B2CState;
  fairUse: FairUseCaller[];
  firewall: FirewallState;
}

/** The pieces of a mock that hold state. */
export interface StateParts {
  registry: Registry;
  b2c: B2CService;
  fairUse: FairUseLimiter;
  firewall: Firewall;
  clock: Clock;
}

/** A user as the document keeps it: the record and its password (which no API shows). */
export function userWithSecret(registry: Registry, user: User): User & UserSecret {
  return { ...user, password: registry.secrets.get(user.userId)?.password ?? '' };
}

/**
 * The whole state as a document. Records are the live objects, not copies:
 * serialise the document before the mock handles another request.
 */
export function takeState({ registry, b2c, fairUse, firewall, clock }: StateParts): StateDocument {
  return {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    clock: clock.iso(),
    registry: {
      issuingBody: registry.issuingBody,
      organizations: [...registry.organizations.values()],
      users: [...registry.users.values()].map((user) => userWithSecret(registry, user)),
      accounts: [...registry.accounts.values()],
      devices: [...registry.devices.values()],
      bundles: [...registry.bundles.values()],
      transactions: [...registry.transactions.values()],
      cancellations: [...registry.cancellations.values()],
      scheduled: [...registry.scheduled.values()],
      measurements: [...registry.measurements.values()],
      issuanceRequests: [...registry.issuanceRequests.values()],
      codeLists: registry.codeLists,
      auctions: registry.auctions,
      nextCertificate: registry.nextCertificate,
      recentWrites: [...registry.recentWrites],
    },
    b2c: { authorizationCodes: [...b2c.codes.values()], refreshTokens: [...b2c.refreshTokens.values()], mfaCodes: [...b2c.mfaCodes.values()] },
    fairUse: fairUse.exportState(),
    firewall: firewall.exportState(),
  };
}

/** The registry kinds a contract describes, and the schema of their records (a read is the record itself). */
const CONTRACT_SCHEMAS: Record<string, [contract: string, schema: string]> = {
  organizations: ['management', 'Organization'],
  users: ['management', 'User'],
  accounts: ['management', 'Account'],
  devices: ['management', 'ProductionDevice'],
  bundles: ['private-reports', 'CertificateBundle'],
  transactions: ['transaction', 'Transaction'],
  scheduled: ['transaction', 'ScheduledTransaction'],
  measurements: ['certificate-creation', 'MeasurementData'],
  issuanceRequests: ['certificate-creation', 'IssuanceRequest'],
  auctions: ['public-reports', 'AuctionResult'],
};

/** The Master Data schema of each code list's entries. */
export const CODE_LIST_SCHEMAS: Record<CodeListName, string> = {
  EnergySources: 'EnergySource',
  Technologies: 'Technology',
  Countries: 'Country',
  Standards: 'Standard',
  Domains: 'Domain',
  CancellationPurposes: 'CancellationPurpose',
  SupportTypes: 'SupportType',
};

const text = { type: 'string' };
const milliseconds = { type: 'number' };
const list = (items: object = { type: 'object' }): object => ({ type: 'array', items });
const record = (properties: Record<string, object>, optional: string[] = []): object => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  properties,
});

/** The document's shape, and the records no contract describes: statements, B2C's grants, fair use, the firewall. */
const DOCUMENT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'version', 'clock', 'registry', 'b2c', 'fairUse', 'firewall'],
  properties: {
    format: { const: STATE_FORMAT },
    version: { type: 'integer' },
    clock: { type: 'string', format: 'date-time' },
    registry: {
      type: 'object',
      additionalProperties: false,
      required: ['issuingBody', ...Object.keys(CONTRACT_SCHEMAS), 'cancellations', 'codeLists', 'nextCertificate', 'recentWrites'],
      properties: {
        issuingBody: record({ organizationId: text, name: text }),
        ...Object.fromEntries(Object.keys(CONTRACT_SCHEMAS).map((kind) => [kind, list()])),
        users: list({ type: 'object', required: ['password'], properties: { password: text } }),
        cancellations: list(
          record({
            transactionId: text,
            statementId: text,
            accountNumber: text,
            beneficiaryName: text,
            beneficiaryCountry: text,
            consumptionPeriodStart: { type: 'string', format: 'date' },
            consumptionPeriodEnd: { type: 'string', format: 'date' },
            purpose: text,
            placeOfConsumption: text,
          }),
        ),
        codeLists: record(Object.fromEntries(Object.keys(CODE_LIST_SCHEMAS).map((name) => [name, list()]))),
        // A certificate id's serial is a safe integer: past it, ids would repeat (certificateSerial).
        nextCertificate: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        recentWrites: list({ type: 'array', items: [text, milliseconds], minItems: 2, maxItems: 2 }),
      },
    },
    b2c: record({
      authorizationCodes: list(
        record(
          {
            code: text,
            tenant: text,
            policy: text,
            clientId: text,
            redirectUri: text,
            scope: text,
            userId: text,
            nonce: text,
            codeChallenge: text,
            codeChallengeMethod: { enum: ['plain', 'S256'] },
            issuedAt: milliseconds,
            redeemed: { type: 'boolean' },
          },
          ['nonce', 'codeChallenge', 'codeChallengeMethod'],
        ),
      ),
      refreshTokens: list(
        record({
          token: text,
          tenant: text,
          policy: text,
          clientId: text,
          scope: text,
          userId: text,
          issuedAt: milliseconds,
          signedInAt: milliseconds,
          rotated: { type: 'boolean' },
          revoked: { type: 'boolean' },
        }),
      ),
      mfaCodes: list(record({ userId: text, code: { type: 'string', pattern: '^[0-9]{6}$' }, issuedAt: milliseconds })),
    }),
    fairUse: list(record({ caller: text, times: list(milliseconds), seen: milliseconds, limitedUntil: milliseconds, strikes: { type: 'integer', minimum: 0 }, blockedUntil: milliseconds })),
    firewall: record({
      violations: list(record({ client: text, times: list(milliseconds) })),
      blocks: list(record({ client: text, until: milliseconds, rule: text })),
    }),
  },
};

/** At most this many problems are listed; the rest are counted. */
const MAX_PROBLEMS = 50;

/**
 * Checks a document before anything is replaced: its format and version, its
 * shape, every registry record against its contract's schema, then what no
 * schema can say (references between records, bundle volumes, a certificate
 * in two bundles). Answers the problems, each with its place in the document.
 */
export class StateChecker {
  private readonly shape: (value: unknown) => boolean;
  private readonly shapeErrors: () => ErrorObject[];
  private readonly validators = new Map<string, { validator: SchemaValidator; schemas: Record<string, object> }>();

  /** `tenants`: the names of the B2C tenants the mock serves; a grant of another tenant could never be redeemed. */
  constructor(
    contracts: ContractSet,
    private readonly tenants: ReadonlySet<string>,
  ) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const compiled = ajv.compile(DOCUMENT_SCHEMA);
    this.shape = (value) => compiled(value) as boolean;
    this.shapeErrors = () => compiled.errors ?? [];
    for (const contract of contracts.contracts) {
      this.validators.set(contract.name, { validator: new SchemaValidator(contract.doc), schemas: (contract.doc.components?.schemas ?? {}) as Record<string, object> });
    }
  }

  check(value: unknown): { ok: true; document: StateDocument } | { ok: false; problems: string[] } {
    const problems = new Problems();
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problems: ['(root): a state document is a JSON object'] };
    const { format, version } = value as { format?: unknown; version?: unknown };
    if (format !== STATE_FORMAT) return { ok: false, problems: [`/format: must be "${STATE_FORMAT}", got ${JSON.stringify(format)}`] };
    if (version !== STATE_VERSION) {
      return { ok: false, problems: [`/version: this grex-harness reads state format version ${STATE_VERSION}; the document is version ${JSON.stringify(version)}`] };
    }
    if (!this.shape(value)) {
      for (const error of this.shapeErrors()) problems.add(`${error.instancePath || '(root)'}: ${shapeMessage(error)}`);
      return { ok: false, problems: problems.list() };
    }
    const document = value as StateDocument;
    this.checkRecords(document, problems);
    if (problems.size === 0) consistencyProblems(document, this.tenants, problems);
    return problems.size === 0 ? { ok: true, document } : { ok: false, problems: problems.list() };
  }

  private checkRecords(document: StateDocument, problems: Problems): void {
    const registry = document.registry as unknown as Record<string, object[]>;
    for (const [kind, [contract, name]] of Object.entries(CONTRACT_SCHEMAS)) {
      registry[kind].forEach((item, index) => {
        const shown = kind === 'users' ? withoutPassword(item) : item;
        for (const line of this.against(contract, name, shown)) problems.add(`/registry/${kind}/${index}${line}`);
      });
    }
    for (const [list, name] of Object.entries(CODE_LIST_SCHEMAS) as [CodeListName, string][]) {
      document.registry.codeLists[list].forEach((entry, index) => {
        for (const line of this.against('master-data', name, entry)) problems.add(`/registry/codeLists/${list}/${index}${line}`);
      });
    }
  }

  private against(contract: string, name: string, value: unknown): string[] {
    const { validator, schemas } = this.validators.get(contract) as { validator: SchemaValidator; schemas: Record<string, object> };
    return validator.check(schemas[name], value).map((error) => `${error.instancePath}: ${error.message ?? 'is invalid'}`);
  }
}

/** Ajv's message, naming the field for an unknown one (a misspelt name is the usual cause). */
function shapeMessage(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `unknown field ${JSON.stringify((error.params as { additionalProperty: string }).additionalProperty)}`;
  return error.message ?? 'is invalid';
}

function withoutPassword(user: object): object {
  const { password: _, ...rest } = user as { password?: string };
  return rest;
}

class Problems {
  private readonly lines: string[] = [];
  size = 0;

  add(line: string): void {
    if (this.size++ < MAX_PROBLEMS) this.lines.push(line);
  }

  list(): string[] {
    return this.size > MAX_PROBLEMS ? [...this.lines, `... and ${this.size - MAX_PROBLEMS} more`] : this.lines;
  }
}

/** What a schema cannot say: unique keys, references between records, volumes that match their ranges, no certificate in two bundles. */
function consistencyProblems(document: StateDocument, tenants: ReadonlySet<string>, problems: Problems): void {
  const { registry, b2c } = document;
  const keyed = <T>(kind: string, items: T[], key: (item: T) => string, section = '/registry'): Set<string> => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const value = key(item);
      if (seen.has(value)) problems.add(`${section}/${kind}/${index}: ${JSON.stringify(value)} appears twice`);
      seen.add(value);
    });
    return seen;
  };
  const organizations = keyed('organizations', registry.organizations, (item) => item.organizationId);
  const users = keyed('users', registry.users, (item) => item.userId);
  keyed('users', registry.users, (item) => item.username.toLowerCase());
  const accounts = keyed('accounts', registry.accounts, (item) => item.accountNumber);
  const devices = keyed('devices', registry.devices, (item) => item.gsrn);
  keyed('bundles', registry.bundles, (item) => item.bundleId);
  const transactions = keyed('transactions', registry.transactions, (item) => item.transactionId);
  keyed('cancellations', registry.cancellations, (item) => item.transactionId);
  keyed('scheduled', registry.scheduled, (item) => item.scheduledTransactionId);
  keyed('measurements', registry.measurements, (item) => item.measurementDataId);
  keyed('issuanceRequests', registry.issuanceRequests, (item) => item.issuanceRequestId);
  // B2C's grants, fair use and the firewall are kept by these keys too: a second entry would silently replace the first.
  keyed('authorizationCodes', b2c.authorizationCodes, (item) => item.code, '/b2c');
  keyed('refreshTokens', b2c.refreshTokens, (item) => item.token, '/b2c');
  keyed('mfaCodes', b2c.mfaCodes, (item) => item.userId, '/b2c');
  keyed('fairUse', document.fairUse, (item) => item.caller, '');
  keyed('violations', document.firewall.violations, (item) => item.client, '/firewall');
  keyed('blocks', document.firewall.blocks, (item) => item.client, '/firewall');

  if (!organizations.has(registry.issuingBody.organizationId)) problems.add(`/registry/issuingBody/organizationId: ${JSON.stringify(registry.issuingBody.organizationId)} is not an organisation`);
  const references: [section: 'registry' | 'b2c', kind: string, field: string, known: ReadonlySet<string>, what: string][] = [
    ['registry', 'users', 'organizationId', organizations, 'an organisation'],
    ['registry', 'accounts', 'organizationId', organizations, 'an organisation'],
    ['registry', 'accounts', 'parentAccountNumber', accounts, 'an account'],
    ['registry', 'devices', 'organizationId', organizations, 'an organisation'],
    ['registry', 'devices', 'issuingAccountNumber', accounts, 'an account'],
    ['registry', 'bundles', 'accountNumber', accounts, 'an account'],
    ['registry', 'bundles', 'gsrn', devices, 'a device'],
    ['registry', 'transactions', 'fromAccountNumber', accounts, 'an account'],
    ['registry', 'transactions', 'toAccountNumber', accounts, 'an account'],
    ['registry', 'cancellations', 'transactionId', transactions, 'a transaction'],
    ['registry', 'cancellations', 'accountNumber', accounts, 'an account'],
    ['registry', 'scheduled', 'fromAccountNumber', accounts, 'an account'],
    ['registry', 'scheduled', 'toAccountNumber', accounts, 'an account'],
    ['registry', 'measurements', 'gsrn', devices, 'a device'],
    ['registry', 'issuanceRequests', 'gsrn', devices, 'a device'],
    ['b2c', 'authorizationCodes', 'userId', users, 'a user'],
    ['b2c', 'authorizationCodes', 'tenant', tenants, 'a B2C tenant of the mock'],
    ['b2c', 'refreshTokens', 'userId', users, 'a user'],
    ['b2c', 'refreshTokens', 'tenant', tenants, 'a B2C tenant of the mock'],
    ['b2c', 'mfaCodes', 'userId', users, 'a user'],
  ];
  for (const [section, kind, field, known, what] of references) {
    ((document[section] as unknown as Record<string, Record<string, unknown>[]>)[kind]).forEach((item, index) => {
      const value = item[field];
      if (typeof value === 'string' && !known.has(value)) problems.add(`/${section}/${kind}/${index}/${field}: ${JSON.stringify(value)} is not ${what}`);
    });
  }

  // Accounts: a parent chain ends at an account without a parent (an account that is its own ancestor would be its own sub-account).
  const parents = new Map(registry.accounts.map((account) => [account.accountNumber, account.parentAccountNumber]));
  registry.accounts.forEach((account, index) => {
    const seen = new Set([account.accountNumber]);
    for (let parent = account.parentAccountNumber; parent !== null && parents.has(parent); parent = parents.get(parent) ?? null) {
      if (seen.has(parent)) {
        const cycle = seen.size === 1 ? 'the account is its own parent' : `a cycle of parents (${[...seen, parent].join(' -> ')})`;
        problems.add(`/registry/accounts/${index}/parentAccountNumber: ${cycle}`);
        break;
      }
      seen.add(parent);
    }
  });

  // Transactions and scheduled items: the volume is what their ranges hold.
  for (const kind of ['transactions', 'scheduled'] as const) {
    (registry[kind] as { volumeMWh: number; bundles: { startCertificateId: string; endCertificateId: string }[] }[]).forEach((item, index) => {
      let held = 0;
      let ranges = true;
      item.bundles.forEach((range, at) => {
        const start = certificateSerial(range.startCertificateId);
        const end = certificateSerial(range.endCertificateId);
        if (start !== null && end !== null && start <= end) held += end - start + 1;
        else {
          ranges = false;
          problems.add(`/registry/${kind}/${index}/bundles/${at}: the range ${range.startCertificateId}..${range.endCertificateId} is not a range of certificate ids`);
        }
      });
      if (ranges && held !== item.volumeMWh) problems.add(`/registry/${kind}/${index}/volumeMWh: ${item.volumeMWh}, but its ranges hold ${held} certificates`);
    });
  }

  // Bundles: a volume is its range, ranges never overlap, and every serial is below the next one to issue.
  const spans: { index: number; start: number; end: number }[] = [];
  registry.bundles.forEach((bundle, index) => {
    const start = certificateSerial(bundle.startCertificateId);
    const end = certificateSerial(bundle.endCertificateId);
    if (start === null || end === null || end < start) return problems.add(`/registry/bundles/${index}: the range ${bundle.startCertificateId}..${bundle.endCertificateId} is not a range of certificate ids`);
    if (bundle.volumeMWh !== end - start + 1) problems.add(`/registry/bundles/${index}/volumeMWh: ${bundle.volumeMWh}, but its range holds ${end - start + 1} certificates`);
    if (end >= registry.nextCertificate) problems.add(`/registry/bundles/${index}/endCertificateId: at or past nextCertificate ${registry.nextCertificate}`);
    spans.push({ index, start, end });
  });
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].start <= spans[i - 1].end) problems.add(`/registry/bundles/${spans[i].index}: shares certificates with /registry/bundles/${spans[i - 1].index}`);
  }
}
