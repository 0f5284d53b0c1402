/**
 * Delay before reconnect attempt `attempt` (0-based): exponential from `baseMs` to `maxMs` with
 * full jitter, so that a restarted agent is not hit by every console at the same instant.
 */
export function reconnectDelay(attempt: number, baseMs = 500, maxMs = 30_000, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
