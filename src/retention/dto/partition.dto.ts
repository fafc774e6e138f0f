import { ApiProperty } from '@nestjs/swagger';

export class PartitionItemDto {
  @ApiProperty({ example: 'trend_observations' })
  table: string;

  @ApiProperty({ example: 'trend_observations_p2026_11' })
  partition: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Range start, inclusive; null for the DEFAULT partition',
    example: '2026-11-01T00:00:00.000Z',
  })
  from: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Range end, exclusive; null for the DEFAULT partition',
    example: '2026-12-01T00:00:00.000Z',
  })
  to: string | null;

  @ApiProperty({ description: "The planner's row estimate (0 until first analyzed)" })
  estimatedRows: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'Exact row count of a DEFAULT partition (rows waiting to be moved); null otherwise',
  })
  rows: number | null;

  @ApiProperty({ description: 'Size with indexes and TOAST, bytes' })
  bytes: number;

  @ApiProperty({ description: 'True for the DEFAULT partition of the table' })
  isDefault: boolean;
}

export class PartitionListDto {
  @ApiProperty({ type: [PartitionItemDto] })
  items: PartitionItemDto[];
}
