import { describe, expect, it } from 'vitest';
import { CHECK_QUESTION } from '../../src/backends/check-by-asking.js';
import { DEFAULT_STUDENT_PROMPT } from '../../src/policy/default-role-prompts.js';
import { withLabel } from '../helpers/ai-label.js';
import { FakeHttpServer } from '../fakes/fake-http-server.js';
import { FakeOpenAiApi, openAiErrors } from '../fakes/fake-openai-api.js';
import { spawnService, tempStorageUrl, type ServiceProcess } from '../helpers/service-process.js';

/**
 * Issue 8, "Done when": `ASSISTANT_BACKEND=openai STREAM_ENABLED=false` with only the three
 * OpenAI variables (no DingTalk app at all) is a complete question service, as a process.
 */
const KEY = 'sk-only-three-variables-0123456789';

async function ask(svc: ServiceProcess, body: object): Promise<{ status: number; body: any }> {
  const res = await fetch(`${svc.url}/assistant/ask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('an HTTP-only OpenAI-compatible service, as a process', () => {
  it('starts with three variables, keeps history in order across a restart, and leaves moderated questions out', async () => {
    const server = new FakeHttpServer();
    const model = new FakeOpenAiApi(server, { basePath: '/compatible-mode/v1', apiKey: KEY });
    await server.listen();
    const env = {
      OPENAI_BASE_URL: `${server.baseUrl}/compatible-mode/v1`,
      OPENAI_API_KEY: KEY,
      OPENAI_MODEL: 'qwen-plus',
      STREAM_ENABLED: 'false',
      // Test isolation only: a temp store and a free port.
      SESSION_STORAGE: tempStorageUrl(),
      HOST: '127.0.0.1',
      PORT: '0',
    };
    const processes: ServiceProcess[] = [];
    try {
      processes.push(await spawnService(env));
      const first = await ask(processes[0]!, { question: '光合作用是什么？' });
      expect(first).toMatchObject({ status: 200, body: { code: 0, answer: withLabel('答：光合作用是什么？（之前0轮）'), aiGenerated: true } });
      const { sessionId } = first.body;

      const second = await ask(processes[0]!, { question: 'And respiration?', sessionId });
      expect(second.body).toMatchObject({ code: 0, sessionId });
      // The service's own readiness check also asks the model once; leave it out.
      const asked = () => model.bodies.filter((b) => b.messages.at(-1).content !== CHECK_QUESTION);
      expect(asked()[1].messages).toEqual([
        // HTTP callers are students (ASK_API_ROLE): the student tutor prompt comes first.
        { role: 'system', content: DEFAULT_STUDENT_PROMPT },
        { role: 'user', content: '光合作用是什么？' },
        { role: 'assistant', content: '答：光合作用是什么？（之前0轮）' },
        { role: 'user', content: 'And respiration?' },
      ]);

      model.script({ respond: openAiErrors.dashScopeBlocked() });
      const blocked = await ask(processes[0]!, { question: 'something the provider refuses', sessionId });
      expect(blocked).toEqual({ status: 422, body: { code: 42201, message: expect.stringMatching(/cannot answer/) } });

      expect(await processes[0]!.stop('SIGTERM')).toBe(0);
      processes.push(await spawnService(env));
      const third = await ask(processes[1]!, { question: 'after the restart', sessionId });
      expect(third.body).toMatchObject({ code: 0, sessionId, answer: withLabel('答：after the restart（之前2轮）') });
      const sent = asked().at(-1).messages.map((m: { content: string }) => m.content);
      expect(sent).not.toContain('something the provider refuses');
      expect(sent.slice(1)).toEqual([
        '光合作用是什么？',
        '答：光合作用是什么？（之前0轮）',
        'And respiration?',
        '答：And respiration?（之前1轮）',
        'after the restart',
      ]);
      const logs = processes.flatMap((p) => [...p.stdout, ...p.stderr]).join('\n');
      expect(logs).not.toContain(KEY);
      expect(logs).not.toMatch(/DING_APP_KEY|stream connection attempt/);
    } finally {
      await Promise.all(processes.map((p) => p.stop('SIGKILL', 1_000)));
      await server.close();
    }
  }, 60_000);
});
