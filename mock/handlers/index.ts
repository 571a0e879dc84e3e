import type { Registry } from '../domain/registry.js';
import { installTimeRules } from '../domain/transactions.js';
import { b2cAuthorizeHandlers } from './b2c-authorize.js';
import { b2cTokenHandlers } from './b2c-token.js';
import { certificateCreationHandlers } from './certificate-creation.js';
import type { Handler } from './kit.js';
import { managementHandlers } from './management.js';
import { masterDataHandlers } from './master-data.js';
import { reportsHandlers } from './reports.js';
import { transactionHandlers } from './transaction.js';

/** Every domain handler, by operationId. Operations without one answer their contract's example. */
export const handlers: Record<string, Handler> = {
  ...managementHandlers,
  ...masterDataHandlers,
  ...certificateCreationHandlers,
  ...reportsHandlers,
  ...transactionHandlers,
  ...b2cAuthorizeHandlers,
  ...b2cTokenHandlers,
};

/** Time-driven rules installed on each new registry; `messages` gives a code's text (for failed scheduled items). */
export const installers: ((registry: Registry, messages: (code: string) => string) => void)[] = [installTimeRules];
