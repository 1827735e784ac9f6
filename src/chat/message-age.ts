import type { ChatMessage } from './chat-message.js';

/** How old a message is at `now` (our clock), and how far our clock is from the platform's. */
export interface MessageAge {
  /** By the platform's clock where known (delivery time minus sending time, plus the time since it arrived). */
  readonly ageMs: number;
  /** By our clock alone. */
  readonly serverClockAgeMs: number;
  /** Our clock minus the platform's (positive: ours is ahead), including the delivery's latency. */
  readonly clockSkewMs?: number;
}

export function messageAge(message: ChatMessage, now: number): MessageAge {
  const serverClockAgeMs = now - message.createdAt;
  const { deliveredAt, receivedAt } = message;
  if (deliveredAt === undefined || receivedAt === undefined) return { ageMs: serverClockAgeMs, serverClockAgeMs };
  return {
    ageMs: deliveredAt - message.createdAt + (now - receivedAt),
    serverClockAgeMs,
    clockSkewMs: receivedAt - deliveredAt,
  };
}
