/**
 * Items ordered by when they fall due: a binary min-heap, so adding one and taking the due ones cost
 * O(log n) each, whatever the number waiting (a watch may hold a hundred thousand jobs).
 */

/** A min-heap of items by their `at` (ms). */
export class DueQueue<T extends { at: number }> {
  private readonly heap: T[] = [];

  /** Items waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** When the earliest item falls due; Infinity when empty. */
  get nextAt(): number {
    return this.heap[0]?.at ?? Infinity;
  }

  /** Adds `item`. */
  push(item: T): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= item.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  /** Removes and returns the items due at `now` (at <= now), earliest first. */
  takeDue(now: number): T[] {
    const due: T[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= now) due.push(this.pop());
    return due;
  }

  /** Forgets every item. */
  clear(): void {
    this.heap.length = 0;
  }

  private pop(): T {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
        if (heap[child]!.at >= last.at) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
