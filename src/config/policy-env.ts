import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_STUDENT_PROMPT, DEFAULT_TEACHER_PROMPT } from '../policy/default-role-prompts.js';
import { parseQuietHours, type QuietHours } from '../policy/quiet-hours.js';
import type { Role } from '../policy/roles.js';
import { isKnownTimeZone } from '../policy/school-clock.js';
import { bool, intIn, list, oneOf, optionalText, text } from './env-fields.js';

/** The label every AI answer ends with when AI_LABEL is not set. */
export const DEFAULT_AI_LABEL = '（以上内容由人工智能生成 · AI-generated）';

/**
 * School policy (issue 11): roles and prompts, fair use, the AI label, crisis hand-off, the
 * content filter and how long records are kept. Spread into ENV_SCHEMA.
 */
export const POLICY_ENV = {
  TEACHER_USERS: list,
  TEACHERS_FROM_ADMINS: bool(false),
  ASK_API_ROLE: oneOf(['student', 'teacher'], 'student'),
  STUDENT_PROMPT: optionalText,
  TEACHER_PROMPT: optionalText,
  STUDENT_DAILY_QUOTA: intIn(0, 100_000, 50),
  SCHOOL_TIMEZONE: text('Asia/Shanghai').refine(isKnownTimeZone, 'must be an IANA time zone such as Asia/Shanghai'),
  QUIET_HOURS: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx): QuietHours | undefined => {
      if (v === undefined || v === '') return undefined;
      const parsed = parseQuietHours(v);
      if (typeof parsed !== 'string') return parsed;
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }),
  AI_LABEL: optionalText.refine(
    (v) => !v || /人工智能|AI\s*生成|AI[\s-]*generated/i.test(v),
    'must still say the answer is AI-generated (contain 人工智能, AI生成 or AI-generated): it can be reworded, not removed',
  ),
  CRISIS_WORDS_FILE: optionalText,
  CRISIS_REPLY: optionalText,
  COUNSELLOR_USERS: list,
  COUNSELLOR_CONTACT: optionalText,
  CRISIS_SHARE_TEXT: bool(false),
  BLOCKED_WORDS_FILE: optionalText,
  AUDIT_RETENTION_DAYS: intIn(1, 3650, 180),
  TRANSCRIPT_RETENTION_DAYS: intIn(0, 3650, 0),
};

export interface PolicyConfig {
  readonly roles: {
    readonly teachers: readonly string[];
    readonly teachersFromAdmins: boolean;
    /** ASK_API_ROLE: how `/assistant/ask` callers are treated. */
    readonly httpRole: Role;
  };
  readonly prompts: Readonly<Record<Role, string>>;
  readonly fairUse: {
    /** Questions per student per school day; 0 = unlimited. */
    readonly studentDailyQuota: number;
    readonly timeZone: string;
    readonly quietHours?: QuietHours;
  };
  readonly aiLabel: string;
  readonly crisis: {
    /** Phrases from CRISIS_WORDS_FILE, added to the built-in list. */
    readonly extraPhrases: readonly string[];
    /** CRISIS_REPLY: replaces the built-in caring reply. */
    readonly reply?: string;
    readonly counsellors: readonly string[];
    readonly counsellorContact?: string;
    readonly shareText: boolean;
  };
  /** Terms from BLOCKED_WORDS_FILE (empty = no filter of our own). */
  readonly blockedWords: readonly string[];
  readonly retention: { readonly auditDays: number; readonly transcriptDays: number };
}

/** Reads a file named in the configuration (UTF-8); throws when it cannot. */
export type ConfigFileReader = (path: string) => string;

/** The file system reader main (and other entry points) give loadConfig. */
export const readConfigFileFromDisk: ConfigFileReader = (path) => readFileSync(path, 'utf8');

type RawEnv = Readonly<Record<string, string | undefined>>;

/** What the file-valued variables hold once read, and the problems reading them. */
export interface PolicyFiles {
  readonly studentPrompt?: string;
  readonly teacherPrompt?: string;
  readonly crisisPhrases: readonly string[];
  readonly blockedWords: readonly string[];
  readonly problems: readonly string[];
}

