import type { Logger } from '../../logger.js';
import type { LeaderLease } from '../../storage/leader-lease.js';

export interface LeadershipOptions {
  readonly lease: LeaderLease;
  readonly logger: Logger;
  /** This process took the lease: open the connection. */
  readonly onElected: () => Promise<void>;
  /** The lease is lost, or cannot be confirmed before it would expire: close the connection now. */
  readonly onDeposed: () => Promise<void>;
  /** After each renewal while holding the lease (answering what holders that died left behind). */
  readonly whileLeading?: () => Promise<void>;
}

/**
 * Which of several instances holds the one DingTalk Stream connection (DingTalk hands each
 * message to a random open connection, so two holders would split the messages). Standby
 * instances try to take the lease every fifth of its lifetime; the holder renews it every third,
 * and closes the Stream as soon as it learns the lease is gone, or when it cannot confirm the
 * lease before it would expire (Redis unreachable), since another instance may take it then.
 */
export class StreamLeadership {
  private leading = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  /** When the last successful take or renewal was sent (the lease runs at least ttl from then). */
  private confirmedAt = 0;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeadershipOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves after the first attempt: a lone instance has its Stream open when start resolves. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.step();
  }

  /** Closes the Stream if held and frees the lease, so a standby instance takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    if (this.leading) {
      this.leading = false;
      await this.options.onDeposed();
    }
    await this.options.lease.release().catch((err: unknown) => {
      this.options.logger.warn('could not release the stream lease (it expires on its own)', { err: String(err) });
    });
  }

  private get renewEveryMs(): number {
    return Math.max(100, Math.floor(this.options.lease.ttlMs / 3));
  }

  private step(): Promise<void> {
    this.ticking = this.tick()
      .catch((err: unknown) => {
        this.options.logger.error('stream leadership step failed', { err: String(err) });
      })
      .finally(() => this.schedule());
    return this.ticking;
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.leading ? this.renewEveryMs : Math.max(100, Math.floor(this.options.lease.ttlMs / 5));
    this.timer = setTimeout(() => void this.step(), every);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.leading) return this.keep();
    const askedAt = Date.now();
    let taken = false;
    try {
      taken = await this.options.lease.acquire();
    } catch (err) {
      this.options.logger.debug('could not ask for the stream lease', { err: String(err) });
    }
    if (!taken || this.stopped) return; // stopped meanwhile: stop() frees the lease
    this.leading = true;
    this.confirmedAt = askedAt;
    this.options.logger.info('this instance now holds the DingTalk Stream (stream lease taken)');
    await this.options.onElected();
  }

  private async keep(): Promise<void> {
    const { lease, logger } = this.options;
    const askedAt = Date.now();
    let ours: boolean | undefined;
    try {
      ours = await lease.renew();
    } catch (err) {
      logger.debug('could not renew the stream lease', { err: String(err) });
    }
    if (ours) {
      this.confirmedAt = askedAt;
      await this.options.whileLeading?.().catch((err: unknown) => {
        logger.warn('recovery while holding the Stream failed', { err: String(err) });
      });
      return;
    }
    // Unreachable but surely still ours until the next renewal: keep the Stream for now.
    if (ours === undefined && askedAt - this.confirmedAt < lease.ttlMs - this.renewEveryMs) return;
    logger.warn(ours === false ? 'the stream lease was taken by another instance; closing the Stream' : 'the stream lease could not be renewed in time; closing the Stream');
    this.leading = false;
    await this.options.onDeposed();
  }
}
