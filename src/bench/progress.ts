/**
 * A progress bar on stderr. On a terminal it redraws one line; otherwise it prints a line at most
 * every 10 % so logs stay short.
 */
export class ProgressBar {
  private lastPct = -1;
  private readonly tty: boolean;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
    private readonly enabled = true,
  ) {
    this.tty = !!stream.isTTY;
  }

  /** Shows `done/total` with a label. */
  update(done: number, total: number, label: string): void {
    if (!this.enabled) return;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const pct = Math.floor(frac * 100);
    const filled = Math.round(frac * this.width);
    const bar = `[${"#".repeat(filled)}${".".repeat(this.width - filled)}] ${String(pct).padStart(3)}% ${label}`;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${bar}`);
    } else if (pct >= this.lastPct + 10 || done === total) {
      this.lastPct = pct;
      this.stream.write(bar + "\n");
    }
  }

  /** Ends the bar's line. */
  done(message?: string): void {
    if (!this.enabled) return;
    if (this.tty) this.stream.write("\r\x1b[2K");
    if (message) this.stream.write(message + "\n");
    this.lastPct = -1;
  }
}
