import { Module } from '@nestjs/common';
import { TrendsModule } from '../trends/trends.module';
import { TrendsService } from '../trends/trends.service';
import { StreamController } from './stream.controller';
import { StreamService } from './stream.service';
import { TopPublisher } from './top.publisher';

/**
 * Live Server-Sent Events (SPEC §13). TrendsService is instantiated here from the exported
 * TrendsRepository (the trends module does not export its service) to compute the live top.
 */
@Module({
  imports: [TrendsModule],
  controllers: [StreamController],
  providers: [StreamService, TopPublisher, TrendsService],
  exports: [StreamService],
})
export class StreamModule {}
