/**
 * Tokens of PCP's derived-metric language (pmRegisterDerived(3)). Positions are offsets into
 * the expression so that errors can point at the offending token with a caret, as PCP does.
 */
export type TokenKind =
  | 'number' | 'name' | 'function'
  | '+' | '-' | '*' | '/' | '(' | ')'
  | '<' | '<=' | '==' | '>=' | '>' | '!='
  | '&&' | '||' | '!' | '?' | ':'
  | 'end';

export interface Token {
  kind: TokenKind;
  /** Source text: the name, the digits, the function name, or the operator. */
  text: string;
  pos: number;
}

export const FUNCTIONS = ['avg', 'count', 'defined', 'delta', 'instant', 'max', 'min', 'rate', 'sum'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** A syntax error at a position in the expression; the parser words it as PCP does. */
export class DeriveSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const OPERATORS = ['<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '(', ')', '<', '>', '!', '?', ':'] as const;
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

export function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(expr[i + 1] ?? ''))) {
      while (isDigit(expr[i] ?? '')) i++;
      const integer = expr[i] !== '.' && !/[eE]/.test(expr[i] ?? '');
      if (expr[i] === '.') for (i++; isDigit(expr[i] ?? ''); i++);
      if (/[eE]/.test(expr[i] ?? '') && /[-+\d]/.test(expr[i + 1] ?? '')) {
        i += 2;
        while (isDigit(expr[i] ?? '')) i++;
      }
      const text = expr.slice(start, i);
      // PCP: integer constants are unsigned 32-bit
      if (integer && Number(text) > 0xffffffff) throw new DeriveSyntaxError('Constant value too large', start);
      tokens.push({ kind: 'number', text, pos: start });
      continue;
    }
    if (isAlpha(c)) {
      while (/[A-Za-z0-9_.]/.test(expr[i] ?? '')) i++;
      const text = expr.slice(start, i);
      const isCall = expr[i] === '(' && (FUNCTIONS as readonly string[]).includes(text);
      tokens.push({ kind: isCall ? 'function' : 'name', text, pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => expr.startsWith(o, i));
    if (!op) throw new DeriveSyntaxError('Illegal character', start);
    tokens.push({ kind: op, text: op, pos: start });
    i += op.length;
  }
  tokens.push({ kind: 'end', text: '', pos: expr.length });
  return tokens;
}
