import { Controller, Get, Param, Query } from '@nestjs/common';
import { queryTypeOf } from './cache-request';

class ListQuery {
  limit?: number;
}

@Controller('x')
class ProbeController {
  @Get(':id')
  withQuery(@Param('id') _id: string, @Query() _query: ListQuery): void {}

  @Get()
  onlyOneField(@Query('limit') _limit: string): void {}

  @Get('none')
  none(): void {}
}

/**
 * queryTypeOf reads Nest's internal route-argument metadata (there is no public API for a
 * handler's parameter decorators). If a Nest upgrade changes it, this fails here, by name,
 * instead of the cache silently keying every query as "no DTO".
 */
describe('queryTypeOf (Nest internals, checked on upgrade)', () => {
  it('finds the whole-query DTO among other parameters', () => {
    expect(queryTypeOf(ProbeController, ProbeController.prototype.withQuery)).toBe(ListQuery);
  });

  it('ignores a single-field @Query and handlers without one', () => {
    expect(queryTypeOf(ProbeController, ProbeController.prototype.onlyOneField)).toBeNull();
    expect(queryTypeOf(ProbeController, ProbeController.prototype.none)).toBeNull();
  });
});
