import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

const ASSETS = path.join(import.meta.dirname, 'roll-call-page');

// Everything the page uses comes from this service: no inline script or style, nothing from another origin.
// blob: is for the snapshot and the CSV download, which the page fetches with the API key and hands over as blobs.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FILES = [
  { url: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/roll-call.js', file: 'roll-call.js', type: 'text/javascript; charset=utf-8' },
  { url: '/roll-call.css', file: 'roll-call.css', type: 'text/css; charset=utf-8' },
];

/**
 * `GET /`: the roll-call page for whoever runs the session. The page itself is public, as it holds no data;
 * everything it shows comes from the API routes, which it calls with the API key the user enters.
 */
export const rollCallPageRoute: FastifyPluginAsync = async (app) => {
  for (const { url, file, type } of FILES) {
    const body = await readFile(path.join(ASSETS, file));
    app.get(url, { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
      reply.type(type).header('content-security-policy', CONTENT_SECURITY_POLICY).send(body),
    );
  }
};
