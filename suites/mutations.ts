/**
 * Wrong servers the conformance suites must catch: each entry is a fault a
 * registry, its gateway or its B2C tenant could really have (a header left
 * out, a refusal with the wrong code, another organisation's rows), set on
 * the mock through its test-only faults (mock/faults.ts), and the suite files
 * that must fail on it. `npm run mutation` runs every one and prints the
 * score; test/suites-meta.test.ts runs the first one of each suite file.
 *
 * Values that name another organisation's data are the default fixtures'
 * (seed 20251105): Soleil d'Occitanie SAS, whose rows the account holder
 * under test (Éolien du Ponant SA) must never see.
 */
export type Area = 'management' | 'transaction' | 'certificate-creation' | 'master-data' | 'private-reports' | 'public-reports' | 'gateway' | 'b2c' | 'documentation';
export type Stage = 'firewall' | 'fairuse' | 'route' | 'auth' | 'validate' | 'domain' | 'docs';

export interface Mutation {
  /** Short and unique: `npm run mutation -- --only <part of it>`. */
  name: string;
  /** What a server with this fault does wrong. */
  wrong: string;
  area: Area;
  stage: Stage;
  /** The faults, as POST /__admin/faults takes them. */
  faults: object[];
  /** The suite files that must fail (paths from the repository root). */
  files: string[];
}

const FIREWALL = 'suites/firewall/firewall.spec.ts';
const FAIR_USE = 'suites/fair-use/fair-use.spec.ts';
const ROUTES = 'suites/contracts/routes.spec.ts';
const TOKENS = 'suites/auth/tokens.spec.ts';
const REGISTRY_UI = 'suites/auth/registry-ui.spec.ts';
const GET_OPERATIONS = 'suites/contracts/get-operations.spec.ts';
const PAGING = 'suites/contracts/paging.spec.ts';
const OWN_ORGANISATION = 'suites/scope/own-organisation.spec.ts';
const WRITES = 'suites/writes/codes.spec.ts';
const DOCS = 'suites/docs/swagger-ui.spec.ts';
const XML = 'suites/contracts/xml.spec.ts';
const SCENARIO_FAIR_USE = 'suites/scenarios/fair-use-edge.spec.ts';
const SCENARIO_LOCKED = 'suites/scenarios/locked-account.spec.ts';

/** Soleil d'Occitanie SAS in the default fixtures: an organisation, one of its accounts, one of its devices. */
const OTHER_ORGANISATION = '32631e8a-2b4f-46f5-be9a-4e501c0ec517';
const OTHER_ACCOUNT = '643002000000000003';
const OTHER_DEVICE = '376000200000000017';

const skipped = (rule: string, wrong: string): Mutation => ({ name: `firewall-skips-${rule}`, wrong, area: 'gateway', stage: 'firewall', faults: [{ kind: 'skip-rule', rule }], files: [FIREWALL] });

