import { DeriveSyntaxError, tokenize, type FunctionName, type Token, type TokenKind } from './lexer.js';

/** The derived-metric expression tree. `pos` is where the node starts in the source. */
export type Expr =
  | { kind: 'number'; text: string; integer: boolean; pos: number }
  | { kind: 'name'; name: string; pos: number }
  | { kind: 'negate'; operand: Expr; pos: number }
  | { kind: 'not'; operand: Expr; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { kind: 'ternary'; test: Expr; then: Expr; otherwise: Expr; pos: number }
  | { kind: 'call'; fn: FunctionName; arg: Expr; pos: number };

export type ArithmeticOp = '+' | '-' | '*' | '/';
export type RelationalOp = '<' | '<=' | '==' | '>=' | '>' | '!=';
export type BooleanOp = '&&' | '||';
export type BinaryOp = ArithmeticOp | RelationalOp | BooleanOp;

/** PCP's names for operator tokens, used in its "… expected to follow STAR" messages. */
const TOKEN_NAMES: Partial<Record<TokenKind, string>> = {
  '+': 'PLUS', '-': 'MINUS', '*': 'STAR', '/': 'SLASH',
  '<': 'LT', '<=': 'LEQ', '==': 'EQ', '>=': 'GEQ', '>': 'GT', '!=': 'NEQ',
  '&&': 'AND', '||': 'OR', '!': 'NOT', '?': 'QUESTION', ':': 'COLON',
};
const ARITHMETIC = 'Arithmetic expression';
const BOOLEAN = 'Boolean expression';
const RELATIONAL: readonly TokenKind[] = ['<', '<=', '==', '>=', '>', '!='];
const OPERAND_START: readonly TokenKind[] = ['number', 'name', 'function', '(', '-', '!'];

/**
 * Recursive-descent parser for PCP's derived-metric language, lowest precedence first:
 *   ternary  := boolean ('?' ternary ':' ternary)?
 *   boolean  := unbool (('&&' | '||') unbool)*        (equal precedence, left to right)
 *   unbool   := '!' boolean | relation                 (`!a>b||c` is `!((a>b)||c)`, as PCP documents)
 *   relation := sum (relop sum)*                       (equal precedence, left to right)
 *   sum      := product (('+' | '-') product)*
 *   product  := unary (('*' | '/') unary)*
 *   unary    := '-' unary | primary
 *   primary  := number | name | function '(' ternary ')' | '(' ternary ')'
 * Throws DeriveSyntaxError with PCP's wording and the offending token's position.
 */
export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token => tokens[at]!;
  const next = (): Token => tokens[at++]!;

  const fail = (message: string, token = peek()): never => {
    throw new DeriveSyntaxError(message, token.pos);
  };
  /** The operand after an operator token must start an expression. */
  const operandAfter = (op: Token, what: string): void => {
    if (!OPERAND_START.includes(peek().kind)) fail(`${what} expected to follow ${TOKEN_NAMES[op.kind] ?? op.text}`);
  };

  const ternary = (): Expr => {
    const test = boolean();
    if (peek().kind !== '?') return test;
    const question = next();
    operandAfter(question, ARITHMETIC);
    const then = ternary();
    if (peek().kind !== ':') fail('Missing : in ternary ? : expression');
    const colon = next();
    operandAfter(colon, ARITHMETIC);
    return { kind: 'ternary', test, then, otherwise: ternary(), pos: test.pos };
  };

  const boolean = (): Expr => {
    let left = unbool();
    while (peek().kind === '&&' || peek().kind === '||') {
      const op = next();
      operandAfter(op, BOOLEAN);
      left = { kind: 'binary', op: op.kind as BooleanOp, left, right: unbool(), pos: left.pos };
    }
    return left;
  };

  const unbool = (): Expr => {
    if (peek().kind !== '!') return relation();
    const not = next();
    operandAfter(not, BOOLEAN);
    return { kind: 'not', operand: boolean(), pos: not.pos };
  };

  const relation = (): Expr => {
    let left = sum();
    while (RELATIONAL.includes(peek().kind)) {
      const op = next();
      operandAfter(op, ARITHMETIC);
      left = { kind: 'binary', op: op.kind as RelationalOp, left, right: sum(), pos: left.pos };
    }
    return left;
  };

  const sum = (): Expr => {
    let left = product();
    while (peek().kind === '+' || peek().kind === '-') {
      const op = next();
      operandAfter(op, ARITHMETIC);
      left = { kind: 'binary', op: op.kind as ArithmeticOp, left, right: product(), pos: left.pos };
    }
    return left;
  };

  const product = (): Expr => {
    let left = unary();
    while (peek().kind === '*' || peek().kind === '/') {
      const op = next();
      operandAfter(op, ARITHMETIC);
      left = { kind: 'binary', op: op.kind as ArithmeticOp, left, right: unary(), pos: left.pos };
    }
    return left;
  };

  const unary = (): Expr => {
    if (peek().kind !== '-') return primary();
    const minus = next();
    if (!OPERAND_START.includes(peek().kind)) fail(`${ARITHMETIC} expected to follow NEG`);
    return { kind: 'negate', operand: unary(), pos: minus.pos };
  };

  const primary = (): Expr => {
    const token = next();
    switch (token.kind) {
      case 'number':
        return { kind: 'number', text: token.text, integer: /^\d+$/.test(token.text), pos: token.pos };
      case 'name':
        return { kind: 'name', name: token.text, pos: token.pos };
      case 'function': {
        next(); // the '(' the lexer saw right after the function name
        const fn = token.text as FunctionName;
        if (fn === 'defined') {
          // defined() asks about a name, not a value: only a metric name may follow
          const name = next();
          if (name.kind !== 'name') fail(`Metric name expected to follow ${fn}(`, name);
          closing(token);
          return { kind: 'call', fn, arg: { kind: 'name', name: name.text, pos: name.pos }, pos: token.pos };
        }
        if (!OPERAND_START.includes(peek().kind)) fail(`${ARITHMETIC} expected to follow ${fn}(`);
        const arg = ternary();
        closing(token);
        return { kind: 'call', fn, arg, pos: token.pos };
      }
      case '(': {
        if (!OPERAND_START.includes(peek().kind)) fail(`Unexpected initial (`);
        const inner = ternary();
        closing(token);
        return inner;
      }
      case 'end':
        return fail(`${ARITHMETIC} expected`, token);
      default:
        return fail(`Unexpected initial ${token.text}`, token);
    }
  };

  /** The ')' that closes a '(' or a function call. */
  const closing = (open: Token): void => {
    if (peek().kind === ')') {
      next();
      return;
    }
    const what = open.kind === 'function' ? `${open.text}(` : '(';
    fail(peek().kind === 'end' ? `Missing ) to match ${what}` : `Unexpected ${peek().text}: missing ) to match ${what}`);
  };

  const expr = ternary();
  const rest = peek();
  if (rest.kind !== 'end') {
    if (tokens[at - 1]!.kind === 'name') fail('Arithmetic or relational or boolean operator expected to follow NAME');
    fail(`Unexpected ${rest.text}`);
  }
  return expr;
}

/**
 * PCP's syntax error text: the call, the expression, a caret under the offending position,
 * and the reason, each on its own line (`Syntax Error: pmAddDerivedMetric("x", ...)\n…`).
 */
export function syntaxErrorMessage(name: string, expr: string, error: DeriveSyntaxError): string {
  return `Syntax Error: pmAddDerivedMetric("${name}", ...)\n${expr}\n${' '.repeat(error.pos)}^\n${error.message}\n`;
}
