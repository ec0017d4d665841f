/**
 * One line of progress that rewrites itself in a terminal; elsewhere (a pipe, a CI log) each change is its own line,
 * so the output stays readable without carriage returns.
 */
export class ProgressLine {
  private shown = '';

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  update(text: string): void {
    if (text === this.shown) return;
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${text}`);
    else this.out.write(`${text}\n`);
    this.shown = text;
  }

  /** Leaves the last text on screen and moves below it. */
  done(): void {
    if (this.out.isTTY && this.shown) this.out.write('\n');
    this.shown = '';
  }
}
