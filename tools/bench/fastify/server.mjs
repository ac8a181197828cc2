// Reference server for tools/bench.sh: what a team might write instead of
// Portico's /me.  Fastify, one Node.js process, and for every request a
// full ES256 verification with jose (issuer, audience, exp/nbf) of the
// same tokens porticod issues, against porticod's public key; the answer is
// a /me-like JSON built from the claims.  It reads no store, so it does
// less than porticod's /me (no session or membership lookup).
//
//   node server.mjs PORT DATA_DIR/jwt-public.pem
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { importSPKI, jwtVerify } from 'jose';

const [port, pemPath] = process.argv.slice(2);
const key = await importSPKI(readFileSync(pemPath, 'utf8'), 'ES256');
const app = Fastify({ logger: false });

function problem(reply, detail) {
  return reply.code(401).header('WWW-Authenticate', 'Bearer')
    .type('application/problem+json')
    .send({ type: 'https://portico.dev/problems/unauthorized', title: 'Unauthorized', status: 401, detail, code: 'unauthorized' });
}

app.get('/api/v1/me', async (request, reply) => {
  const auth = request.headers.authorization || '';
  if (!auth.startsWith('Bearer ')) return problem(reply, 'a bearer token is required');
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(auth.slice(7), key, {
      algorithms: ['ES256'], issuer: 'portico', audience: 'portico-api',
    }));
  } catch {
    return problem(reply, 'invalid token');
  }
  reply.header('Cache-Control', 'no-store');
  return {
    username: claims.sub, org: claims.org ?? null, roles: claims.roles ?? [], amr: claims.amr ?? [],
    status: 'employee', memberships: claims.org ? [{ org: claims.org, status: 'employee' }] : [],
  };
});

app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ port: Number(port), host: '127.0.0.1' });
