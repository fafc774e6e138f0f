import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { Cacheable } from '../cache/cacheable.decorator';
import { searchRanges, seriesRanges, topRanges } from '../cache/trend-ranges';
import { IngestRequestDto, IngestResponseDto } from './dto/ingest.dto';
import { SearchQueryDto, SeriesQueryDto, TopQueryDto } from './dto/query.dto';
import { IngestService } from './ingest.service';
import { TrendsService } from './trends.service';

@ApiTags('trends')
@ApiBearerAuth()
@Controller('api/v1/trends')
export class TrendsController {
  constructor(
    private readonly ingest: IngestService,
    private readonly trends: TrendsService,
  ) {}

  @Post('observations')
  @HttpCode(201)
  @Roles('ingest', 'admin')
  @ApiOperation({ summary: 'Ingest a batch of observations (all-or-nothing, idempotent)' })
  @ApiBody({ type: IngestRequestDto })
  @ApiResponse({ status: 201, type: IngestResponseDto })
  @ApiResponse({
    status: 400,
    description: 'Invalid item; errors[] names index and field; nothing stored',
  })
  @ApiResponse({ status: 413, description: 'Body over INGEST_MAX_BODY' })
  @ApiResponse({ status: 503, description: 'Database unavailable (Retry-After)' })
  observations(@Body() body: unknown) {
    // Validated by IngestService in one pass (not by a DTO pipe): see ingest-validator.ts.
    return this.ingest.ingestBody(body);
  }

  @Get('top')
  @Roles('analyst', 'admin')
  @Cacheable({ ranges: topRanges })
  @ApiOperation({
    summary: 'Top trends by mentions over a window, with growth vs the previous window',
  })
  top(@Query() query: TopQueryDto) {
    return this.trends.top(query);
  }

  @Get('search')
  @Roles('analyst', 'admin')
  @Cacheable({ ranges: searchRanges, allData: true })
  @ApiOperation({ summary: 'Trend keys by prefix, with last-seen time and 24h mentions' })
  search(@Query() query: SearchQueryDto) {
    return this.trends.search(query);
  }

  @Get(':trendKey/series')
  @Roles('analyst', 'admin')
  @Cacheable({ ranges: seriesRanges })
  @ApiOperation({ summary: 'Time series of one trend; empty buckets are zeros' })
  series(@Param('trendKey') trendKey: string, @Query() query: SeriesQueryDto) {
    return this.trends.series(trendKey, query);
  }
}
