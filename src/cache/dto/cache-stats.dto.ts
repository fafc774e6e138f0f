import { ApiProperty } from '@nestjs/swagger';

export class CacheWrittenDto {
  @ApiProperty({ description: 'Entries written (exact and latest answers)' }) entries: number;
  @ApiProperty({ description: 'Of which stored compressed (at least CACHE_COMPRESS_MIN_BYTES)' })
  compressed: number;
  @ApiProperty({ description: 'Their size as answered (UTF-8 bytes)' }) rawBytes: number;
  @ApiProperty({ description: 'Their size as stored in Redis' }) storedBytes: number;
}

export class CacheStatsDto {
  @ApiProperty() connected: boolean;
  @ApiProperty({ description: 'Hits counted by this replica' }) hits: number;
  @ApiProperty() misses: number;
  @ApiProperty({ type: Number, nullable: true }) hitRate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Keys under REDIS_KEY_PREFIX' })
  keys: number | null;
  @ApiProperty({ type: Number, nullable: true }) memoryBytes: number | null;
  @ApiProperty({
    type: CacheWrittenDto,
    description: 'Answers this replica wrote since it started: raw vs stored bytes',
  })
  written: CacheWrittenDto;
}

export class CacheClearedDto {
  @ApiProperty({ description: 'Keys deleted' }) deleted: number;
}
