import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startStreamHarness } from '../helpers/stream-harness.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const DEMO_DIRS = [path.join(SRC, 'demo'), path.join(SRC, 'backends/demo')];

/** Every source file `entry` imports, directly or not (relative imports; `.js` names a `.ts` file). */
function importGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(file), m[1]!).replace(/\.js$/, '.ts');
      if (existsSync(target)) visit(target);
    }
  };
  visit(entry);
  return seen;
}

describe('nothing of the demo is reachable in a normal npm start', () => {
  it('main.ts and app.ts import nothing from src/demo or src/backends/demo', () => {
    const graph = importGraph(path.join(SRC, 'main.ts'));
    expect(graph.has(path.join(SRC, 'app.ts'))).toBe(true); // the walk does follow imports
    expect(graph.size).toBeGreaterThan(30);
    const demoFiles = [...graph].filter((f) => DEMO_DIRS.some((dir) => f.startsWith(`${dir}${path.sep}`)));
    expect(demoFiles).toEqual([]);
  });

  it('the production app built as main builds it serves no demo page, page API or DingTalk simulator', async () => {
    const h = await startStreamHarness({ env: { STREAM_ENABLED: 'false' } });
    try {
      for (const url of ['/demo.js', '/markdown.js', '/message-view.js', '/demo.css', '/demo-api/setup', '/demo-api/updates?since=0&wait=0']) {
        const res = await fetch(`${h.app.url}${url}`);
        expect(res.status, url).toBe(404);
      }
      for (const [method, url] of [
        ['POST', '/demo-api/messages'],
        ['POST', '/v1.0/gateway/connections/open'],
        ['POST', '/v1.0/oauth2/accessToken'],
        ['POST', '/robot/sendBySession?session=x'],
        ['POST', '/v1.0/card/instances/createAndDeliver'],
      ] as const) {
        const res = await fetch(`${h.app.url}${url}`, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(res.status, url).toBe(404);
      }
    } finally {
      await h.close();
    }
  });
});
