/**
 * Text from servers and model files reaches the terminal only escaped: control characters (ANSI
 * escapes, C1 CSI), bidi overrides and line breaks become visible escapes, everything else is kept.
 */
import { describe, expect, it } from 'vitest';
import { Conv1Error } from '../../src/lib/errors.ts';
import { escapeOutsideText, jsonForTerminal } from '../../src/lib/outside-text.ts';

/** Every character a terminal might act on rather than print. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

describe('escapeOutsideText', () => {
  it('writes ESC, CSI, line breaks, DEL and bidi overrides as visible escapes', () => {
    expect(escapeOutsideText('conv\u001b[2J\u001b[31m1')).toBe('conv\\x1b[2J\\x1b[31m1');
    expect(escapeOutsideText('a\u009b31mb')).toBe('a\\x9b31mb');
    expect(escapeOutsideText('line\nnext\r\tend\u0000\u007f')).toBe('line\\x0anext\\x0d\\x09end\\x00\\x7f');
    expect(escapeOutsideText('abc\u202edcb\u2066x\u2028')).toBe('abc\\u{202e}dcb\\u{2066}x\\u{2028}');
  });

  it('keeps ordinary text, other scripts and emoji as they are, and escaping twice changes nothing', () => {
    const text = 'conv1/kernel:0 — 畳み込み ñ 🙂 https://example.org/a b?c=d';
    expect(escapeOutsideText(text)).toBe(text);
    const once = escapeOutsideText('x\u001by');
    expect(escapeOutsideText(once)).toBe(once);
  });
});

describe('Conv1Error', () => {
  it('escapes the file, the reason and the hint, and so its message', () => {
    const error = new Conv1Error('http://h/\u001b]0;title\u0007', 'answered HTTP 500 Bad\u001b[2J', 'layer "\u009b1m" \u202e');
    for (const part of [error.file, error.reason, error.hint, error.message]) expect(part).not.toMatch(UNSAFE);
    expect(error.message).toBe('http://h/\\x1b]0;title\\x07: answered HTTP 500 Bad\\x1b[2J');
    expect(error.hint).toBe('layer "\\x9b1m" \\u{202e}');
  });
});

describe('jsonForTerminal', () => {
  it('escapes C1 and bidi characters as \\u escapes that parse back to the same value', () => {
    const value = { layer: 'a\u009bb\u202ec\u001bd\u007f', shape: [7, 7] };
    const json = jsonForTerminal(value);
    expect(json.replace(/\n/g, '')).not.toMatch(UNSAFE);
    expect(json).toContain('"a\\u009bb\\u202ec\\u001bd\\u007f"');
    expect(JSON.parse(json)).toEqual(value);
  });
});
