import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ERRORS } from '../../../errors.js';
import type { Logger } from '../../../logger.js';

/** The page's files: plain HTML, CSS and ES modules, served as they are (no build step, no CDN). */
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const ASSETS: Record<string, string> = {
  'chat.css': 'text/css; charset=utf-8',
  'chat.js': 'text/javascript; charset=utf-8',
  'markdown.js': 'text/javascript; charset=utf-8',
};

export interface WebChatOptions {
  /** CORS_ORIGINS: the sites that may call the API may also embed the page (frame-ancestors). */
  readonly corsOrigins: '*' | readonly string[];
  readonly logger: Logger;
}

/**
 * `GET /`: a small chat page for `/assistant/ask`. Every URL in it is relative, so it works
 * behind a path prefix (`https://school.example/ai/`); the error texts come from the catalogue
 * (`/web-chat/errors.json`), so the page and the API cannot drift apart.
 */
export function registerWebChat(app: FastifyInstance, options: WebChatOptions): void {
  if (!existsSync(`${PUBLIC_DIR}index.html`)) {
    // Only a build that skipped the copy step gets here; the API itself works without the page.
    options.logger.error('web chat page files are missing; run npm run build', { dir: PUBLIC_DIR });
    return;
  }
  const headers = pageHeaders(options.corsOrigins);
  const page = readFileSync(`${PUBLIC_DIR}index.html`);
  const send = (reply: FastifyReply, type: string, body: Buffer | string) => reply.headers(headers).type(type).send(body);
  app.get('/', (_req, reply) => send(reply, 'text/html; charset=utf-8', page));
  for (const [name, type] of Object.entries(ASSETS)) {
    const body = readFileSync(`${PUBLIC_DIR}${name}`);
    app.get(`/web-chat/${name}`, (_req, reply) => send(reply, type, body));
  }
  const messages = JSON.stringify(errorMessages());
  app.get('/web-chat/errors.json', (_req, reply) => send(reply, 'application/json; charset=utf-8', messages));
}

/** The catalogue's messages by API code, in both languages. */
export function errorMessages(): Record<string, { zh: string; en: string }> {
  return Object.fromEntries(Object.values(ERRORS).map((e) => [String(e.code), { zh: e.zh, en: e.message }]));
}

/**
 * Scripts and styles only from the service itself, so even a rendering mistake could not run
 * injected code; embedding allowed for the sites CORS_ORIGINS allows.
 */
export function pageHeaders(corsOrigins: '*' | readonly string[]): Record<string, string> {
  const ancestors =
    corsOrigins === '*' ? '*' : ["'self'", ...corsOrigins.filter((o) => /^https?:\/\/[^\s;,'"]+$/.test(o))].join(' ');
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors}`,
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}
