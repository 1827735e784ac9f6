import { z } from 'zod';

/**
 * Field parsers for environment variables: each takes the raw string (or undefined) and says
 * what is wrong in words an operator understands. The variable name is added by loadConfig.
 */
export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

const RATE_WINDOWS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000 };

export const text = (fallback: string) => z.string().trim().default(fallback);

export const optionalText = z.string().trim().optional();

export const intIn = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .default(String(fallback))
    .pipe(
      z.coerce
        .number<string>({ error: 'must be a whole number' })
        .int('must be a whole number')
        .min(min, `must be at least ${min}`)
        .max(max, `must be at most ${max}`),
    );

export const bool = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .default(String(fallback))
    .pipe(
      z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
        error: 'must be true or false',
      }),
    )
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .default(fallback)
    .pipe(z.enum(values, { error: `must be ${values.slice(0, -1).join(', ')} or ${values.at(-1)}` }));

export const list = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const rateLimit = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((v, ctx): RateLimit => {
      const m = /^(\d+)\s*\/\s*(second|minute|hour)$/i.exec(v);
      const max = m ? Number(m[1]) : 0;
      if (!m || max < 1) {
        ctx.addIssue({ code: 'custom', message: 'must look like 50/minute (per second, minute or hour)' });
        return z.NEVER;
      }
      return { max, windowMs: RATE_WINDOWS[m[2]!.toLowerCase()]! };
    });

const httpUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
  .transform((v) => v.replace(/\/+$/, ''));

export const url = (fallback: string) => z.string().trim().default(fallback).pipe(httpUrl);

export const optionalUrl = httpUrl.optional();

/** A JSON object (provider switches such as {"enable_thinking": false}); empty means {}. */
export const jsonObject = z
  .string()
  .trim()
  .default('{}')
  .transform((v, ctx): Record<string, unknown> => {
    try {
      const parsed: unknown = JSON.parse(v);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object, e.g. {"enable_thinking":false}' });
    return z.NEVER;
  });
