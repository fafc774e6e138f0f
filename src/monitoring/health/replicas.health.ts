import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ReadReplicasService } from '../../database/read-replicas.service';

/**
 * Read replicas as of their last background check (no query of its own, so a probe costs
 * nothing): up when every replica answers. Never required: a replica that is down only sends
 * reads to the primary (SPEC §14).
 */
@Injectable()
export class ReplicasHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly replicas: ReadReplicasService,
  ) {}

  get configured(): boolean {
    return this.replicas.configured;
  }

  check(key = 'readReplicas') {
    const indicator = this.indicators.check(key);
    const replicas = this.replicas.status().map((r) => ({
      name: r.name,
      up: r.up === true,
      usedForReads: r.healthy,
      lagSeconds: r.lagSeconds,
      checkedAt: r.checkedAt,
      ...(r.error ? { message: r.error } : {}),
    }));
    return replicas.every((r) => r.up) ? indicator.up({ replicas }) : indicator.down({ replicas });
  }
}
