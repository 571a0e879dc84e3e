import { errorPage, POLICY_NOT_FOUND_PAGE } from '../b2c/authorize.js';
import { isTokenRefusal, oauthError, openIdConfiguration, policyTenant, redeemToken, refusals, type TokenRefusal } from '../b2c/token.js';
import type { Outcome } from '../outcome.js';
import type { Handler, Reply, RequestContext } from './kit.js';

/** The B2C token endpoint (both URL forms), the discovery document and the signing keys. */

const HTML = 'text/html; charset=utf-8';
const policyNotFound = (): Reply => ({ kind: 'raw', status: 404, body: POLICY_NOT_FOUND_PAGE, contentType: HTML });
const refused = (refusal: TokenRefusal, context: RequestContext): Reply => ({ kind: 'json', status: 400, body: oauthError(refusal, context.clock.now()) });

function token(context: RequestContext, policy: string): Reply {
  const header = context.headers.authorization;
  const result = redeemToken(context.b2c, (userId) => context.registry.users.get(userId), {
    tenant: String(context.path.tenant),
    policy,
    form: (context.body as Record<string, string> | undefined) ?? {},
    authorization: Array.isArray(header) ? header[0] : header,
  });
  if (isTokenRefusal(result)) return refused(result, context);
  // RFC 6749 5.1: token answers must not be cached.
  return { kind: 'json', status: 200, body: result, headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' } };
}

function metadata(context: RequestContext, answer: (tenant: NonNullable<ReturnType<typeof policyTenant>>) => unknown): Reply {
  const tenant = policyTenant(context.b2c, String(context.path.tenant), String(context.path.policy));
  return tenant ? { kind: 'json', status: 200, body: answer(tenant) } : policyNotFound();
}

const redeem: Handler = (context) => token(context, String(context.path.policy));
const redeemPolicyQuery: Handler = (context) => token(context, String(context.query.p));
const discovery: Handler = (context) => metadata(context, (tenant) => openIdConfiguration(context.b2c.tokens, tenant, context.origin));
const keys: Handler = (context) => metadata(context, () => context.b2c.tokens.jwks());

export const b2cTokenHandlers: Record<string, Handler> = {
  b2cRedeemToken: redeem,
  b2cRedeemTokenPolicyQuery: redeemPolicyQuery,
  b2cGetOpenIdConfiguration: discovery,
  b2cGetSigningKeys: keys,
};

/**
 * B2C's answer to a request that the contract refuses before these handlers
 * run (an unknown tenant or policy, a missing `p`, a body that is not a
 * form), or undefined for another operation's handler. B2C has no envelope:
 * token requests get its OAuth errors, metadata its 404 page.
 */
export function b2cTokenContractRefusal(operationId: string, fields: string[], broke: Record<string, string[]>, now: number): Outcome | undefined {
  const tenantOrPolicy = fields.some((field) => ['tenant', 'policy', 'p'].includes(field) && broke[field]);
  if (operationId === 'b2cGetOpenIdConfiguration' || operationId === 'b2cGetSigningKeys') return { status: 404, body: POLICY_NOT_FOUND_PAGE, contentType: HTML };
  // The pages of the sign-in flow refuse as pages: B2C's 404 for a tenant or policy it lacks, its error page otherwise.
  if (operationId === 'b2cAuthorize' || operationId === 'b2cSelfAsserted' || operationId === 'b2cLogout') {
    if (tenantOrPolicy) return { status: 404, body: POLICY_NOT_FOUND_PAGE, contentType: HTML };
    const page = errorPage(400, 'AADB2C90083', `The request has an invalid value for: ${fields.join(', ')}.`, now);
    return { status: page.status, body: page.html, contentType: HTML };
  }
  if (operationId !== 'b2cRedeemToken' && operationId !== 'b2cRedeemTokenPolicyQuery') return undefined;
  const refusal = contractRefusal(fields, broke);
  return { status: 400, body: oauthError(refusal, now), code: refusal.code };
}

function contractRefusal(fields: string[], broke: Record<string, string[]>): TokenRefusal {
  // A missing parameter breaks no keyword (the validator lists it without one); a wrong value breaks enum or pattern.
  if (fields.some((field) => ['tenant', 'policy', 'p'].includes(field) && broke[field])) return refusals.unknownPolicy();
  if (fields.includes('p')) return refusals.missing('p');
  // No form body (or another media type): B2C finds no grant_type, the first thing it reads.
  return refusals.missing('grant_type');
}
