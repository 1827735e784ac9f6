import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';

interface TreeNode {
  componentName: string;
  props: Record<string, any>;
  children?: TreeNode[];
}

const file = JSON.parse(readFileSync(new URL('../../assets/dingtalk-ai-card-template.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const editor = JSON.parse(String(file.editorData)) as { schema: { componentsTree: TreeNode[] }; variableList: Array<{ id: string; type: string }> };

const all = (n: TreeNode): TreeNode[] => [n, ...(n.children ?? []).flatMap(all)];
const stateNode = (status: number) => all(editor.schema.componentsTree[0]!).find((n) => n.componentName === 'AICardStatusContainer' && n.props.status === status);
const markdownIn = (n: TreeNode | undefined) => (n ? all(n).filter((c) => c.componentName === 'MarkdownBlock') : []);

describe('the shipped AI-card template (assets/dingtalk-ai-card-template.json)', () => {
  const key = loadConfig({ OPENAI_BASE_URL: 'http://x/v1', OPENAI_API_KEY: 'k', OPENAI_MODEL: 'm', STREAM_ENABLED: 'false' }).replies.cardContentKey;

  it('is an AI card for IM with a markdown variable named like the default DINGTALK_CARD_CONTENT_KEY', () => {
    expect(file).toMatchObject({ type: 'im', mode: 'card' });
    expect(editor.schema.componentsTree[0]!.componentName).toBe('AICardContainer');
    expect(editor.variableList).toContainEqual(expect.objectContaining({ id: key, type: 'markdown' }));
  });

  it('streams that variable into a markdown component while writing, and shows it when done or failed', () => {
    const writing = markdownIn(stateNode(2));
    expect(writing).toHaveLength(1);
    expect(writing[0]!.props).toMatchObject({ isStreaming: true, content: { variable: key, type: 'variableValue' } });
    for (const status of [3, 5]) expect(markdownIn(stateNode(status))[0]!.props.content.variable).toBe(key);
    expect(all(stateNode(1)!).some((n) => n.componentName === 'AIPending')).toBe(true); // the thinking state
    expect(editor.schema.componentsTree[0]!.props).toMatchObject({ enablePending: true, enableWriting: true, enableFailed: true });
  });
});
