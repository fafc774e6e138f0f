import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { Cacheable } from '../cache/cacheable.decorator';
import { AnalyticsLimits } from './analytics-range';
import {
  AnalyticsService,
  moversRanges,
  overviewRanges,
  platformsRanges,
} from './analytics.service';
import { MoversQueryDto, OverviewQueryDto, PlatformsQueryDto } from './dto/analytics-query.dto';

// The cache only needs the ranges; the caps are enforced by the service (a 400 is never cached).
const UNCAPPED: AnalyticsLimits = { maxRangeDays: Infinity, maxBuckets: Infinity };

@ApiTags('analytics')
@ApiBearerAuth()
@Controller('api/v1/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('overview')
  @Roles('analyst', 'admin')
  @Cacheable<OverviewQueryDto>({
    ranges: (query, _params, now) => overviewRanges(query, now, UNCAPPED),
  })
  @ApiOperation({
    summary:
      'Totals and per-platform breakdown over [from, to); compare=previous_period adds the period before',
  })
  @ApiResponse({
    status: 400,
    description: 'Bad parameter, from not before to, range or bucket cap exceeded',
  })
  @ApiResponse({
    status: 503,
    description: 'Query exceeded ANALYTICS_STATEMENT_TIMEOUT_MS, or database unavailable',
  })
  overview(@Query() query: OverviewQueryDto) {
    return this.analytics.overview(query);
  }

  @Get('movers')
  @Roles('analyst', 'admin')
  @Cacheable<MoversQueryDto>({ ranges: (query, _params, now) => moversRanges(query, now) })
  @ApiOperation({
    summary: 'Trends with the largest growth against the previous window; new trends listed apart',
  })
  @ApiResponse({ status: 400, description: 'Bad parameter' })
  @ApiResponse({
    status: 503,
    description: 'Query exceeded ANALYTICS_STATEMENT_TIMEOUT_MS, or database unavailable',
  })
  movers(@Query() query: MoversQueryDto) {
    return this.analytics.movers(query);
  }

  @Get('platforms')
  @Roles('analyst', 'admin')
  @Cacheable<PlatformsQueryDto>({
    ranges: (query, _params, now) => platformsRanges(query, now, UNCAPPED),
  })
  @ApiOperation({
    summary:
      'Mentions, engagement, observations, distinct trends and share of mentions per platform',
  })
  @ApiResponse({
    status: 400,
    description: 'Bad parameter, from not before to, range or bucket cap exceeded',
  })
  @ApiResponse({
    status: 503,
    description: 'Query exceeded ANALYTICS_STATEMENT_TIMEOUT_MS, or database unavailable',
  })
  platforms(@Query() query: PlatformsQueryDto) {
    return this.analytics.platforms(query);
  }
}
