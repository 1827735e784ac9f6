import { describe, expect, it } from 'vitest';
import { SecretRedactor } from '../../src/logger.js';
import { captureLogger } from '../helpers/capture-logs.js';

/** A redactor that counts the strings it was asked to scrub: formatting work done per record. */
class CountingRedactor extends SecretRedactor {
  calls = 0;
  override redact(text: string): string {
    this.calls++;
    return super.redact(text);
  }
}

function logger(level: string, transportLevel?: string) {
  const redactor = new CountingRedactor();
  const { logger: log, lines } = captureLogger(redactor, level, transportLevel);
  return { log, redactor, lines };
}

describe('records below LOG_LEVEL', () => {
  it('are dropped before any formatting, by the root logger and its children alike', () => {
    const { log, redactor, lines } = logger('warn');
    log.info('question answered', { conversationKey: 'dm:abc', answer: 'x'.repeat(1000) });
    log.child({ msgId: 'm1' }).debug('frame', { bytes: 10 });
    log.log('info', 'through log()', { a: 'b' });
    expect(redactor.calls).toBe(0);
    expect(lines).toEqual([]);

    log.child({ msgId: 'm2' }).warn('slow answer', { ms: 9000 });
    expect(redactor.calls).toBeGreaterThan(0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', message: 'slow answer', msgId: 'm2', ms: 9000 });
  });

  it('still reach a transport whose own level lets them through', () => {
    const { log, lines } = logger('warn', 'debug');
    log.info('kept by the transport');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['kept by the transport']);
  });
});
