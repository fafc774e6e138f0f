import type { OpenAPIObject } from '@nestjs/swagger';
import { finishOpenApiDocument } from './openapi';

describe('finishOpenApiDocument', () => {
  it('adds a server and a licence, and makes operation ids of shared handlers unique', () => {
    const doc = finishOpenApiDocument({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/health': { get: { operationId: 'HealthController_report', responses: {} } },
        '/monitoring/health': { get: { operationId: 'HealthController_report', responses: {} } },
        '/x/{id}': { post: { operationId: 'X_run', responses: {} } },
      },
    } as OpenAPIObject);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info.license?.name).toMatch(/UNLICENSED/);
    expect(doc.paths['/health'].get?.operationId).toBe('HealthController_report');
    expect(doc.paths['/monitoring/health'].get?.operationId).toBe(
      'HealthController_report_monitoring_health',
    );
    expect(doc.paths['/x/{id}'].post?.operationId).toBe('X_run');
  });
});
