/**
 * A JSON value as it was on the wire. Integers that a double cannot hold exactly (u64 counters
 * past 2^53) are bigint; every other number is a number.
 */
export type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const SPACE = /[ \t\r\n]*/y;

/**
 * JSON.parse, except that integers outside the safe range come back exact as bigint. Node 20's
 * JSON.parse reviver has no access to the source text, so by then the digits are already lost.
 */
export function parseJson(text: string): Json {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${at} in ${JSON.stringify(text.slice(Math.max(0, at - 30), at + 30))}`);
  };
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at;
    const m = pattern.exec(text);
    if (!m) return undefined;
    at += m[0].length;
    return m[0];
  };
  /** The next character after white space. */
  const peek = (): string | undefined => {
    match(SPACE);
    return text[at];
  };
  const expect = (char: string): void => {
    if (peek() !== char) fail(`expected '${char}'`);
    at++;
  };

  const value = (): Json => {
    const c = peek();
    if (c === '{') {
      at++;
      const object: { [key: string]: Json } = {};
      if (peek() !== '}') {
        for (;;) {
          match(SPACE);
          const key = JSON.parse(match(STRING) ?? fail('expected a string key')) as string;
          expect(':');
          object[key] = value();
          if (peek() !== ',') break;
          at++;
        }
      }
      expect('}');
      return object;
    }
    if (c === '[') {
      at++;
      const array: Json[] = [];
      if (peek() !== ']') {
        for (;;) {
          array.push(value());
          if (peek() !== ',') break;
          at++;
        }
      }
      expect(']');
      return array;
    }
    if (c === '"') return JSON.parse(match(STRING) ?? fail('bad string')) as string;
    const number = match(NUMBER);
    if (number !== undefined) {
      const n = Number(number);
      return Number.isSafeInteger(n) || /[.eE]/.test(number) ? n : BigInt(number);
    }
    for (const [word, literal] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return literal;
      }
    }
    return fail('unexpected character');
  };

  const result = value();
  if (peek() !== undefined) fail('trailing text');
  return result;
}
