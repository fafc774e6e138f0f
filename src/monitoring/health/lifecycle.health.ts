import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { LifecycleService } from '../../common/lifecycle.service';

/** Down while the process is starting or shutting down. */
@Injectable()
export class LifecycleHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly lifecycle: LifecycleService,
  ) {}

  check(key = 'lifecycle') {
    const indicator = this.indicators.check(key);
    const phase = this.lifecycle.phase;
    return phase === 'ready' ? indicator.up({ phase }) : indicator.down({ phase });
  }
}
