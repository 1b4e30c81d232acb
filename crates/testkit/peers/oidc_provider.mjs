// A real OpenID Connect provider (panva's `oidc-provider` from npm) for the sign-in tests, started
// by `OidcPeer` in crates/testkit/src/peers.rs. The configuration is one JSON argument:
//
//   { "port": 0,                  // 0 (or absent): any free loopback port
//     "consent_form": false,      // true: show a consent page the user must approve
//     "clients": [{ "client_id", "client_secret", "redirect_uris": [..],
//                   "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" }],
//     "accounts": [{ "sub", "email", "email_verified", "name", "given_name", "family_name" }] }
//
// It listens on 127.0.0.1 over plain http, prints `READY http://127.0.0.1:PORT` (the issuer) once
// it accepts connections, and exits when stdin closes so it never outlives the test that
// started it. Sign-in needs no browser: the login page is a plain form (field `login`, the
// account's sub) whose POST logs that account in; consent is granted for whatever was requested,
// either at once or, with `consent_form`, by POSTing the consent page's form.
//
// The package comes from target/test-peers/node (scripts/test.sh installs it with `npm ci` from
// crates/testkit/peers/package-lock.json), or from GATEHOUSE_TEST_NODE_MODULES.

import * as crypto from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// oidc-provider 9 calls crypto.hash (Node 20.12+) deep inside, so an older Node would fail in the
// middle of a sign-in; it is refused here instead, before READY.
if (typeof crypto.hash !== 'function') {
  process.stderr.write(`oidc peer: Node.js ${process.version} is too old for oidc-provider 9, which needs 20.12 or later\n`);
  process.exit(1);
}

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.GATEHOUSE_TEST_NODE_MODULES
  || join(here, '..', '..', '..', 'target', 'test-peers', 'node', 'node_modules');
// ESM ignores NODE_PATH, and this script does not live under that node_modules, so the package is
// resolved from there explicitly.
const entry = createRequire(join(modules, 'noop.js')).resolve('oidc-provider');
const { default: Provider } = await import(pathToFileURL(entry).href);

const config = JSON.parse(process.argv[2] ?? '{}');
const accounts = new Map((config.accounts ?? []).map((a) => [a.sub, a]));
const consentForm = Boolean(config.consent_form);

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`<!DOCTYPE html><html><head><title>${escape(title)}</title></head><body>${body}</body></html>`);
}

function loginPage(res, status, uid, clientId, error) {
  page(res, status, 'Sign-in', `<h1>Sign in to ${escape(clientId)}</h1>
${error ? `<p class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<input type="text" name="login" autofocus>
<button type="submit">Sign in</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Grants exactly what the consent prompt says is missing, as a user who accepts everything the
// client asked for would (the same steps as oidc-provider's own dev interactions).
async function grantConsent(provider, interaction) {
  const { prompt: { details }, grantId, session, params } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scope] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scope.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

// GET /interaction/:uid, POST /interaction/:uid/login, POST /interaction/:uid/confirm.
async function interactions(provider, req, res, uid, action) {
  const interaction = await provider.interactionDetails(req, res);
  if (interaction.uid !== uid) {
    page(res, 400, 'Error', '<p>this interaction is not the one in progress</p>');
    return;
  }
  const { prompt, params } = interaction;
  if (req.method === 'GET' && action === undefined) {
    if (prompt.name === 'login') {
      loginPage(res, 200, uid, params.client_id);
    } else if (prompt.name === 'consent' && consentForm) {
      const scopes = (prompt.details.missingOIDCScope ?? []).map((s) => `<li>${escape(s)}</li>`).join('');
      page(res, 200, 'Authorize', `<h1>${escape(params.client_id)} asks for</h1><ul>${scopes}</ul>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button type="submit">Allow</button></form>`);
    } else if (prompt.name === 'consent') {
      await provider.interactionFinished(req, res, await grantConsent(provider, interaction));
    } else {
      page(res, 501, 'Error', `<p>prompt ${escape(prompt.name)} is not implemented</p>`);
    }
  } else if (req.method === 'POST' && action === 'login' && prompt.name === 'login') {
    const login = (await readForm(req)).get('login') ?? '';
    if (!accounts.has(login)) {
      loginPage(res, 403, uid, params.client_id, `unknown account '${login}'`);
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, {
      mergeWithLastSubmission: false,
    });
  } else if (req.method === 'POST' && action === 'confirm' && prompt.name === 'consent') {
    await readForm(req);
    await provider.interactionFinished(req, res, await grantConsent(provider, interaction));
  } else {
    page(res, 400, 'Error', `<p>${escape(req.method)} ${escape(action ?? '')} does not fit prompt ${escape(prompt.name)}</p>`);
  }
}

// The issuer carries the port, so the socket is bound before the provider is built: the port is
// never guessed by the caller and then lost to another process.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port ?? 0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

// Each instance signs with its own fresh key: without `jwks`, oidc-provider falls back to one
// development keystore that ships inside the package, so two instances would sign with the same
// key and a token from one would verify against the other's JWKS.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: account.email,
          email_verified: account.email_verified ?? true,
          name: account.name,
          given_name: account.given_name,
          family_name: account.family_name,
        };
      },
    };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  scopes: ['openid', 'email', 'profile'],
  // By default a code-flow ID token carries only `sub` and the scope claims come from userinfo;
  // the identity providers Gatehouse signs in with put them in the ID token, so this one does.
  conformIdTokenClaims: false,
  // Authorization code with PKCE for every client, confidential ones included (S256 is the only
  // method oidc-provider 9 knows).
  pkce: { required: () => true },
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  features: {
    // Replaced by the handlers above, which take only configured accounts.
    devInteractions: { enabled: false },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError(ctx, out, error) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><title>Error</title></head><body><pre>${escape(JSON.stringify(out))}</pre></body></html>`;
    if (error?.stack && !error.expose) process.stderr.write(`${error.stack}\n`);
  },
});

// Why a request was refused goes to stderr, which the test shows when it fails.
for (const event of ['grant.error', 'authorization.error', 'server_error', 'userinfo.error']) {
  provider.on(event, (_ctx, err) => {
    process.stderr.write(`oidc peer ${event}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}${err.cause ? `: ${err.cause.message}` : ''}\n`);
  });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  const m = path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm))?$/);
  if (!m) {
    callback(req, res);
    return;
  }
  interactions(provider, req, res, m[1], m[2]).catch((err) => {
    // SessionNotFound and friends: the interaction cookie is missing or stale.
    if (!res.headersSent) page(res, err.statusCode ?? 500, 'Error', `<pre>${escape(err.message)}</pre>`);
    else res.end();
  });
});

process.stdout.write(`READY ${issuer}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
