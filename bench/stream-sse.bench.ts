/**
 * npm run bench -- stream-sse [--events 20000] [--size 1024]
 *
 * Why the live stream writes to a raw Fastify reply instead of Nest's `@Sse()`: both variants
 * serve the same events to one fast client and one client that stops reading, in one process.
 * Reports what the server holds for the stuck client (V8 heap + Buffers after GC, while it is
 * still connected), what the fast client
 * received, whether the stuck connection is kept, and how long the server takes to notice a
 * client that leaves.
 */
import 'reflect-metadata';
import { Controller, Get, MessageEvent, Module, Res, Sse } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { Socket, connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Observable, Subject } from 'rxjs';
import { SseConnection } from '../src/stream/sse-connection';
import { PublishedType, toFrame } from '../src/stream/stream-event';
import { option } from './query.bench';
import { fmt, printTable } from './support/stats';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** V8 heap plus Buffers outside it (queued socket writes). */
const memory = () => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
};

const subject = new Subject<MessageEvent>();
const rawConnections = new Set<SseConnection>();
let sseOpen = 0;
let rawOpen = 0;
const TYPES = new Set<PublishedType>(['ingest']);
const BOUND = 256;

@Controller()
class BenchController {
  @Sse('sse')
  sse(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      sseOpen++;
      const subscription = subject.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        sseOpen--;
      };
    });
  }

  @Get('raw')
  raw(@Res() reply: FastifyReply): void {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    reply.raw.write(': connected\n\n');
    rawOpen++;
    const connection = new SseConnection(reply.raw, TYPES, BOUND, {
      sent: () => undefined,
      dropped: () => undefined,
      closed: (c) => {
        rawConnections.delete(c);
        rawOpen--;
      },
    });
    rawConnections.add(connection);
  }
}

@Module({ controllers: [BenchController] })
class BenchModule {}

function client(
  port: number,
  path: string,
  read: boolean,
): Promise<{ socket: Socket; ids: () => number }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let count = 0;
    let tail = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`GET /${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    socket.once('data', () => {
      if (!read) socket.pause();
      resolve({ socket, ids: () => count });
    });
    socket.on('data', (chunk: string) => {
      const text = tail + chunk;
      count += text.split('\nid: ').length - 1 + (text.startsWith('id: ') ? 1 : 0);
      tail = text.slice(-8);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function variant(port: number, path: 'sse' | 'raw', events: number, size: number) {
  const open = () => (path === 'sse' ? sseOpen : rawOpen);
  const fast = await client(port, path, true);
  const slow = await client(port, path, false);
  await sleep(200);
  gc();
  const heapBefore = memory();
  const payload = JSON.stringify({ pad: 'x'.repeat(size) });
  for (let i = 0; i < events; i++) {
    const id = `1-${i}`;
    if (path === 'sse') subject.next({ id, type: 'ingest', data: payload });
    else for (const c of rawConnections) c.send(toFrame('ingest', payload, id));
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  for (let i = 0; i < 100 && fast.ids() < events; i++) await sleep(20);
  await sleep(300);
  gc();
  const held = memory() - heapBefore;
  const openAfterBurst = open();
  const started = performance.now();
  slow.socket.destroy();
  fast.socket.destroy();
  while (open() > 0 && performance.now() - started < 10_000) await sleep(1);
  return {
    held,
    fastReceived: fast.ids(),
    slowKept: openAfterBurst === 2,
    cleanupMs: performance.now() - started,
  };
}

export async function run(args: string[]): Promise<void> {
  const events = option(args, 'events', 20000);
  const explicit = args.includes('--events');
  const size = option(args, 'size', 1024);
  const app = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter(), {
    logger: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  const rows: (string | number)[][] = [];
  // below and above Nest's default cap of 4 Mi characters pending per @Sse() connection
  for (const count of explicit ? [events] : [3000, events]) {
    for (const path of ['sse', 'raw'] as const) {
      const r = await variant(port, path, count, size);
      rows.push([
        path === 'sse' ? '@Sse() Observable' : 'raw reply + bounded queue',
        fmt(count),
        fmt(r.held / 2 ** 20, 1),
        `${fmt(r.fastReceived)}/${fmt(count)}`,
        r.slowKept ? 'kept' : 'disconnected',
        fmt(r.cleanupMs, 1),
      ]);
    }
  }
  console.log(`events of ~${fmt(size)} B; one fast and one non-reading client`);
  printTable(
    [
      'variant',
      'events',
      'held for stuck client (MiB)',
      'fast client got',
      'stuck client',
      'cleanup after close (ms)',
    ],
    rows,
  );
  await app.close();
}
