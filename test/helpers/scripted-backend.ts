import type { AssistantBackend, CallOptions } from '../../src/backends/assistant-backend.js';
import { createDingTalkAssistantBackend } from '../../src/backends/dingtalk-assistant/dingtalk-assistant-backend.js';
import type {
  ResumeInput,
  RunAnswer as BackendAnswer,
  ThreadAskInput as AskInput,
  ThreadsClient,
} from '../../src/backends/dingtalk-assistant/threads-client.js';
import { AssistantError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';

/**
 * An in-memory Threads API for engine and transport tests: threads remember their questions,
 * answers take `delayMs`, and failures can be scripted per call. `backend(logger)` gives the
 * AssistantBackend the service uses (the DingTalk assistant backend over these threads).
 */
export class ScriptedBackend implements ThreadsClient {
  readonly threads = new Map<string, string[]>();
  readonly calls: Array<{ op: string; threadId?: string; text?: string; at: number; maybeAdded?: boolean }> = [];
  /** Runs started and not yet finished, by run id. */
  readonly activeRuns = new Set<string>();
  delayMs = 0;
  /** Next ask calls fail with these errors, in order. */
  failures: AssistantError[] = [];
  /** Runs whose answer never arrives (the ask times out at its deadline). */
  hangNext = 0;
  /** The next ask adds its message, then "crashes" before starting the run. */
  crashAfterMessageNext = 0;
  answer: (text: string, history: string[]) => string = (text, history) => `answer ${history.length}: ${text}`;
  private runSeq = 0;
  private threadSeq = 0;
  maxConcurrent = 0;
  private concurrent = 0;

  async createThread(_options: CallOptions): Promise<string> {
    const id = `thread_${++this.threadSeq}`;
    this.threads.set(id, []);
    this.calls.push({ op: 'createThread', threadId: id, at: Date.now() });
    return id;
  }

  async ask(input: AskInput): Promise<BackendAnswer> {
    this.calls.push({
      op: input.messageAlreadyAdded ? 'ask-without-message' : 'ask',
      threadId: input.threadId,
      text: input.text,
      at: Date.now(),
      maybeAdded: input.messageMaybeAdded,
    });
    const history = this.threads.get(input.threadId);
    if (!history) throw new AssistantError('conversation_missing', 'no such thread', { upstreamCode: 'thread.not.exist' });
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (this.activeRuns.size > 0 && [...this.activeRuns].some((r) => r.startsWith(input.threadId))) {
      throw new AssistantError('rejected', 'a run is still active', { upstreamCode: 'run.lastmessage.invalid' });
    }
    if (!input.messageAlreadyAdded) {
      history.push(input.text);
      await input.onProgress?.({ step: 'message-added' });
    }
    if (this.crashAfterMessageNext > 0) {
      this.crashAfterMessageNext--;
      throw new AssistantError('cancelled', 'process stopped before the run started');
    }
    const runId = `${input.threadId}/run_${++this.runSeq}`;
    this.activeRuns.add(runId);
    await input.onProgress?.({ step: 'run-started', runId });
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      if (this.hangNext > 0) {
        this.hangNext--;
        await sleep(Math.max(0, input.deadline - Date.now()));
        throw new AssistantError('timeout', 'run did not finish before the deadline');
      }
      await sleep(this.delayMs);
      this.activeRuns.delete(runId);
      return { answer: this.answer(input.text, history), runId };
    } finally {
      this.concurrent--;
    }
  }

  async resume(input: ResumeInput): Promise<BackendAnswer> {
    this.calls.push({ op: 'resume', threadId: input.threadId, at: Date.now() });
    if (!this.activeRuns.has(input.runId)) return { answer: `(answer of ${input.runId})`, runId: input.runId };
    await sleep(Math.max(0, input.deadline - Date.now()));
    throw new AssistantError('timeout', 'earlier run still active');
  }

  /** The DingTalk assistant backend over these scripted threads. */
  backend(logger: Logger): AssistantBackend {
    return createDingTalkAssistantBackend({ threads: this, logger });
  }

  /** Lets a hung run end (as if DingTalk finally finished it). */
  finishAll(): void {
    this.activeRuns.clear();
  }

  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
