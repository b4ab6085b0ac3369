/** Parses the metadata text field: empty is null; otherwise a JSON object, or an error saying why not. */
export function parseMetadata(text: string): { value: Record<string, unknown> | null; error?: string } {
  if (text.trim() === "") return { value: null };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { value: null, error: `not valid JSON: ${(e as Error).message}` };
  }
  if (v === null) return { value: null };
  if (typeof v !== "object" || Array.isArray(v)) return { value: null, error: "must be a JSON object, like {\"max_sentences\": 3}" };
  return { value: v as Record<string, unknown> };
}
