import { MANUAL_LIMITS } from '../../mock/fairuse.js';
import type { ContractChecker } from '../contract-check.js';
import type { Rule } from '../rule.js';
import { expiredTokenReuse, pkce, signInLoop, unauthorizedRetry } from './auth.js';
import { requestContract } from './contract.js';
import { firewallResend } from './firewall.js';
import { requiredHeaders } from './headers.js';
import { paging, polling } from './paging.js';
import { rateLimit, retryAfter } from './rates.js';
import { duplicateWrites, writeConfirmation } from './writes.js';

/** Every rule, in the order the report lists them: the manual's chapter 1, then sign-in, then the contracts. */
export function createRules(checker: ContractChecker): Rule[] {
  return [
    requiredHeaders(),
    paging(),
    polling(),
    ...MANUAL_LIMITS.map((limit) => rateLimit(limit.requests, limit.windowSeconds)),
    retryAfter(),
    writeConfirmation(),
    duplicateWrites(),
    firewallResend(),
    pkce(),
    signInLoop(),
    expiredTokenReuse(),
    unauthorizedRetry(),
    requestContract(checker),
  ];
}
