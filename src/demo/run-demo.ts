import { networkInterfaces } from 'node:os';
import dotenv from 'dotenv';
import { ConfigError } from '../config/config.js';
import { DemoConfigError } from './demo-env.js';
import { type RunningDemo, startDemo } from './start-demo.js';

/**
 * `npm run demo`: the real service and a simulated DingTalk in one process, no credentials
 * needed. Prints the chat page's URL and the HTTP API's; Ctrl+C stops both.
 */
async function runDemo(): Promise<void> {
  dotenv.config({ quiet: true });
  let demo: RunningDemo;
  try {
    demo = await startDemo({ env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError || err instanceof DemoConfigError)) throw err;
    process.stderr.write(`${err.message}\nSee README.md (试用 · Try it without DingTalk).\n`);
    process.exit(1);
  }
  process.stdout.write(banner(demo));
  const stop = (signal: string) => {
    process.stdout.write(`\n${signal}: stopping the demo…\n`);
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    void demo
      .stop()
      .catch((err: unknown) => process.stderr.write(`stop failed: ${String(err)}\n`))
      .finally(() => {
        clearTimeout(force);
        process.exit(0);
      });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** With DEMO_HOST=0.0.0.0 the page is reachable from phones on the network: list those addresses. */
function lanUrls(pageUrl: string): string[] {
  if (process.env.DEMO_HOST?.trim() !== '0.0.0.0') return [];
  const port = new URL(pageUrl).port;
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => `                 http://${a!.address}:${port}/`);
  return addresses.length > 0 ? ['  手机 Phone:', ...addresses] : [];
}

function banner(demo: RunningDemo): string {
  const model =
    demo.model.kind === 'demo'
      ? [
          `  模型 Model:    内置演示后端 built-in demo backend (${demo.model.reason})`,
          '                 接入真实模型：在 .env 设置 OPENAI_BASE_URL、OPENAI_API_KEY、OPENAI_MODEL',
          '                 For a real model set OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL in .env',
        ]
      : [`  模型 Model:    ${demo.config.backend.kind} (ASSISTANT_BACKEND)`];
  return [
    '',
    '  钉钉模拟器已启动 · DingTalk simulator is running (no DingTalk account needed)',
    '',
    `  打开 Open:     ${demo.pageUrl}`,
    ...lanUrls(demo.pageUrl),
    `  HTTP API:      ${demo.apiUrl}/assistant/ask   (POST {"question": "…"})`,
    ...model,
    '  对话保存在 Conversations kept in: data/demo/   ·   Ctrl+C 停止 to stop',
    '',
    '',
  ].join('\n');
}

runDemo().catch((err: unknown) => {
  process.stderr.write(`the demo could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
