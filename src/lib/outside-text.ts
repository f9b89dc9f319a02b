/**
 * Text astro-conv1 did not write — a server's status line or headers, a model's layer and file
 * names, a registry's URLs — reaches the user's terminal inside messages. A control character in it
 * could move the cursor, clear the screen or recolour what follows (ANSI escapes start with ESC, or
 * with the one-character CSI U+009B), and a bidirectional override could make a name read as another.
 * Every message that quotes such text passes through here: Conv1Error for errors, and the command
 * line's and the integration's own lines for the rest.
 */

// C0, DEL, C1, the bidirectional marks, embeddings, overrides and isolates, and the line and
// paragraph separators (messages are single lines).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
/** The same but C0, which JSON.stringify escapes in strings and uses (\n) between them. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** The text with every unsafe character written as a visible escape: ESC as \x1b, U+202E as \u{202e}. */
export function escapeOutsideText(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 characters itself but writes C1 and the bidi
 * characters as they are; those become \u escapes here, which parse back to the same value.
 */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
