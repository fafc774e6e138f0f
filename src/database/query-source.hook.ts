import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { runWithQuerySource } from './query-source';

/**
 * Every request runs the rest of its hooks and its handler with its route template as the
 * query source, so a slow statement names the endpoint that ran it (bounded: templates, not
 * URLs; unmatched requests run no statements).
 */
@Injectable()
export class QuerySourceHook implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    // CLIs run an application context without an HTTP server.
    if (!this.adapterHost.httpAdapter) return;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (request, _reply, done) => {
      runWithQuerySource(request.routeOptions.url ?? 'UNMATCHED', done);
    });
  }
}
