/**
 * What a user does in a browser on B2C's pages, over HTTP: open the
 * authorization URL, type the username and password, then the code "sent by
 * SMS". Only the pages are driven here; everything OAuth stays with the
 * client under test. Each step's failure says what the page answered.
 */

export interface Credentials {
  username: string;
  password: string;
  /** The code the user reads from the SMS (the mock shows it at /__admin/mfa?user=). */
  smsCode(): Promise<string>;
}

const unescape = (text: string): string => text.replace(/&amp;/g, '&');

function field(html: string, pattern: RegExp, what: string): string {
  const found = pattern.exec(html);
  if (!found) throw new Error(`no ${what} on the page:\n${html}`);
  return unescape(found[1]);
}

async function page(response: Response, status: number, step: string): Promise<string> {
  const html = await response.text();
  if (response.status !== status) throw new Error(`${step}: ${response.status}, expected ${status}:\n${html}`);
  return html;
}

function submit(html: string, pageUrl: string, fields: Record<string, string>): Promise<Response> {
  const action = new URL(field(html, /<form [^>]*action="([^"]+)"/, 'form'), pageUrl);
  const tx = field(html, /name="tx" value="([^"]+)"/, 'transaction');
  return fetch(action, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ tx, ...fields }) });
}

/** The address B2C sends the browser back to (the reply URL with `code` and `state`), not followed. */
export async function signInLikeABrowser(authorizationUrl: string | URL, user: Credentials): Promise<URL> {
  const url = String(authorizationUrl);
  const signIn = await page(await fetch(url, { redirect: 'manual' }), 200, 'the sign-in page');
  const mfa = await page(await submit(signIn, url, { username: user.username, password: user.password }), 200, 'the MFA page after the password');
  if (!/name="code"/.test(mfa)) throw new Error(`the password was not accepted:\n${mfa}`);
  const done = await submit(mfa, url, { code: await user.smsCode() });
  await page(done, 302, 'the redirect after the SMS code');
  return new URL(done.headers.get('location') ?? '', url);
}
