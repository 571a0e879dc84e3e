import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadContracts } from '../../contracts/lib/load.js';

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'demo-contracts');

/** The Swagger 2.0 document (Swashbuckle's shape) of the Public Reports API the stand-in serves: two operations kept, five gone, Auctions new. */
export const PUBLIC_REPORTS_SWAGGER = join(HERE, 'publicreportsapi-v1.swagger.json');

/**
 * What the tests' stand-in for DEMO publishes, deliberately unlike the
 * reconstructed contracts, in `dir` as a user would save swagger.json files:
 * - the Management API as OpenAPI 3 with the account's `name` renamed
 *   `accountName` (in answers and in the create request), the 404 of
 *   `ahGetAccount` removed, and none of the harness's `x-` extensions;
 * - the Public Reports API as Swagger 2.0 (PUBLIC_REPORTS_SWAGGER).
 * The other four APIs are left to the contracts.
 */
export function writeDemoContracts(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const management = structuredClone(loadContracts().contracts.find((contract) => contract.name === 'management')?.doc) as any;
  management.servers = [{ url: 'https://eexfrancedemoapi.grexel.com/managementapi', description: 'DEMO' }];
  for (const key of Object.keys(management.info)) if (key.startsWith('x-')) delete management.info[key];
  for (const item of Object.values(management.paths) as Record<string, any>[]) {
    for (const operation of Object.values(item)) {
      if (!operation || typeof operation !== 'object' || Array.isArray(operation)) continue;
      for (const key of Object.keys(operation)) if (key.startsWith('x-')) delete operation[key];
    }
  }
  for (const name of ['Account', 'CreateAccountRequest']) {
    const schema = management.components.schemas[name];
    schema.properties = Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key === 'name' ? 'accountName' : key, value]));
    schema.required = schema.required.map((key: string) => (key === 'name' ? 'accountName' : key));
  }
  delete management.paths['/AH/managementapi/Accounts/{accountNumber}'].get.responses['404'];
  writeFileSync(join(dir, 'managementapi.json'), JSON.stringify(management, null, 2));
  copyFileSync(PUBLIC_REPORTS_SWAGGER, join(dir, 'publicreportsapi-v1.swagger.json'));
}
