import { authorize, logout, selfAsserted, type AuthorizeQuery, type LogoutQuery, type Page, type SelfAssertedForm } from '../b2c/authorize.js';
import type { Handler, Reply } from './kit.js';

/** B2C's front end answers HTML only; a redirect carries its "Object moved" page as B2C's does. */
const html = (page: Page): Reply => ({
  kind: 'raw',
  status: page.status,
  body: page.html,
  contentType: 'text/html; charset=utf-8',
  // Sign-in pages and codes must not be cached by the browser or a proxy.
  headers: { 'cache-control': 'no-store', ...(page.location ? { location: page.location } : {}) },
});

/** The path's tenant and policy (the contract validated both as strings). */
const where = (path: Record<string, unknown>): [string, string] => [String(path.tenant), String(path.policy)];

export const b2cAuthorizeHandlers: Record<string, Handler> = {
  b2cAuthorize: (context) => html(authorize(context, ...where(context.path), context.query as AuthorizeQuery)),
  b2cSelfAsserted: (context) => html(selfAsserted(context, ...where(context.path), (context.body ?? {}) as SelfAssertedForm)),
  b2cLogout: (context) => html(logout(context, ...where(context.path), context.query as LogoutQuery)),
};
