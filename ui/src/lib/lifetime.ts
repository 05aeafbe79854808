// What a view holds while it is on screen — subscriptions, intervals, timeouts — released together
// when it is left. A subscription still being made when that happens is released as soon as it
// arrives, so an `await backend.onX(...)` that resolves after unmount cannot leak a listener.
import type { Unsubscribe } from './backend';

export class Lifetime {
  #ended = false;
  #releases = new Set<() => void>();

  /** True once `end` ran: work that finishes later should drop its result. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Runs `release` when the lifetime ends, or now if it has. Returns a function that runs it
   * early (once; it is then forgotten). */
  add(release: () => void): () => void {
    if (this.#ended) {
      release();
      return () => {};
    }
    const once = () => {
      if (this.#releases.delete(once)) release();
    };
    this.#releases.add(once);
    return once;
  }

  /** Holds a subscription being made; if the lifetime ended meanwhile, unsubscribes at once. */
  async hold(subscribing: Promise<Unsubscribe>): Promise<void> {
    this.add(await subscribing);
  }

  /** `setInterval`, cleared when the lifetime ends; the result clears it early. */
  interval(tick: () => void, ms: number): () => void {
    const id = setInterval(tick, ms);
    return this.add(() => clearInterval(id));
  }

  /** `setTimeout`, cleared when the lifetime ends; the result cancels it early. */
  timeout(fire: () => void, ms: number): () => void {
    const id = setTimeout(() => {
      cancel();
      fire();
    }, ms);
    const cancel = this.add(() => clearTimeout(id));
    return cancel;
  }

  /** Releases everything held, and from now on anything added. */
  end(): void {
    this.#ended = true;
    for (const release of [...this.#releases]) release();
  }
}
