import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CsvExport } from '../common/csv';
import { ApiAuthErrors, ApiErrorResponses, ApiJsonOrCsvOkResponse } from '../common/openapi';
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
import {
  MoversResponseDto,
  OverviewResponseDto,
  PlatformsResponseDto,
} from './dto/analytics-response.dto';

/** Movers as CSV: `list` says whether a row is from `items` or `new`. */
export const MOVERS_CSV_COLUMNS = [
  'list',
  'rank',
  'trendKey',
  'displayName',
  'mentions',
  'previousMentions',
  'change',
  'growth',
] as const;
export const PLATFORMS_CSV_COLUMNS = [
  'platform',
  'mentions',
  'engagement',
  'observations',
  'distinctTrends',
  'share',
] as const;

const QUERY_ERRORS = [
  [400, 'Bad parameter, from not before to, range or bucket cap exceeded'],
  [503, 'Query exceeded ANALYTICS_STATEMENT_TIMEOUT_MS, or database unavailable'],
] as const;

// The cache only needs the ranges; the caps are enforced by the service (a 400 is never cached).
const UNCAPPED: AnalyticsLimits = { maxRangeDays: Infinity, maxBuckets: Infinity };

@ApiTags('analytics')
@ApiBearerAuth()
@ApiAuthErrors()
@ApiErrorResponses(...(QUERY_ERRORS as unknown as [400 | 503, string][]))
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
  @ApiOkResponse({ type: OverviewResponseDto })
  overview(@Query() query: OverviewQueryDto) {
    return this.analytics.overview(query);
  }

  @Get('movers')
  @Roles('analyst', 'admin')
  @Cacheable<MoversQueryDto>({ ranges: (query, _params, now) => moversRanges(query, now) })
  @ApiOperation({
    summary: 'Trends with the largest growth against the previous window; new trends listed apart',
  })
  @CsvExport({
    columns: MOVERS_CSV_COLUMNS,
    rows: (b: MoversResponseDto) => [
      ...b.items.map((item) => ({ list: 'items', ...item })),
      ...b.new.map((item) => ({ list: 'new', ...item })),
    ],
  })
  @ApiJsonOrCsvOkResponse(MoversResponseDto, MOVERS_CSV_COLUMNS)
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
  @CsvExport({ columns: PLATFORMS_CSV_COLUMNS, rows: (b: PlatformsResponseDto) => b.items })
  @ApiJsonOrCsvOkResponse(PlatformsResponseDto, PLATFORMS_CSV_COLUMNS)
  platforms(@Query() query: PlatformsQueryDto) {
    return this.analytics.platforms(query);
  }
}
