/**
 * Text from a registry or an image (error messages, annotations) is untrusted: control characters
 * in it could move the cursor, recolour or rewrite what the user sees. Everything printed to a
 * terminal from such a source goes through {@link escapeControl}.
 */

/** Replaces C0/C1 control characters and DEL with visible `\xNN` / `\uNNNN` escapes. */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
