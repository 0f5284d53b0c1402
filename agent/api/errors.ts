/**
 * Errors of the PCP web API. pmproxy answers a request it could not serve in one of two ways,
 * and clients depend on which: a JSON body `{"context":N,"message":…,"success":false}` whose
 * message words they grep ("unknown context identifier", "metric has null indom", …), or, for
 * parameters that are missing or malformed, an HTML page.
 */
export class PmapiError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    /** The context the request named or created, echoed in the JSON body. */
    public context?: number,
  ) {
    super(message);
  }
}

/**
 * The request named a context that does not exist (any more). pmwebd-era clients (Vector)
 * recognise this by PCP's PM_ERR_NOCONTEXT code and then create a new context.
 */
export class ContextError extends PmapiError {
  static readonly PM_ERR_NOCONTEXT = -12376;
}

/** Missing or malformed parameters: pmproxy's HTML "failed to process URL" page. */
export class BadRequest extends Error {
  constructor(
    /** What is wrong and what to send instead (shown after pmproxy's own words). */
    readonly reason: string,
    readonly status = 400,
  ) {
    super(reason);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
};

/** pmproxy's HTML error page (CRLF line ends, as it sends them), with our reason added. */
export function htmlPage(status: number, servlet: string, text: string): string {
  const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<h1>${title}</h1>\r\n` +
    `<p><b>${servlet} servlet</b>: ${escapeHtml(text)}</p><hr>\r\n` +
    `<p><small><i>vigil</i></small></p>\r\n</body>\r\n</html>\r\n`
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The JSON error body (pmproxy ends every JSON body with CRLF). */
export function errorJson(error: PmapiError): string {
  const context = error.context === undefined ? '' : `"context":${error.context},`;
  return `{${context}"message":${JSON.stringify(error.message)},"success":false}\r\n`;
}
