import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';

export const CHANNEL_TYPES = ['webhook', 'slack'] as const;

export class CreateChannelDto {
  @ApiProperty({ example: 'ops receiver' })
  @IsString({ message: 'name must be a string of 1..200 characters' })
  @Length(1, 200, { message: 'name must be a string of 1..200 characters' })
  name!: string;

  @ApiProperty({ enum: CHANNEL_TYPES })
  @IsIn(CHANNEL_TYPES, { message: `type must be one of ${CHANNEL_TYPES.join(', ')}` })
  type!: 'webhook' | 'slack';

  @ApiProperty({ example: 'https://hooks.example.com/trends' })
  @IsString({ message: 'url must be an absolute http(s) URL' })
  @Length(1, 2000, { message: 'url must be at most 2000 characters' })
  url!: string;

  @ApiPropertyOptional({
    description: 'webhook only: whsec_ + base64 of 24..64 bytes; generated when absent',
  })
  @IsOptional()
  @IsString({ message: 'secret must be whsec_ followed by base64 of 24 to 64 bytes' })
  secret?: string;
}

export class ChannelView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: CHANNEL_TYPES }) type!: string;
  @ApiProperty() url!: string;
  @ApiProperty() hasSecret!: boolean;
  @ApiProperty({ description: 'false once a receiver answered 410 Gone' }) enabled!: boolean;
  @ApiProperty({ nullable: true, type: String }) disabledReason!: string | null;
  @ApiProperty() createdAt!: string;
}

export class CreatedChannelView extends ChannelView {
  @ApiProperty({ nullable: true, type: String, description: 'Shown only in this answer' })
  secret!: string | null;
}

export class ChannelListView {
  @ApiProperty({ type: [ChannelView] }) items!: ChannelView[];
}

export class ChannelTestView {
  @ApiProperty() deliveryId!: string;
  @ApiProperty() webhookId!: string;
  @ApiProperty({ description: 'The receiver answered 2xx' }) ok!: boolean;
  @ApiProperty({ nullable: true, type: Number }) statusCode!: number | null;
  @ApiProperty() latencyMs!: number;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
}
