import {
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Post,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProduces,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthUser, CurrentUser, Public, Roles } from '../auth/roles';
import { TokenService } from '../auth/token.service';
import { StreamQueryDto, StreamTicketDto } from './dto/stream.dto';
import { PUBLISHED_TYPES, PublishedType, TOPICS } from './stream-event';
import { StreamService } from './stream.service';
import { ApiErrorResponses } from '../common/openapi';

const STREAM_ROLES = ['analyst', 'admin'] as const;

@ApiTags('stream')
@ApiBearerAuth()
@Controller('api/v1/stream')
export class StreamController {
  constructor(
    private readonly stream: StreamService,
    private readonly tokens: TokenService,
  ) {}

  @Post('tickets')
  @HttpCode(201)
  @Roles(...STREAM_ROLES)
  @ApiOperation({
    summary: 'A single-use ticket (60 s) for GET /api/v1/stream, for EventSource clients',
  })
  @ApiCreatedResponse({ type: StreamTicketDto })
  @ApiErrorResponses(401, 403, 429, 503)
  async ticket(@CurrentUser() user: AuthUser): Promise<StreamTicketDto> {
    try {
      return await this.stream.issueTicket({ sub: user.sub, roles: user.roles });
    } catch {
      throw new ServiceUnavailableException('Stream tickets are unavailable (Redis unreachable)');
    }
  }

  /**
   * Authenticated here rather than by the global guard: EventSource cannot send headers, so the
   * route also accepts `?ticket=`. Bearer tokens are checked exactly as the guard does.
   */
  @Get()
  @Public()
  @ApiOperation({
    summary:
      'Live Server-Sent Events: ingest, top, alert, heartbeat (15 s), reset. Bearer token or ?ticket=; resumes after Last-Event-ID',
  })
  // Errors (400/401/403/503) answer JSON like every other route.
  @ApiProduces('text/event-stream', 'application/json')
  @ApiOkResponse({
    description:
      'text/event-stream; each event has `id:` (increasing across the cluster), `event:` and JSON `data:`',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrorResponses(400, 401, 403, 429, 503)
  async open(
    @Query() query: StreamQueryDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const types = topicTypes(query.topics);
    const header = request.headers.authorization;
    let user: AuthUser | null = null;
    if (typeof header === 'string' && header !== '') {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new UnauthorizedException('Malformed Authorization header');
      user = this.tokens.verify(match[1]);
    } else if (query.ticket === undefined) {
      throw new UnauthorizedException('Missing bearer token or ticket');
    }
    if (user) assertStreamRole(user);

    if (!this.stream.tryReserve()) {
      throw new ServiceUnavailableException('Too many open streams on this replica; retry later');
    }
    try {
      if (!user) {
        let redeemed: AuthUser | null;
        try {
          redeemed = await this.stream.redeemTicket(query.ticket as string);
        } catch {
          throw new ServiceUnavailableException(
            'Stream tickets are unavailable (Redis unreachable)',
          );
        }
        if (!redeemed) throw new UnauthorizedException('Invalid, expired or already used ticket');
        assertStreamRole(redeemed);
        user = redeemed;
      }
    } catch (error) {
      this.stream.release();
      throw error;
    }
    const lastEventId = headerValue(request.headers['last-event-id']) ?? query.lastEventId;
    await this.stream.open(request, reply, { user, types, lastEventId });
  }
}

function assertStreamRole(user: AuthUser): void {
  if (!user.roles.some((role) => (STREAM_ROLES as readonly string[]).includes(role))) {
    throw new ForbiddenException(`Requires role ${STREAM_ROLES.join(' or ')}`);
  }
}

/** `?topics=` (validated by the DTO) as event types; omitted = every published type. */
function topicTypes(topics: string | undefined): ReadonlySet<PublishedType> {
  if (topics === undefined) return new Set(PUBLISHED_TYPES);
  return new Set(
    topics
      .split(',')
      .map((t) => t.trim())
      .map((t) => TOPICS[t]),
  );
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? undefined : first.trim();
}
