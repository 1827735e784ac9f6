import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/** DingTalk's OpenAPI error body: `{code, requestid, message}` (lowercase requestid). */
export function sendDingError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ code, requestid: `demo-${randomUUID()}`, message });
}

/** The app credentials the demo hands to the service and the simulator checks. */
export interface SimCredentials {
  readonly appKey: string;
  readonly appSecret: string;
}

/** Appends a line to the "behind the scenes" log. */
export type WireLog = (kind: string, detail: string) => void;

/** A JSON object body, or an empty object for anything else (the caller then reports what is missing). */
export function objectBody(body: unknown): Record<string, any> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, any>) : {};
}
