import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

/** A HAR 1.2 schema validator we did not write (har-validator: the har-schema JSON Schema under ajv), called as its README shows. */
const harValidator = createRequire(import.meta.url)('har-validator') as { har(data: unknown): Promise<unknown> };

/** Fails with the validator's own errors unless `har` is valid HAR 1.2. */
export async function assertHar12(har: unknown): Promise<void> {
  await harValidator.har(har).catch((error: { errors?: unknown }) => assert.fail(`not HAR 1.2: ${JSON.stringify(error.errors ?? error)}`));
}
