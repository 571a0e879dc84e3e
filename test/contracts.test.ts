import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeCatalogue } from '../contracts/lib/codes.js';
import { checkContracts, type Violation } from '../contracts/lib/conformance.js';
import { loadContracts, type ContractSet } from '../contracts/lib/load.js';
import { operations } from '../contracts/lib/operations.js';
import type { JsonObject, OpenApiDocument } from '../contracts/lib/types.js';

const set = loadContracts();
const byName = (name: string) => {
  const contract = set.contracts.find((entry) => entry.name === name);
  assert.ok(contract, `contract ${name} exists`);
  return contract;
};

/** The manual's eleven ACCOUNT codes (Figure 31), verbatim: the oracle the contracts are held to. */
const MANUAL_ACCOUNT_CODES: [string, number, string][] = [
  ['ACCOUNT_202', 200, 'The account was updated successfully. Account number: {Account Number}.'],
  ['ACCOUNT_002', 400, 'Input model validation failed. Error in: {model fields}.'],
  ['ACCOUNT_004', 400, 'The request cannot be processed due to unexpected content type.'],
  ['ACCOUNT_005', 400, 'Invalid input for Account Standard Association.'],
  ['ACCOUNT_007', 400, 'Invalid input. Account and Parent Account are of different Standard Association.'],
  ['ACCOUNT_008', 400, 'Invalid input for Account Number. Locked accounts cannot be updated.'],
  ['ACCOUNT_009', 400, 'Invalid input for Account Number. Default accounts cannot be updated.'],
  ['ACCOUNT_010', 400, 'Invalid input. The account cannot be inactivated. The account has sub-accounts or contains certificates.'],
  ['ACCOUNT_011', 400, 'Invalid input. The account tree structure cannot be circular, without a top-level account.'],
  ['ACCOUNT_012', 400, 'Invalid input. An inactive account cannot be set as the parent account.'],
  ['ACCOUNT_013', 400, 'Invalid input. The account cannot be inactivated. The account is an active issuing account.'],
];

function manualCodeProblems(contracts: ContractSet): string[] {
  const catalogue = new Map(codeCatalogue(contracts).map((entry) => [entry.code, entry]));
  const problems: string[] = [];
  for (const [code, status, message] of MANUAL_ACCOUNT_CODES) {
    const entry = catalogue.get(code);
    if (!entry) problems.push(`${code} is not defined`);
    else {
      if (entry.message !== message) problems.push(`${code} message is "${entry.message}"`);
      if (entry.status !== status) problems.push(`${code} status is ${entry.status}`);
      if (entry.source !== 'manual') problems.push(`${code} is marked ${entry.source}`);
      if (entry.usedBy.length === 0) problems.push(`${code} is listed by no response`);
    }
  }
  return problems;
}

const format = (violations: Violation[]): string => violations.map((v) => `${v.contract} ${v.where}: [${v.rule}] ${v.message}`).join('\n');

/** A copy of the contract set with one contract's bundled document changed by `mutate`. */
function broken(name: string, mutate: (doc: OpenApiDocument) => void): ContractSet {
  const copy = structuredClone(set);
  const contract = copy.contracts.find((entry) => entry.name === name);
  assert.ok(contract);
  mutate(contract.doc);
  return copy;
}

const operationOf = (doc: OpenApiDocument, path: string, method: string): JsonObject => {
  const operation = doc.paths[path]?.[method] as JsonObject | undefined;
  assert.ok(operation, `${method} ${path} exists`);
  return operation;
};

/** A query parameter as the bundled operation has it: the operation's own copy, with its own example. */
const queryParameter = (doc: OpenApiDocument, path: string, name: string): JsonObject => {
  const parameter = (operationOf(doc, path, 'get').parameters as JsonObject[]).find((candidate) => candidate.name === name);
  assert.ok(parameter, `${path} has its own ${name}`);
  return parameter;
};

describe('the contracts', () => {
  it('are the six G-REX APIs and B2C, each with its own API name and version', () => {
    const apis = set.contracts.map((contract) => `${contract.grex.api} ${contract.grex.version}`).sort();
    assert.deepEqual(apis, [
      'b2c v2.0',
      'certificatecreationapi v1',
      'managementapi v2',
      'masterdataapi v2',
      'privatereportsapi v1',
      'publicreportsapi v1',
      'transactionapi v1',
    ]);
  });

  it('have 60 operations or more', () => {
    const count = set.contracts.reduce((sum, contract) => sum + operations(contract.doc).length, 0);
    assert.ok(count >= 60, `only ${count} operations`);
  });

  it("follow every project rule (operationId, tag, security, permissions, the manual's three parts, examples valid and right for their resource and the fixtures, paging, write codes)", () => {
    const violations = checkContracts(set);
    assert.equal(violations.length, 0, `\n${format(violations)}`);
  });

  it("keep the manual's eleven ACCOUNT codes verbatim, marked as from the manual", () => {
    assert.deepEqual(manualCodeProblems(set), []);
  });

  it('mark every other code as reconstructed, so nobody mistakes it for Grexel', () => {
    const manual = new Set(MANUAL_ACCOUNT_CODES.map(([code]) => code));
    for (const entry of codeCatalogue(set)) {
      if (!manual.has(entry.code)) assert.equal(entry.source, 'reconstructed', `${entry.code} is marked ${entry.source}`);
    }
  });

  it('reference the shared parts instead of copying them', () => {
    for (const contract of set.contracts) {
      const own = contract.raw.components ?? {};
      for (const [kind, entries] of Object.entries(set.common.components ?? {})) {
        for (const name of Object.keys(entries)) {
          const local = own[kind]?.[name];
          const alias = local?.$ref === `./common.yaml#/components/${kind}/${name}`;
          assert.ok(local === undefined || alias, `${contract.name} redefines common ${kind}.${name}`);
        }
      }
    }
  });

  it("serve the manual's example operation with Figure 25's permission table", () => {
    const operation = operationOf(byName('management').doc, '/AH/managementapi/Accounts/{accountNumber}', 'get');
    const description = String(operation.description);
    assert.match(description, /\| Get Accounts for organizations in the domain \|/);
    assert.match(description, /\| Get Accounts for own organization \|/);
    assert.match(description, /IB Supervisory Authority/);
  });
});

