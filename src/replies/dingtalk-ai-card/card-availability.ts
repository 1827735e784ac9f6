import type { Logger } from '../../logger.js';
import type { CardApiError } from './card-api.js';

/** How long cards stay off after DingTalk said they cannot work (permission, template, delivery, quota). */
export const CARD_COOLDOWN_MS = 30 * 60_000;

/**
 * Whether to try AI cards now. After a failure that will not fix itself the bot answers in
 * markdown for a while, logging why once, then tries again (checking the permission first).
 */
export class CardAvailability {
  private offUntil = 0;
  private checked = false;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly cooldownMs = CARD_COOLDOWN_MS,
  ) {}

  usable(): boolean {
    return this.now() >= this.offUntil;
  }

  /** True once per period on: the caller checks the permission before the first card. */
  needsCheck(): boolean {
    if (this.checked) return false;
    this.checked = true;
    return true;
  }

  turnOff(reason: string, err?: CardApiError): void {
    if (!this.usable()) return;
    this.offUntil = this.now() + this.cooldownMs;
    this.checked = false;
    this.log.warn('AI cards turned off for a while; answering in markdown', {
      reason,
      minutes: Math.round(this.cooldownMs / 60_000),
      kind: err?.kind,
      code: err?.detail.code,
      requiredScopes: err?.detail.requiredScopes,
      hint: hintFor(err),
    });
  }
}

function hintFor(err: CardApiError | undefined): string | undefined {
  switch (err?.kind) {
    case 'permission':
      return 'grant Card.Instance.Write and Card.Streaming.Write to the app (开发者后台 → 权限管理) and publish it';
    case 'template':
      return 'check DINGTALK_CARD_TEMPLATE_ID: the template must exist in this app and be published';
    case 'delivery':
      return 'the robot could not post the card here (is it in the group? published?)';
    case 'quota':
      return "the organisation's monthly DingTalk API quota is used up";
    default:
      return undefined;
  }
}
