// Whether the server answers. Every poll and stream reports here; while the server is away
// (a restart, a network cut) the banner says so and the pollers back off, and the first answer
// after it clears the banner. Nothing is reloaded: the page resumes where it was.
import { describeError, unreachable } from "./api";

const listeners: ((up: boolean) => void)[] = [];
let up = true;
let since = 0;

export function banner(): HTMLElement {
  return document.getElementById("banner") as HTMLElement;
}

export function onChange(f: (up: boolean) => void): void {
  listeners.push(f);
}

export function isUp(): boolean {
  return up;
}

export function reportOk(): void {
  if (!up) {
    up = true;
    banner().hidden = true;
    banner().textContent = "";
    listeners.forEach((f) => f(true));
  }
}

/** Returns true when the error was the server being away (the caller retries later). */
export function reportError(e: unknown): boolean {
  if (!unreachable(e)) return false;
  if (up) {
    up = false;
    since = Date.now();
    listeners.forEach((f) => f(false));
  }
  const b = banner();
  b.hidden = false;
  b.textContent = `Server unreachable since ${new Date(since).toLocaleTimeString()}: `
    + `${describeError(e)}. Reconnecting…`;
  return true;
}

/**
 * Calls {@code tick} every {@code everyMs} while the page shows it ({@code alive()}), backing
 * off to 5 s while the server is away; stops when alive() turns false.
 */
export function poll(everyMs: number, alive: () => boolean, tick: () => Promise<void>): void {
  const run = async () => {
    if (!alive()) return;
    if (document.hidden) {
      setTimeout(run, everyMs);
      return;
    }
    const began = Date.now();
    let delay = everyMs;
    try {
      await tick();
      reportOk();
      // A fixed period from the start of each tick, not a pause after it: a slow tick (50
      // GetStatus calls on 6 HTTP/1.1 connections) does not stretch the update interval.
      delay = Math.max(250, everyMs - (Date.now() - began));
    } catch (e) {
      if (reportError(e)) delay = Math.max(everyMs, 2000);
    }
    setTimeout(run, delay);
  };
  void run();
}
