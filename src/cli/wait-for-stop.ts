/**
 * Resolves after `seconds`, or earlier on SIGINT / SIGTERM (Ctrl-C), whichever comes first. The
 * timer and both signal listeners are removed when it resolves, so a long-running command that
 * calls it leaves nothing behind in the process.
 */
export function waitForStop(seconds: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
      resolve();
    };
    const timer = setTimeout(stop, seconds * 1000);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