/**
 * Reads `STUDENT_PROMPT=@file`, `TEACHER_PROMPT=@file`, CRISIS_WORDS_FILE and BLOCKED_WORDS_FILE
 * through `readFile` (main passes the file system; without it a file cannot be read and that is
 * reported), so loadConfig stays a function of its inputs.
 */
export function readPolicyFiles(env: RawEnv, readFile: ConfigFileReader | undefined): PolicyFiles {
  const problems: string[] = [];
  const read = (name: string, path: string): string | undefined => {
    try {
      if (!readFile) throw new Error('files cannot be read here');
      return readFile(path);
    } catch (err) {
      problems.push(`${name} names a file that cannot be read (${path}): ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };
  const prompt = (name: string) => {
    const value = env[name]?.trim();
    if (!value?.startsWith('@')) return value || undefined;
    const content = read(name, value.slice(1).trim())?.trim();
    if (content === '') problems.push(`${name} names an empty file (${value.slice(1).trim()})`);
    return content || undefined;
  };
  const words = (name: string) => {
    const path = env[name]?.trim();
    return path ? termsOf(read(name, path) ?? '') : [];
  };
  return {
    studentPrompt: prompt('STUDENT_PROMPT'),
    teacherPrompt: prompt('TEACHER_PROMPT'),
    crisisPhrases: words('CRISIS_WORDS_FILE'),
    blockedWords: words('BLOCKED_WORDS_FILE'),
    problems,
  };
}

/** Variables required because of policy choices: counsellors are reached through the DingTalk app. */
export const POLICY_RULES: ReadonlyArray<(env: RawEnv) => string[]> = [
  (env) => {
    if (!env.COUNSELLOR_USERS?.split(',').some((s) => s.trim())) return [];
    return ['DING_APP_KEY', 'DING_APP_SECRET']
      .filter((name) => !env[name]?.trim())
      .map((name) => `${name} is required when COUNSELLOR_USERS is set (counsellors are messaged by the DingTalk robot)`);
  },
];

interface PolicyEnv {
  TEACHER_USERS: string[];
  TEACHERS_FROM_ADMINS: boolean;
  ASK_API_ROLE: string;
  STUDENT_DAILY_QUOTA: number;
  SCHOOL_TIMEZONE: string;
  QUIET_HOURS?: QuietHours;
  AI_LABEL?: string;
  CRISIS_REPLY?: string;
  COUNSELLOR_USERS: string[];
  COUNSELLOR_CONTACT?: string;
  CRISIS_SHARE_TEXT: boolean;
  AUDIT_RETENTION_DAYS: number;
  TRANSCRIPT_RETENTION_DAYS: number;
}

/**
 * The policy section. A role prompt falls back to SYSTEM_PROMPT (one prompt for everyone, as
 * before roles existed) and then to the built-in prompt of the role.
 */
export function toPolicyConfig(e: PolicyEnv, files: PolicyFiles, systemPrompt: string | undefined): PolicyConfig {
  return {
    roles: { teachers: e.TEACHER_USERS, teachersFromAdmins: e.TEACHERS_FROM_ADMINS, httpRole: e.ASK_API_ROLE as Role },
    prompts: {
      student: files.studentPrompt ?? systemPrompt ?? DEFAULT_STUDENT_PROMPT,
      teacher: files.teacherPrompt ?? systemPrompt ?? DEFAULT_TEACHER_PROMPT,
    },
    fairUse: { studentDailyQuota: e.STUDENT_DAILY_QUOTA, timeZone: e.SCHOOL_TIMEZONE, quietHours: e.QUIET_HOURS },
    aiLabel: e.AI_LABEL || DEFAULT_AI_LABEL,
    crisis: {
      extraPhrases: files.crisisPhrases,
      reply: e.CRISIS_REPLY || undefined,
      counsellors: e.COUNSELLOR_USERS,
      counsellorContact: e.COUNSELLOR_CONTACT || undefined,
      shareText: e.CRISIS_SHARE_TEXT,
    },
    blockedWords: files.blockedWords,
    retention: { auditDays: e.AUDIT_RETENTION_DAYS, transcriptDays: e.TRANSCRIPT_RETENTION_DAYS },
  };
}

/** One term per line; blank lines and lines starting with # are ignored. */
function termsOf(content: string): string[] {
  return content
    .split(/\r?\n/)
    .map((line) => line.replace(/^\uFEFF/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
