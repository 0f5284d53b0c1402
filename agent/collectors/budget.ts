/**
 * A count of kernel resources held against a limit (kept descriptors, inotify watches). A
 * budget may be a share of a larger one: what it holds counts against both, and it is full when
 * either is.
 */
export class Budget {
  held = 0;
  /** @param parent the budget this one is a share of. */
  constructor(readonly limit: number, private readonly parent?: Budget) {}

  /** Whether no more fit, in this budget or the one it is a share of. */
  get full(): boolean {
    return this.held >= this.limit || (this.parent?.full ?? false);
  }

  take(): void {
    this.held++;
    this.parent?.take();
  }

  give(): void {
    this.held--;
    this.parent?.give();
  }
}
