import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CommonModule } from '../common/common.module';
import { TrendsModule } from '../trends/trends.module';
import { StreamController } from './stream.controller';
import { StreamService } from './stream.service';
import { TopPublisher } from './top.publisher';

/** Live Server-Sent Events (SPEC §13): ingest batches, the live top, alert transitions. */
@Module({
  imports: [CommonModule, AuthModule, TrendsModule],
  controllers: [StreamController],
  providers: [StreamService, TopPublisher],
  exports: [StreamService],
})
export class StreamModule {}
