import type { Exam, ExamStore } from '../exam-store.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';

// KEYS: exams hash. ARGV: group id. Removes the group's exam and returns it (or nil).
const END = `
local exam = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
return exam`;

// KEYS: exams hash. ARGV: now. Removes every exam that ended.
const DELETE_ENDED = `
local all = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #all, 2 do
  local ok, exam = pcall(cjson.decode, all[i + 1])
  if not ok or tonumber(exam.endsAt) <= tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], all[i])
    n = n + 1
  end
end
return n`;

/**
 * Running exams in one Redis hash (group id → the exam as JSON), read on every group question:
 * with several instances a teacher's command may have come through another one, so nothing is
 * kept in memory.
 */
export class RedisExamStore implements ExamStore {
  private readonly endScript: RedisScript;
  private readonly deleteScript: RedisScript;
  private readonly key: string;

  constructor(private readonly connection: RedisConnection) {
    this.endScript = connection.script(END, 1);
    this.deleteScript = connection.script(DELETE_ENDED, 1);
    this.key = connection.key('exams');
  }

  async start(exam: Exam): Promise<void> {
    const text = JSON.stringify({ groupId: exam.groupId, id: exam.id, startedAt: exam.startedAt, endsAt: exam.endsAt });
    await this.connection.run('starting exam mode failed', (r) => r.hset(this.key, exam.groupId, text));
  }

  async end(groupId: string, now: number): Promise<boolean> {
    const text = await this.connection.run('ending exam mode failed', () => this.endScript([this.key], [groupId]));
    const exam = typeof text === 'string' ? parseExam(text) : undefined;
    return exam !== undefined && exam.endsAt > now;
  }

  async active(groupId: string, now: number): Promise<Exam | undefined> {
    const text = await this.connection.run('reading exam mode failed', (r) => r.hget(this.key, groupId));
    const exam = text === null ? undefined : parseExam(text);
    return exam && exam.endsAt > now ? exam : undefined;
  }

  async deleteEnded(now: number): Promise<number> {
    return Number(await this.connection.run('purging ended exams failed', () => this.deleteScript([this.key], [now])));
  }
}

function parseExam(text: string): Exam | undefined {
  try {
    const e = JSON.parse(text) as Partial<Exam>;
    if (typeof e.groupId !== 'string' || typeof e.id !== 'string' || typeof e.startedAt !== 'number' || typeof e.endsAt !== 'number') return undefined;
    return { groupId: e.groupId, id: e.id, startedAt: e.startedAt, endsAt: e.endsAt };
  } catch {
    return undefined;
  }
}
