import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { getHeapStatistics } from 'node:v8';

/** Share of V8's heap limit above which the process is about to run out of memory. */
export const MAX_HEAP_RATIO = 0.9;

/** Heap in use against V8's heap limit (--max-old-space-size or the container-derived default). */
@Injectable()
export class HeapHealthIndicator {
  constructor(private readonly indicators: HealthIndicatorService) {}

  check(key = 'heap') {
    const indicator = this.indicators.check(key);
    const heap = getHeapStatistics();
    const ratio = heap.used_heap_size / heap.heap_size_limit;
    const details = {
      usedBytes: heap.used_heap_size,
      limitBytes: heap.heap_size_limit,
      usedRatio: Math.round(ratio * 1000) / 1000,
    };
    return ratio < MAX_HEAP_RATIO
      ? indicator.up(details)
      : indicator.down({ ...details, message: 'heap nearly exhausted' });
  }
}
