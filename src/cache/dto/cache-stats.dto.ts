import { ApiProperty } from '@nestjs/swagger';

export class CacheStatsDto {
  @ApiProperty() connected: boolean;
  @ApiProperty({ description: 'Hits counted by this replica' }) hits: number;
  @ApiProperty() misses: number;
  @ApiProperty({ type: Number, nullable: true }) hitRate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Keys under REDIS_KEY_PREFIX' })
  keys: number | null;
  @ApiProperty({ type: Number, nullable: true }) memoryBytes: number | null;
}

export class CacheClearedDto {
  @ApiProperty({ description: 'Keys deleted' }) deleted: number;
}