export const MUTATIONS: Mutation[] = [
  // The gateway's firewall (manual 1.3.1, the note after Figure 31).
  skipped('header-accept', 'lets a request without Accept through'),
  skipped('header-user-agent', 'lets a request without User-Agent through'),
  skipped('header-content-type', 'lets a body without Content-Type through'),
  skipped('header-content-length', 'lets a body without Content-Length (chunked) through'),
  skipped('slash', "lets a `/` in a value through (the manual's own example)"),
  skipped('script', 'lets a script in a value through'),
  skipped('sql', 'lets an SQL injection through'),
  skipped('url-scheme', 'lets a URL in a value through'),
  skipped('path-traversal', 'lets a path traversal through'),
  skipped('blocked', 'never blocks a client that keeps breaking the rules'),
  { name: 'firewall-answers-json', wrong: "answers its refusals as the registry's JSON 403 instead of its HTML page", area: 'gateway', stage: 'firewall', faults: [{ kind: 'wrong-code', stage: 'firewall', code: 'AUTH_003' }], files: [FIREWALL] },
  { name: 'firewall-answers-400', wrong: 'refuses with 400 instead of 403', area: 'gateway', stage: 'firewall', faults: [{ kind: 'set-status', stage: 'firewall', value: 400 }], files: [FIREWALL] },

  // Fair use (manual 1.2).
  { name: 'fairuse-no-retry-after', wrong: 'answers 429 without Retry-After', area: 'gateway', stage: 'fairuse', faults: [{ kind: 'remove-header', stage: 'fairuse', header: 'retry-after' }], files: [FAIR_USE, SCENARIO_FAIR_USE] },
  { name: 'fairuse-retry-after-zero', wrong: 'says Retry-After: 0 (rounds the wait down)', area: 'gateway', stage: 'fairuse', faults: [{ kind: 'set-header', stage: 'fairuse', header: 'retry-after', value: '0' }], files: [FAIR_USE] },
  { name: 'fairuse-block-unreported', wrong: 'reports a block as a plain limit (FAIRUSE_001 for FAIRUSE_002)', area: 'gateway', stage: 'fairuse', faults: [{ kind: 'wrong-code', stage: 'fairuse', when: 'FAIRUSE_002', code: 'FAIRUSE_001' }], files: [FAIR_USE] },
  { name: 'fairuse-answers-503', wrong: 'throttles with 503 Service Unavailable instead of 429', area: 'gateway', stage: 'fairuse', faults: [{ kind: 'set-status', stage: 'fairuse', value: 503 }], files: [FAIR_USE, SCENARIO_FAIR_USE] },

  // Routing.
  { name: 'route-405-as-404', wrong: 'answers a wrong method as an unknown path (404 for 405)', area: 'gateway', stage: 'route', faults: [{ kind: 'wrong-code', stage: 'route', when: 'ROUTE_005', code: 'ROUTE_001' }], files: [ROUTES] },
  { name: 'route-405-without-allow', wrong: 'answers 405 without the Allow header', area: 'gateway', stage: 'route', faults: [{ kind: 'remove-header', stage: 'route', header: 'allow' }], files: [ROUTES] },
  { name: 'route-404-as-200', wrong: 'answers an unknown path 200 with an error envelope', area: 'gateway', stage: 'route', faults: [{ kind: 'set-status', stage: 'route', when: 'ROUTE_001', value: 200 }], files: [ROUTES] },

  // Auth (manual chapter 6).
  { name: 'auth-no-www-authenticate', wrong: 'answers 401 without WWW-Authenticate', area: 'gateway', stage: 'auth', faults: [{ kind: 'remove-header', stage: 'auth', header: 'www-authenticate' }], files: [TOKENS] },
  { name: 'auth-401-as-403', wrong: 'refuses a bad token with 403 instead of 401, so a client never refreshes', area: 'gateway', stage: 'auth', faults: [{ kind: 'wrong-code', stage: 'auth', when: 'AUTH_001', code: 'AUTH_003' }], files: [TOKENS] },
  { name: 'auth-403-as-401', wrong: 'refuses a missing role with 401 instead of 403, so a client refreshes in a loop', area: 'management', stage: 'auth', faults: [{ kind: 'wrong-code', stage: 'auth', when: 'AUTH_003', code: 'AUTH_001' }], files: [FIREWALL] },
  { name: 'auth-envelope-says-200', wrong: 'answers 401 with an envelope saying statusCode 200', area: 'gateway', stage: 'auth', faults: [{ kind: 'set-field', stage: 'auth', field: 'statusCode', value: 200 }], files: [TOKENS] },

  // Validation: the _004, _002 and _014 refusals.
  { name: 'management-004-as-002', wrong: 'refuses another media type as model validation (ACCOUNT_002 for ACCOUNT_004)', area: 'management', stage: 'validate', faults: [{ kind: 'wrong-code', stage: 'validate', when: 'ACCOUNT_004', code: 'ACCOUNT_002' }], files: [WRITES] },
  { name: 'transaction-004-as-002', wrong: 'refuses another media type as model validation (TRANSACTION_002 for TRANSACTION_004)', area: 'transaction', stage: 'validate', faults: [{ kind: 'wrong-code', stage: 'validate', when: 'TRANSACTION_004', code: 'TRANSACTION_002' }], files: [WRITES] },
  { name: 'certificate-creation-004-envelope-200', wrong: 'refuses another media type with an envelope saying statusCode 200', area: 'certificate-creation', stage: 'validate', faults: [{ kind: 'set-field', stage: 'validate', when: 'MEASUREMENT_004', field: 'statusCode', value: 200 }], files: [WRITES] },
  { name: 'management-002-as-005', wrong: 'answers an empty account with a domain code (ACCOUNT_005) instead of model validation', area: 'management', stage: 'validate', faults: [{ kind: 'wrong-code', stage: 'validate', when: 'ACCOUNT_002', code: 'ACCOUNT_005' }], files: [WRITES] },
  { name: 'private-reports-014-as-002', wrong: 'refuses a $top over 500 as generic model validation (REPORT_002 for REPORT_014)', area: 'private-reports', stage: 'validate', faults: [{ kind: 'wrong-code', stage: 'validate', when: 'REPORT_014', code: 'REPORT_002' }], files: [PAGING] },
  { name: 'public-reports-014-envelope-200', wrong: 'refuses a $top over 500 with an envelope saying statusCode 200', area: 'public-reports', stage: 'validate', faults: [{ kind: 'set-field', stage: 'validate', when: 'PUBLICREPORT_014', field: 'statusCode', value: 200 }], files: [PAGING] },
  { name: 'master-data-paging-422', wrong: 'refuses a $top over 500 with 422 instead of 400', area: 'master-data', stage: 'validate', faults: [{ kind: 'set-status', stage: 'validate', when: 'MASTERDATA_002', value: 422 }], files: [PAGING] },

  // The domain: whose data, and what it looks like.
  { name: 'management-accounts-of-another-organisation', wrong: "labels the holder's accounts with another organisation", area: 'management', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'ahGetAccounts', field: 'organizationId', value: OTHER_ORGANISATION }], files: [OWN_ORGANISATION] },
  { name: 'management-devices-of-another-organisation', wrong: "answers another organisation's production devices", area: 'management', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'ahGetProductionDevices', field: 'organizationId', value: OTHER_ORGANISATION }], files: [OWN_ORGANISATION] },
  { name: 'transaction-locked-account-misreported', wrong: 'refuses a transfer out of a locked account with another code than TRANSACTION_028', area: 'transaction', stage: 'domain', faults: [{ kind: 'wrong-code', stage: 'domain', when: 'TRANSACTION_028', code: 'TRANSACTION_003' }], files: [SCENARIO_LOCKED] },
  { name: 'management-account-without-standard', wrong: 'leaves the required standardAssociation out of an account', area: 'management', stage: 'domain', faults: [{ kind: 'remove-field', operationId: 'ahGetAccount', field: 'standardAssociation' }], files: [GET_OPERATIONS] },
  { name: 'private-reports-certificates-of-another-holder', wrong: "lists certificates held in another holder's account", area: 'private-reports', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'ahGetCertificates', field: 'accountNumber', value: OTHER_ACCOUNT }], files: [OWN_ORGANISATION] },
  { name: 'private-reports-statements-in-another-name', wrong: "issues cancellation statements in another organisation's name", area: 'private-reports', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'ahGetCancellationStatements', field: 'organizationName', value: "Soleil d'Occitanie SAS" }], files: [OWN_ORGANISATION] },
  { name: 'private-reports-volume-as-text', wrong: 'answers balances as text ("10854 MWh") instead of numbers', area: 'private-reports', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'ahGetAccountBalances', field: 'activeVolumeMWh', value: '10854 MWh' }], files: [GET_OPERATIONS] },
  {
    name: 'transaction-transfers-of-other-holders',
    wrong: "lists transfers between other holders' accounts",
    area: 'transaction',
    stage: 'domain',
    faults: [
      { kind: 'set-field', operationId: 'ahGetTransactions', field: 'fromAccountNumber', value: OTHER_ACCOUNT },
      { kind: 'set-field', operationId: 'ahGetTransactions', field: 'toAccountNumber', value: '643002000000000002' },
    ],
    files: [OWN_ORGANISATION],
  },
  { name: 'transaction-022-as-027', wrong: 'refuses a transfer to the same account as an unknown destination (TRANSACTION_027 for _022)', area: 'transaction', stage: 'domain', faults: [{ kind: 'wrong-code', operationId: 'ahCreateTransfer', when: 'TRANSACTION_022', code: 'TRANSACTION_027' }], files: [WRITES] },
  { name: 'transaction-refusal-envelope-200', wrong: 'refuses a transfer with an envelope saying statusCode 200', area: 'transaction', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'ahCreateTransfer', status: 400, field: 'statusCode', value: 200 }], files: [WRITES] },
  { name: 'certificate-creation-requests-without-status', wrong: 'leaves the required status out of issuance requests', area: 'certificate-creation', stage: 'domain', faults: [{ kind: 'remove-field', operationId: 'ahGetIssuanceRequests', field: 'status' }], files: [GET_OPERATIONS] },
  { name: 'certificate-creation-measurements-of-another-device', wrong: "answers measurements of another holder's device", area: 'certificate-creation', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'ahGetMeasurementData', field: 'gsrn', value: OTHER_DEVICE }], files: [OWN_ORGANISATION] },
  { name: 'master-data-country-code-as-number', wrong: 'answers country codes as numbers (250 for FR)', area: 'master-data', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'ahGetCountries', field: 'code', value: 250 }], files: [GET_OPERATIONS] },
  { name: 'public-reports-holders-with-extra-field', wrong: 'publishes a field the contract does not have (a holder\'s internal id)', area: 'public-reports', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'getAccountHolders', field: 'internalId', value: 42 }], files: [GET_OPERATIONS] },
  { name: 'public-reports-xml-labelled-json', wrong: 'labels the XML it negotiated for Accept: application/xml as application/json', area: 'public-reports', stage: 'domain', faults: [{ kind: 'set-header', operationId: 'getAccountHolders', header: 'content-type', value: 'application/json; charset=utf-8' }], files: [XML] },

  // B2C (manual chapter 3).
  { name: 'b2c-expires-in-negative', wrong: 'answers a token response with expires_in -1', area: 'b2c', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'b2cRedeemToken', status: 200, field: 'expires_in', value: -1 }], files: [TOKENS] },
  { name: 'b2c-token-type-mac', wrong: 'answers token_type "MAC"', area: 'b2c', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'b2cRedeemToken', status: 200, field: 'token_type', value: 'MAC' }], files: [TOKENS] },
  { name: 'b2c-opaque-access-token', wrong: 'issues an opaque access token instead of a JWT', area: 'b2c', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'b2cRedeemToken', status: 200, field: 'access_token', value: 'opaque-7f3a9c2e41b8' }], files: [TOKENS, REGISTRY_UI] },
  { name: 'b2c-no-rotation', wrong: 'answers a refresh without a new refresh token', area: 'b2c', stage: 'domain', faults: [{ kind: 'remove-field', operationId: 'b2cRedeemToken', status: 200, field: 'refresh_token' }], files: [TOKENS] },
  { name: 'b2c-refusal-invalid-request', wrong: 'refuses a refresh token it did not issue as invalid_request instead of invalid_grant', area: 'b2c', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'b2cRedeemToken', status: 400, field: 'error', value: 'invalid_request' }], files: [TOKENS] },
  { name: 'b2c-discovery-v1-endpoint', wrong: 'advertises the Azure AD v1 token endpoint in its discovery document', area: 'b2c', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'b2cGetOpenIdConfiguration', field: 'token_endpoint', value: 'https://login.microsoftonline.com/common/oauth2/token' }], files: [TOKENS] },
  { name: 'b2c-keys-rotated-away', wrong: 'publishes keys without the one that signs its tokens', area: 'b2c', stage: 'domain', faults: [{ kind: 'set-field', operationId: 'b2cGetSigningKeys', field: 'keys.kid', value: 'rotated-2019' }], files: [TOKENS] },

  // The documentation pages (manual 2.2.3).
  { name: 'docs-not-served', wrong: "does not serve the APIs' documentation pages (404)", area: 'documentation', stage: 'docs', faults: [{ kind: 'set-status', stage: 'docs', value: 404 }], files: [DOCS] },
];
