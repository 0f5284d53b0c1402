// Preloaded into the agent by bench/loop-blocks.ts: a 1 ms timer whose lateness is how long the
// event loop was busy. At exit, writes $LOOP_TICKER_OUT: when it started and every gap over
// 1.5 ms as [start, end] in hrtime microseconds (the clock of a --cpu-prof profile).
import { writeFileSync } from 'node:fs';

const micros = () => Number(process.hrtime.bigint() / 1000n);
const started = micros();
const gaps = [];
let last = started;
setInterval(() => {
  const now = micros();
  if (now - last > 1500) gaps.push([last, now]);
  last = now;
}, 1).unref();
process.on('exit', () => writeFileSync(process.env.LOOP_TICKER_OUT, JSON.stringify({ started, gaps })));
