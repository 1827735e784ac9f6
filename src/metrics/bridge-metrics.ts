import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How a question ended, for `bridge_questions_total{outcome}`. */
export type QuestionOutcome =
  | 'answered'
  | 'failed'
  | 'timeout'
  | 'busy'
  | 'blocked'
  | 'refused'
  | 'rate_limited'
  | 'unavailable'
  | 'cancelled'
  | (string & {});

/** DingTalk API families, for `bridge_dingtalk_api_calls_total{api}` (the monthly quota meter). */
export type DingTalkApiKind =
  | 'token'
  | 'stream_gateway'
  | 'send'
  | 'card_create'
  | 'card_update'
  | 'assistant'
  | 'other';

/** Counts questions of one transport: exactly one `count` per question. */
export interface QuestionMeter {
  /** One question ended with `outcome`; an answered one also feeds the answer-time histogram. */
  count(outcome: QuestionOutcome, arrivedAt: number): void;
}

/** Values read when Prometheus scrapes (queue depth, Stream state). */
export interface MetricsProbes {
  streamConnected?(): boolean;
  conversationsActive?(): number;
  queueWaiting?(): number;
}

/**
 * Every metric of the service in one registry of its own (not prom-client's global one, so
 * tests can build several apps in one process). Components count through the named members;
 * `GET /metrics` renders `registry`. Counting is exact: one call, one increment.
 */
export class BridgeMetrics {
  readonly registry = new Registry();
  readonly questions: Counter<'transport' | 'outcome'>;
  readonly answerSeconds: Histogram<'transport' | 'backend'>;
  readonly backendRequests: Counter<'backend' | 'outcome'>;
  readonly dingtalkApiCalls: Counter<'api'>;
  readonly streamReconnects: Counter;
  private probes: MetricsProbes = {};

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.questions = new Counter({
      name: 'bridge_questions_total',
      help: 'Questions by transport (http, chat) and how they ended',
      labelNames: ['transport', 'outcome'],
      registers,
    });
    this.answerSeconds = new Histogram({
      name: 'bridge_answer_seconds',
      help: 'Time from arrival of a question to its answer being sent',
      labelNames: ['transport', 'backend'],
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
      registers,
    });
    this.backendRequests = new Counter({
      name: 'bridge_backend_requests_total',
      help: 'Questions sent to the model backend, by outcome',
      labelNames: ['backend', 'outcome'],
      registers,
    });
    this.dingtalkApiCalls = new Counter({
      name: 'bridge_dingtalk_api_calls_total',
      help: 'DingTalk API calls by family (the free edition allows 5,000 a month)',
      labelNames: ['api'],
      registers,
    });
    this.streamReconnects = new Counter({ name: 'bridge_stream_reconnects_total', help: 'Stream reconnections', registers });
    const probes = () => this.probes;
    new Gauge({
      name: 'bridge_stream_connected',
      help: '1 when this instance holds a connected DingTalk Stream',
      registers,
      collect() {
        this.set(probes().streamConnected?.() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bridge_conversations_active',
      help: 'Conversations with a turn waiting or running',
      registers,
      collect() {
        this.set(probes().conversationsActive?.() ?? 0);
      },
    });
    new Gauge({
      name: 'bridge_queue_waiting',
      help: 'Questions waiting for a free slot at the model service',
      registers,
      collect() {
        this.set(probes().queueWaiting?.() ?? 0);
      },
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The meter a transport counts its questions with (`backend` labels the answer times). */
  questionMeter(transport: 'http' | 'chat', backend: string, now: () => number = Date.now): QuestionMeter {
    return {
      count: (outcome, arrivedAt) => {
        this.questions.inc({ transport, outcome });
        if (outcome === 'answered') this.answerSeconds.observe({ transport, backend }, Math.max(0, now() - arrivedAt) / 1000);
      },
    };
  }

  /** Where the gauges read their values from (set once the app is wired). */
  setProbes(probes: MetricsProbes): void {
    this.probes = { ...this.probes, ...probes };
  }
}

/** The family of a DingTalk API path, for the quota meter. */
export function dingtalkApiKind(method: string, path: string): DingTalkApiKind {
  if (path.includes('/oauth2/accessToken') || path.includes('/gettoken')) return 'token';
  if (path.includes('/gateway/connections/open')) return 'stream_gateway';
  if (path.includes('/card/instances/createAndDeliver') || (path.endsWith('/card/instances') && method === 'POST')) return 'card_create';
  if (path.includes('/card/streaming') || path.includes('/card/instances')) return 'card_update';
  if (path.includes('/robot/') || path.includes('/robot/send')) return 'send';
  if (path.includes('/assistant/')) return 'assistant';
  return 'other';
}
