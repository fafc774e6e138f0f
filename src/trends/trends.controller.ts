import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { Cacheable } from '../cache/cacheable.decorator';
import { searchRanges, seriesRanges, topRanges } from './trend-ranges';
import { CsvExport } from '../common/csv';
import { ApiAuthErrors, ApiErrorResponses, ApiJsonOrCsvOkResponse } from '../common/openapi';
import { IngestRequestDto, IngestResponseDto } from './dto/ingest.dto';
import { SearchQueryDto, SeriesQueryDto, TopQueryDto } from './dto/query.dto';
import { SearchResponseDto, SeriesResponseDto, TopResponseDto } from './dto/trends-response.dto';
import { IngestService } from './ingest.service';
import { TrendsService } from './trends.service';

export const TOP_CSV_COLUMNS = [
  'rank',
  'trendKey',
  'displayName',
  'mentions',
  'engagement',
  'sentiment',
  'previousMentions',
  'growth',
] as const;
export const SERIES_CSV_COLUMNS = [
  'bucket',
  'mentions',
  'engagement',
  'sentiment',
  'samples',
] as const;
export const SEARCH_CSV_COLUMNS = ['trendKey', 'displayName', 'lastSeen', 'mentions24h'] as const;

@ApiTags('trends')
@ApiBearerAuth()
@ApiAuthErrors()
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
  @ApiCreatedResponse({ type: IngestResponseDto })
  @ApiErrorResponses([400, 'Invalid item; errors[] names index and field; nothing stored'], 413)
  observations(@Body() body: unknown) {
    // Validated by IngestService in one pass (not by a DTO pipe): see ingest-validator.ts.
    return this.ingest.ingestBody(body);
  }

  @Get('top')
  @Roles('analyst', 'admin')
  @Cacheable({ ranges: topRanges })
  @CsvExport({ columns: TOP_CSV_COLUMNS, rows: (b: TopResponseDto) => b.items })
  @ApiOperation({
    summary: 'Top trends by mentions over a window, with growth vs the previous window',
  })
  @ApiJsonOrCsvOkResponse(TopResponseDto, TOP_CSV_COLUMNS)
  @ApiErrorResponses(400)
  top(@Query() query: TopQueryDto) {
    return this.trends.top(query);
  }

  @Get('search')
  @Roles('analyst', 'admin')
  @Cacheable({ ranges: searchRanges, allData: true })
  @CsvExport({
    columns: SEARCH_CSV_COLUMNS,
    rows: (b: SearchResponseDto) => b.items,
  })
  @ApiOperation({ summary: 'Trend keys by prefix, with last-seen time and 24h mentions' })
  @ApiJsonOrCsvOkResponse(SearchResponseDto, SEARCH_CSV_COLUMNS)
  @ApiErrorResponses(400)
  search(@Query() query: SearchQueryDto) {
    return this.trends.search(query);
  }

  @Get(':trendKey/series')
  @Roles('analyst', 'admin')
  @Cacheable({ ranges: seriesRanges })
  @CsvExport({
    columns: SERIES_CSV_COLUMNS,
    rows: (b: SeriesResponseDto) => b.points,
  })
  @ApiOperation({
    summary: 'Time series of one trend; empty buckets are zeros; a trend never ingested is a 404',
  })
  @ApiParam({
    name: 'trendKey',
    description: 'Trend key (normalized like ingest: trimmed, NFKC, lower-cased)',
    example: 'world cup',
  })
  @ApiJsonOrCsvOkResponse(SeriesResponseDto, SERIES_CSV_COLUMNS)
  @ApiErrorResponses(400, [404, 'No trend with this key was ever ingested'])
  series(@Param('trendKey') trendKey: string, @Query() query: SeriesQueryDto) {
    return this.trends.series(trendKey, query);
  }
}
