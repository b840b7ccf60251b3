// Progress of long work: a bar on a terminal, plain lines in CI and in logs, so output read later
// (CI logs, files) has one line per finished unit and no redraw noise.
import cliProgress from 'cli-progress';

/** A bar only on a terminal, and never in CI (CI=true or any non-empty CI other than "false" or "0"). */
export function isInteractive(stream: NodeJS.WriteStream = process.stderr): boolean {
  const ci = process.env.CI;
  const inCi = ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
  return Boolean(stream.isTTY) && !inCi;
}

export interface Progress {
  /** Sets the units done and what is being worked on now. */
  update(done: number, current: string): void;
  /** A line that stays: above the bar on a terminal, plain elsewhere. */
  log(line: string): void;
  stop(): void;
}

/** Progress over `total` units of `unit` (e.g. "cells"); `interactive` defaults to isInteractive(). */
export function createProgress(total: number, unit: string, interactive = isInteractive()): Progress {
  if (!interactive) {
    return { update: () => {}, log: (line) => console.log(line), stop: () => {} };
  }
  const multi = new cliProgress.MultiBar(
    { format: `{bar} {value}/{total} ${unit} | {elapsed} | {current}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, fps: 2 },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let done = 0, current = '';
  const bar = multi.create(total, 0, { current, elapsed: '0 s' });
  const redraw = (): void => bar.update(done, { current, elapsed: `${Math.round((Date.now() - started) / 1000)} s` });
  const timer = setInterval(redraw, 1000);
  timer.unref();
  return {
    update(d, c) {
      done = d;
      current = c;
      redraw();
    },
    log: (line) => multi.log(`${line}\n`),
    stop() {
      clearInterval(timer);
      // log() lines wait for the next redraw: draw once more so the last ones are not lost.
      multi.update();
      multi.stop();
    },
  };
}
