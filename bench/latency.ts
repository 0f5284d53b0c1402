/**
 * A one-connection HTTP client that records the latency of every request, for the API scenario's
 * latency figures. wrk 4 rewrites its latency histogram before printing it (stats_correct: every
 * response slower than twice the mean interval adds synthetic samples for the requests a
 * constant-rate client would have sent meanwhile), so its percentiles are neither what each
 * request took nor a measured open-loop distribution. This client measures both, plainly:
 *
 * - closed loop: the next request goes out when the previous answer is in; latency = send → end
 *   of the answer, for every request.
 * - paced: requests are due at a fixed rate whatever the server does, as a dashboard polling on a
 *   timer; latency = due time (or the send, if the timer fired early) → end of the answer, so a
 *   stall delays every request due during it.
 */
import { Agent, request } from 'node:http';

export interface Latencies {
  /** Milliseconds, one per answered request, in order. */
  ms: number[];
  /** Answers other than 200, and failed requests. */
  errors: number;
  seconds: number;
}

/** A server that stops answering (pmproxy 6.0.3 does, now and then) costs one error, not the run. */
const TIMEOUT_MS = 5000;

function get(url: URL, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: TIMEOUT_MS }, (response) => {
      response.on('data', () => undefined).on('end', () => resolve(response.statusCode ?? 0)).on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${TIMEOUT_MS} ms`))).on('error', reject).end();
  });
}

/** Closed loop on one keep-alive connection for `seconds`. */
export async function closedLoop(url: string, seconds: number): Promise<Latencies> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const ms: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  try {
    while (performance.now() < end) {
      const sent = performance.now();
      const status = await get(target, agent).catch(() => 0);
      if (status === 200) ms.push(performance.now() - sent);
      else errors++;
    }
  } finally {
    agent.destroy();
  }
  return { ms, errors, seconds: (performance.now() - start) / 1000 };
}

/** `rate` requests per second due on a fixed schedule, over one keep-alive connection, for `seconds`. */
export async function paced(url: string, rate: number, seconds: number): Promise<Latencies> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 }); // requests due while one is out queue behind it
  const target = new URL(url);
  const ms: number[] = [];
  let errors = 0;
  const start = performance.now();
  const count = Math.round(rate * seconds);
  const answers: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // Node's timers count whole milliseconds of the event loop's clock, so one can fire up to a
    // millisecond before `due`: latency runs from the later of the due time and the send, never
    // from before the request existed.
    const sent = performance.now();
    answers.push(get(target, agent).then(
      (status) => void (status === 200 ? ms.push(performance.now() - Math.max(due, sent)) : errors++),
      () => void errors++,
    ));
  }
  await Promise.all(answers);
  agent.destroy();
  return { ms, errors, seconds: (performance.now() - start) / 1000 };
}
