import { Module } from '@nestjs/common';
import { DemoDataService } from './demo/demo-data.service';
import { IngestEvents } from './ingest-events';
import { IngestRepository } from './ingest.repository';
import { IngestService } from './ingest.service';
import { RetentionWindow } from './retention-window';
import { TrendsController } from './trends.controller';
import { TrendsRepository } from './trends.repository';
import { TrendsService } from './trends.service';

@Module({
  controllers: [TrendsController],
  providers: [
    IngestService,
    IngestRepository,
    IngestEvents,
    RetentionWindow,
    TrendsService,
    TrendsRepository,
    DemoDataService,
  ],
  exports: [
    IngestService,
    IngestEvents,
    RetentionWindow,
    TrendsRepository,
    TrendsService,
    DemoDataService,
  ],
})
export class TrendsModule {}
