import type { GatewayFailureKind } from './gateway-ticket.js';

/** `standby`: another instance holds the Stream (several instances on one Redis). */
export type StreamState = 'connecting' | 'connected' | 'disabled' | 'stopped' | 'standby';

export interface StreamStatus {
  readonly state: StreamState;
  /** Epoch ms of the last frame received on any connection. */
  readonly lastFrameAt?: number;
  /** New connections opened after the first one. */
  readonly reconnects: number;
  /** Why the latest connection attempt failed; cleared once a connection is open. */
  readonly lastFailure?: StreamFailure;
  /** Epoch ms since when no connection has been open (while connecting). */
  readonly disconnectedSince?: number;
  /**
   * Our clock minus DingTalk's, from the `time` header of the latest frame (positive: ours is
   * ahead; includes the frame's delivery latency). Undefined until a frame with a time arrived.
   */
  readonly clockSkewMs?: number;
}

export interface StreamFailure {
  readonly kind: GatewayFailureKind;
  /** Never holds a secret or a ticket (the ticket is redacted, the secret never in it). */
  readonly message: string;
  readonly at: number;
}