describe('the contract checks catch broken contracts', () => {
  const management = '/AH/managementapi/Accounts/{accountNumber}';
  const cases: [string, string, (doc: OpenApiDocument) => void][] = [
    ['operation.operationId', 'a missing operationId', (doc) => void delete operationOf(doc, management, 'get').operationId],
    ['operation.tag', 'an undeclared tag', (doc) => void (operationOf(doc, management, 'get').tags = ['Nowhere'])],
    ['operation.permissions', 'no machine-readable permissions', (doc) => void delete operationOf(doc, management, 'get')['x-permissions']],
    ['operation.permissions', 'an unknown role', (doc) => void ((operationOf(doc, management, 'get')['x-permissions'] as JsonObject[])[0].roles = ['Janitor'])],
    ['operation.security', 'a public grant on a secured operation', (doc) => void (operationOf(doc, management, 'get')['x-permissions'] = [{ functionality: 'x', roles: [], scope: 'public' }])],
    ['operation.description', "a description without the manual's parts", (doc) => void (operationOf(doc, management, 'get').description = 'Gets an account.')],
    ['operation.responses', 'no 429 documented', (doc) => void delete (operationOf(doc, management, 'get').responses as JsonObject)['429']],
    ['collection.paging', 'a collection GET without $top', (doc) => {
      const operation = operationOf(doc, '/AH/managementapi/Accounts', 'get');
      operation.parameters = (operation.parameters as JsonObject[]).filter((p) => !String(p.$ref ?? p.name).includes('Top'));
    }],
    ['example.schema', 'an example that breaks its schema', (doc) => {
      const examples = doc.components?.examples ?? {};
      const code = examples.ACCOUNT_008 as JsonObject;
      code.value = { statusCode: 'four hundred', responseCode: 'ACCOUNT_008', responseMessage: 'x' };
    }],
    ['response.example', 'a response without an example', (doc) => {
      const responses = operationOf(doc, management, 'get').responses as Record<string, JsonObject>;
      const ok = responses['200'].content as Record<string, JsonObject>;
      delete ok['application/json'].example;
      delete ok['application/json'].examples;
    }],
    ['example.query', "a $filter example naming a field the items lack (the shared `status eq 'Active'` on every list)", (doc) => {
      queryParameter(doc, '/AH/managementapi/Accounts', '$filter').example = "technologyCode eq 'T020000'";
    }],
    ['example.query', 'an $orderby example naming a field the items lack', (doc) => {
      queryParameter(doc, '/AH/managementapi/Accounts', '$orderby').example = 'gsrn desc';
    }],
    ['parameter.example', 'a parameter without an example', (doc) => void delete queryParameter(doc, '/AH/managementapi/Accounts', '$filter').example],
    ['example.fixture', 'a path id the default fixtures lack', (doc) => void ((doc.components?.parameters ?? {}).AccountNumber.example = '643001000000000012')],
    ['example.user', 'an operation none of the example users may call', (doc) => {
      operationOf(doc, management, 'get')['x-permissions'] = [{ functionality: 'x', roles: ['AH Account Viewer'], scope: 'organisation' }];
    }],
    ['code.status', 'a code listed under the wrong status', (doc) => {
      const examples = doc.components?.examples ?? {};
      (examples.ACCOUNT_008.value as JsonObject).statusCode = 409;
    }],
  ];
  for (const [rule, what, mutate] of cases) {
    it(`${rule}: ${what}`, () => {
      const violations = checkContracts(broken('management', mutate));
      assert.ok(violations.length > 0, `no violation for ${what}`);
      assert.ok(violations.some((v) => v.rule === rule), `expected rule ${rule}, got:\n${format(violations)}`);
    });
  }

  it('manual codes: a reworded ACCOUNT message is caught', () => {
    const copy = structuredClone(set);
    const management = copy.contracts.find((entry) => entry.name === 'management');
    assert.ok(management);
    ((management.raw.components?.examples ?? {}).ACCOUNT_008.value as JsonObject).responseMessage = 'Account is locked.';
    assert.deepEqual(manualCodeProblems(copy), ['ACCOUNT_008 message is "Account is locked."']);
  });
});
