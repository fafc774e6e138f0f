import { Module } from '@nestjs/common';
import { DemoDataService } from './demo/demo-data.service';
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
    RetentionWindow,
    TrendsService,
    TrendsRepository,
    DemoDataService,
  ],
  exports: [IngestService, RetentionWindow, TrendsRepository, TrendsService, DemoDataService],
})
export class TrendsModule {}
