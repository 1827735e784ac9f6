// The web chat page: asks POST assistant/ask, keeps the sessionId in localStorage and an API
// key (when the service asks for one) in sessionStorage. All URLs are relative to this
// script's own folder, so the page works under any path prefix and inside an iframe.
import { renderMarkdown } from './markdown.js';

const BASE = new URL('../', import.meta.url); // the service root, e.g. https://school.example/ai/
const KEY_PREFIX = `dingtalk-bridge:${BASE.pathname}:`;

const TEXT = {
  you: '你 · You',
  bot: 'AI 助手 · Assistant',
  error: '出错了 · Error',
  thinking: '正在思考… · Thinking…',
  newConversation: '已开始新对话。 · New conversation started.',
  expired: '之前的对话已过期，这是一段新对话。 · The earlier conversation expired; this is a new one.',
  continuing: '继续之前的对话（发送“新对话”可重新开始）。 · Continuing your earlier conversation (press New conversation to start over).',
  network: { zh: '无法连接服务，请检查网络后重试。', en: 'Cannot reach the service; check the network and try again.' },
  unknown: { zh: '出现了未知错误，请稍后再试。', en: 'Something went wrong; please try again later.' },
  keyRejected: { zh: '密钥无效，请重新输入。', en: 'The key was not accepted; please enter it again.' },
  retryIn: (s) => ` （${s} 秒后可重试 · retry in ${s} s）`,
};

const $ = (id) => document.getElementById(id);
const transcript = $('transcript');
const askForm = $('ask-form');
const question = $('question');
const send = $('send');
const status = $('status');
const keyForm = $('key-form');
const keyInput = $('api-key');

/** Storage that never throws (blocked in some iframes and private windows): memory instead. */
function store(area) {
  const memory = new Map();
  return {
    get(name) {
      try {
        return window[area].getItem(KEY_PREFIX + name);
      } catch {
        return memory.get(name) ?? null;
      }
    },
    set(name, value) {
      try {
        if (value === null) window[area].removeItem(KEY_PREFIX + name);
        else window[area].setItem(KEY_PREFIX + name, value);
      } catch {
        if (value === null) memory.delete(name);
        else memory.set(name, value);
      }
    },
  };
}
const session = store('localStorage'); // the conversation survives a reload
const secrets = store('sessionStorage'); // the key does not outlive the tab

let errorTexts = {};
let pending = null; // a question waiting for an API key
let busy = false;

function addMessage(kind, build) {
  const el = document.createElement('div');
  el.className = `msg ${kind}`;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = kind === 'user' ? TEXT.you : kind === 'bot' ? TEXT.bot : TEXT.error;
  el.append(who);
  build(el);
  transcript.append(el);
  el.scrollIntoView({ block: 'end' });
  return el;
}

function addNotice(text) {
  const p = document.createElement('p');
  p.className = 'notice';
  p.textContent = text;
  transcript.append(p);
}

function showError(texts, extra = '') {
  addMessage('error', (el) => {
    const zh = document.createElement('p');
    zh.textContent = texts.zh + extra;
    const en = document.createElement('p');
    en.lang = 'en';
    en.textContent = texts.en;
    el.append(zh, en);
  });
}

function setBusy(on) {
  busy = on;
  send.disabled = on;
  status.textContent = on ? TEXT.thinking : '';
}

async function ask(text) {
  setBusy(true);
  const headers = { 'Content-Type': 'application/json' };
  const key = secrets.get('apiKey');
  if (key) headers.Authorization = `Bearer ${key}`;
  const sent = session.get('sessionId');
  let res;
  let body;
  try {
    res = await fetch(new URL('assistant/ask', BASE), {
      method: 'POST',
      headers,
      body: JSON.stringify({ question: text, ...(sent ? { sessionId: sent } : {}) }),
    });
    body = await res.json().catch(() => ({}));
  } catch {
    setBusy(false);
    showError(TEXT.network);
    return;
  }
  setBusy(false);
  if (res.ok && body.code === 0) {
    if (sent && body.sessionId !== sent) addNotice(TEXT.expired);
    session.set('sessionId', body.sessionId);
    addMessage('bot', (el) => {
      const answer = document.createElement('div');
      answer.innerHTML = renderMarkdown(body.answer); // escaped first, see markdown.js
      el.append(answer);
    });
    return;
  }
  if (res.status === 401) return askForKey(text, Boolean(key));
  const retryAfter = res.status === 429 ? Number(res.headers.get('retry-after')) : NaN;
  const texts = errorTexts[String(body.code)] ?? (typeof body.message === 'string' ? { zh: TEXT.unknown.zh, en: body.message } : TEXT.unknown);
  showError(texts, Number.isFinite(retryAfter) && retryAfter > 0 ? TEXT.retryIn(retryAfter) : '');
}

function askForKey(text, hadKey) {
  pending = text;
  if (hadKey) secrets.set('apiKey', null);
  showError(hadKey ? TEXT.keyRejected : errorTexts['40101'] ?? TEXT.unknown);
  keyForm.hidden = false;
  keyInput.value = '';
  keyInput.focus();
}

askForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = question.value.trim();
  if (!text || busy) return;
  question.value = '';
  addMessage('user', (el) => el.append(document.createTextNode(text)));
  question.focus();
  void ask(text);
});

question.addEventListener('keydown', (event) => {
  // Enter sends, Shift+Enter is a new line; never while an input method is composing (拼音).
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    askForm.requestSubmit();
  }
});

keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (!key) return;
  secrets.set('apiKey', key);
  keyForm.hidden = true;
  question.focus();
  if (pending !== null) {
    const text = pending;
    pending = null;
    void ask(text);
  }
});

$('new-conversation').addEventListener('click', () => {
  session.set('sessionId', null);
  pending = null;
  transcript.replaceChildren();
  addNotice(TEXT.newConversation);
  question.focus();
});

async function loadErrorTexts() {
  try {
    const res = await fetch(new URL('web-chat/errors.json', BASE));
    if (res.ok) errorTexts = await res.json();
  } catch {
    // The generic texts above still apply.
  }
}

if (session.get('sessionId')) addNotice(TEXT.continuing);
void loadErrorTexts();
// Standalone, the cursor waits in the box; embedded, the school's page keeps its own focus.
if (window.top === window.self) question.focus();
