import { DEFAULT_AI_LABEL } from '../../src/config/policy-env.js';

/** An answer as users see it: the model's text with the AI label at the end (issue 11). */
export function withLabel(answer: string, label = DEFAULT_AI_LABEL): string {
  return `${answer}\n\n${label}`;
}

/** The model's text of a labelled answer (the label and what follows it removed). */
export function withoutLabel(text: string, label = DEFAULT_AI_LABEL): string {
  const at = text.lastIndexOf(`\n\n${label}`);
  return at < 0 ? text : text.slice(0, at);
}
