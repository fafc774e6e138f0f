import { Controller, Delete, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthErrors } from '../common/openapi';
import { CacheClearedDto, CacheStatsDto } from './dto/cache-stats.dto';
import { AuditService } from '../audit/audit.service';
import { AuthUser, CurrentUser, Roles } from '../auth/roles';
import { CacheService } from './cache.service';

@ApiTags('admin')
@ApiBearerAuth()
@ApiAuthErrors()
@Roles('admin')
@Controller()
export class CacheAdminController {
  constructor(
    private readonly cache: CacheService,
    private readonly audit: AuditService,
  ) {}

  @Get(['api/v1/admin/cache', 'monitoring/admin/cache'])
  @ApiOperation({
    summary: 'Cache state: connected, hits, misses, hit rate, keys under the prefix, memory used',
  })
  @ApiOkResponse({ type: CacheStatsDto })
  stats() {
    return this.cache.stats();
  }

  @Delete('api/v1/admin/cache')
  @ApiOperation({ summary: 'Delete every key under REDIS_KEY_PREFIX (SCAN + UNLINK); audited' })
  @ApiOkResponse({ type: CacheClearedDto })
  async clear(@CurrentUser() user: AuthUser) {
    const deleted = await this.audit.around(
      user.sub,
      'cache.clear',
      'cache',
      {},
      () =>
        this.cache.clear().catch(() => {
          throw new ServiceUnavailableException('Cache store unavailable; nothing was cleared');
        }),
      (n) => ({ status: 'succeeded', deleted: n }),
    );
    return { deleted };
  }
}
