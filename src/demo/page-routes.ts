import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ChatRoom } from './chat/chat-room.js';
import { type DingTalkSimulator, SayError } from './simulator/dingtalk-simulator.js';

/** What the page says about the demo besides the chat itself. */
export interface PageInfo {
  /** Where the service's HTTP API listens. */
  readonly apiUrl: string;
  /** True when the built-in demo backend answers (no model configured). */
  readonly demoBackend: boolean;
  readonly replyMode: string;
}

export interface PageDeps {
  readonly room: ChatRoom;
  readonly simulator: DingTalkSimulator;
  readonly info: () => PageInfo;
}

const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/demo.css': 'demo.css',
  '/demo.js': 'demo.js',
  '/markdown.js': 'markdown.js',
  '/message-view.js': 'message-view.js',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};
/** Scripts and styles only from this page; nothing inline, nothing from elsewhere. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const LONG_POLL_MS = 20_000;
const MAX_TEXT_CHARS = 5_000;

/**
 * The simulated DingTalk app: its page (plain HTML/CSS/JS read from `web/`) and the small JSON
 * API the page uses: who is who, what changed since a version (long poll), and sending a message.
 */
export function registerPageRoutes(app: FastifyInstance, deps: PageDeps): void {
  const webDir = new URL('./web/', import.meta.url);
  const files = new Map(Object.entries(STATIC_FILES).map(([route, file]) => [route, readFileSync(new URL(file, webDir))]));
  for (const [route, body] of files) {
    const type = TYPES[STATIC_FILES[route]!.split('.').pop()!]!;
    app.get(route, async (_req, reply) => pageHeaders(reply).type(type).send(body));
  }

  app.get('/demo-api/setup', async (_req, reply) => {
    const { room } = deps;
    return pageHeaders(reply).send({
      bot: { name: room.cast.bot.name },
      people: room.cast.people,
      conversations: room.conversations,
      ...deps.info(),
    });
  });

  app.get('/demo-api/updates', async (req, reply) => {
    const query = req.query as { since?: string; wait?: string };
    const since = Number.isSafeInteger(Number(query.since)) ? Number(query.since) : 0;
    if (query.wait !== '0') await deps.room.waitForChange(since, LONG_POLL_MS);
    return pageHeaders(reply).send(deps.room.changesSince(since));
  });

  app.post('/demo-api/messages', async (req, reply) => {
    const body = (req.body ?? {}) as { conversationId?: unknown; senderId?: unknown; text?: unknown };
    if (typeof body.conversationId !== 'string' || typeof body.senderId !== 'string' || typeof body.text !== 'string') {
      return pageHeaders(reply).code(400).send({ error: 'conversationId, senderId and text are required' });
    }
    if (Array.from(body.text).length > MAX_TEXT_CHARS) {
      return pageHeaders(reply).code(400).send({ error: `at most ${MAX_TEXT_CHARS} characters` });
    }
    try {
      const message = deps.simulator.say(body.conversationId, body.senderId, body.text);
      return pageHeaders(reply).code(201).send({ message });
    } catch (err) {
      if (!(err instanceof SayError)) throw err;
      return pageHeaders(reply).code(400).send({ error: err.message });
    }
  });
}

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store');
}
