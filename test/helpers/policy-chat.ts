import type { AuditRecord } from '../../src/storage/audit-trail.js';
import type { RecordedReply } from '../fakes/fake-robot-api.js';
import { RecordingBackend } from './recording-backend.js';
import { startStreamHarness, waitFor, type StreamHarness } from './stream-harness.js';

export { waitFor };

/** A stream harness whose backend records prompts and roles, with a school clock the test moves. */
export interface PolicyHarness {
  readonly h: StreamHarness;
  readonly backend: RecordingBackend;
  /** Epoch ms the school clock shows; assign to move it. */
  clock: { now: number };
  /** A direct message from `staffId`; resolves once it is handled (its audit record or reply). */
  dm(staffId: string, text: string, extra?: Record<string, unknown>): Promise<RecordedReply | undefined>;
  /** A group message (@ the bot) from `staffId` in `groupId`. */
  group(groupId: string, staffId: string, text: string, extra?: Record<string, unknown>): Promise<RecordedReply | undefined>;
  audit(): Promise<AuditRecord[]>;
}

/**
 * `dm`/`group` send a message and wait (at most 10 s) until the bot completed it in the ledger,
 * which it does after the reply is delivered or, for a silent outcome, at once. Audit records
 * are written just after: tests wait for them with `waitFor`.
 */
export async function startPolicyHarness(env: Record<string, string>, start = Date.parse('2026-03-02T02:00:00Z')): Promise<PolicyHarness> {
  const backend = new RecordingBackend();
  const clock = { now: start };
  const h = await startStreamHarness({ env, backend: () => backend, clock: () => clock.now });
  const audit = async () => {
    const rows: AuditRecord[] = [];
    for await (const row of h.storage.policy.audit.between(0, Number.MAX_SAFE_INTEGER)) rows.push(row);
    return rows;
  };
  const send = async (conversationId: string, payload: Record<string, unknown>) => {
    const replies = h.robot.repliesTo(conversationId).length;
    const frameId = h.gateway.push(payload);
    // Acked only once admitted to the ledger; completed once replied to (or silently handled).
    await waitFor(() => h.gateway.ackFor(frameId) !== undefined, 10_000, 'the ack');
    const what = `handling of "${String((payload.text as { content?: string } | undefined)?.content)}"`;
    await waitFor(() => settled(h, payload.msgId as string), 10_000, what);
    return h.robot.repliesTo(conversationId).at(replies);
  };
  return {
    h,
    backend,
    clock,
    dm: (staffId, text, extra = {}) => send(`dm-${staffId}`, { ...h.robot.robotMessage({ conversationId: `dm-${staffId}`, staffId, text }), ...extra }),
    group: (groupId, staffId, text, extra = {}) =>
      send(groupId, { ...h.robot.robotMessage({ conversationId: groupId, group: true, staffId, text }), ...extra }),
    audit,
  };
}

/** True once the chat handler has completed the message (nothing of it is pending). */
async function settled(h: StreamHarness, msgId: string): Promise<boolean> {
  const pending = await h.storage.ledger.pending();
  return !pending.some((e) => e.id === msgId);
}
