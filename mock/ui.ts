import type { B2CService } from './b2c/service.js';
import { escapeHtml } from './html.js';
import { registryUiClientId } from './b2c/service.js';
import { apiScope } from './b2c/token.js';


/**
 * The registry UI's sign-in, as chapter 4 of the manual describes it: the
 * page signs in through B2C with the authorization-code flow and PKCE (S256)
 * in the browser, then keeps the access token in sessionStorage under
 * `access_token`, where integrators copy it from the developer tools. The
 * page is the single-page application's reply URL, so B2C gives its refresh
 * tokens a fixed 24-hour life.
 */
export function registryUiPage(b2c: B2CService, tenantName: string): string | null {
  const tenant = b2c.tenant(tenantName);
  if (!tenant) return null;
  const config = {
    tenant: tenant.name,
    policy: tenant.policy,
    clientId: registryUiClientId(tenant),
    scope: `${apiScope(tenant)} openid offline_access`,
  };
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>G-REX registry (grex-harness mock, ${escapeHtml(tenant.name)})</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #1d2733; }
code, textarea { font-family: ui-monospace, monospace; }
textarea { width: 100%; height: 9rem; }
button { padding: .5rem 1rem; }
.muted { color: #5a6675; }
</style>
</head>
<body>
<h1>G-REX registry <span class="muted">(grex-harness mock, tenant ${escapeHtml(tenant.name)})</span></h1>
<div id="signed-out">
  <p>Sign in as a fixture user (password <code>Grex-Mock-2026!</code>; the MFA code "sent by SMS" is at <code>/__admin/mfa?user=&lt;username&gt;</code>).</p>
  <button id="sign-in">Sign in</button>
</div>
<div id="signed-in" hidden>
  <p>Signed in as <strong id="who"></strong>. The access token is in session storage under <code>access_token</code> (manual chapter 4), valid until <span id="until"></span>:</p>
  <textarea id="token" readonly></textarea>
  <p><button id="sign-out">Sign out</button> <a href="/__docs/">API documentation</a></p>
</div>
<p id="error" role="alert"></p>
<script>
const config = ${JSON.stringify(config)};
const authority = '/' + config.tenant + '.onmicrosoft.com/' + config.policy;
const redirectUri = location.origin + '/';
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
function show() {
  const token = sessionStorage.getItem('access_token');
  document.getElementById('signed-in').hidden = !token;
  document.getElementById('signed-out').hidden = !!token;
  if (!token) return;
  // The payload is UTF-8 (names such as "Hélène"): atob gives its bytes, TextDecoder the text.
  const bytes = Uint8Array.from(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (char) => char.charCodeAt(0));
  const claims = JSON.parse(new TextDecoder().decode(bytes));
  document.getElementById('who').textContent = claims.name + ' (' + (claims.emails || [])[0] + ')';
  document.getElementById('until').textContent = new Date(claims.exp * 1000).toISOString();
  document.getElementById('token').value = token;
}
async function signIn() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem('pkce_verifier', verifier);
  sessionStorage.setItem('pkce_state', state);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({ client_id: config.clientId, response_type: 'code', redirect_uri: redirectUri, response_mode: 'query', scope: config.scope, state, code_challenge: challenge, code_challenge_method: 'S256' });
  location.assign(authority + '/oauth2/v2.0/authorize?' + query);
}
async function redeem(params) {
  if (params.get('state') !== sessionStorage.getItem('pkce_state')) throw new Error('The state does not match this sign-in.');
  const body = new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, scope: config.scope, code: params.get('code'), redirect_uri: redirectUri, code_verifier: sessionStorage.getItem('pkce_verifier') || '' });
  const reply = await fetch(authority + '/oauth2/v2.0/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const tokens = await reply.json();
  if (!reply.ok) throw new Error(tokens.error + ': ' + tokens.error_description);
  sessionStorage.setItem('access_token', tokens.access_token);
  if (tokens.refresh_token) sessionStorage.setItem('refresh_token', tokens.refresh_token);
  sessionStorage.removeItem('pkce_verifier');
  sessionStorage.removeItem('pkce_state');
  history.replaceState(null, '', '/' + (config.tenant === 'gcrfdemo' ? '' : '?tenant=' + config.tenant));
}
document.getElementById('sign-in').onclick = () => signIn().catch((error) => (document.getElementById('error').textContent = error.message));
document.getElementById('sign-out').onclick = () => { sessionStorage.clear(); show(); };
const params = new URLSearchParams(location.search);
if (params.has('error')) document.getElementById('error').textContent = params.get('error') + ': ' + params.get('error_description');
(params.has('code') ? redeem(params) : Promise.resolve()).then(show, (error) => (document.getElementById('error').textContent = error.message));
</script>
</body>
</html>
`;
}
