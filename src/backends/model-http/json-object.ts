/**
 * A JSON object from a parsed value or from JSON text; undefined for anything else (arrays,
 * HTML error pages, empty bodies, broken chunks).
 */
export function asJsonObject(value: unknown): Record<string, unknown> | undefined {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
