import type { Unsubscribe } from './types';

/** A set of listeners with subscribe-returns-unsubscribe, the shape every transport exposes. */
export class ListenerSet<Args extends unknown[]> {
  private readonly listeners = new Set<(...args: Args) => void>();

  add(listener: (...args: Args) => void): Unsubscribe {
    // Wrap so that subscribing the same function twice gives two independent subscriptions.
    const entry = (...args: Args): void => listener(...args);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(...args: Args): void {
    // Iterate over a copy: a listener may unsubscribe (itself or others) while we deliver.
    for (const listener of [...this.listeners]) listener(...args);
  }
}
