import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../auth/roles';
import { ApiAuthErrors, ApiErrorResponses } from '../common/openapi';
import { AlertsService } from './alerts.service';
import {
  ChannelListView,
  ChannelTestView,
  CreateChannelDto,
  CreatedChannelView,
} from './dto/channel.dto';
import {
  ActiveAlertListView,
  AlertEventPageView,
  DeliveriesQueryDto,
  DeliveryPageView,
  EventsQueryDto,
} from './dto/lists.dto';
import { PreviewRuleDto, PreviewView, RuleBodyDto, RuleListView, RuleView } from './dto/rule.dto';
import {
  CreateSilenceDto,
  ListSilencesQueryDto,
  SilenceListView,
  SilenceView,
} from './dto/silence.dto';

/** Alerts (SPEC §12): analysts read, admins write; channels and deliveries are admin only. */
@ApiTags('alerts')
@ApiBearerAuth()
@ApiAuthErrors()
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: 'Series that are pending, firing or recovering' })
  @ApiOkResponse({ type: ActiveAlertListView })
  active() {
    return this.alerts.active();
  }

  @Get('events')
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: 'Alert history (transitions and notifications), newest first' })
  @ApiOkResponse({ type: AlertEventPageView })
  @ApiErrorResponses(400)
  events(@Query() query: EventsQueryDto) {
    return this.alerts.history(query);
  }

  @Get('rules')
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: 'Every alert rule' })
  @ApiOkResponse({ type: RuleListView })
  rules() {
    return this.alerts.listRules();
  }

  @Post('rules')
  @Roles('admin')
  @ApiOperation({ summary: 'Create an alert rule (audited)' })
  @ApiCreatedResponse({ type: RuleView })
  @ApiErrorResponses(400)
  createRule(@CurrentUser() user: AuthUser, @Body() body: RuleBodyDto) {
    return this.alerts.createRule(user.sub, body);
  }

  @Post('rules/preview')
  @HttpCode(200)
  @Roles('analyst', 'admin')
  @ApiOperation({
    summary: 'Backtest a rule: series whose condition holds at `at` (changes nothing)',
  })
  @ApiOkResponse({ type: PreviewView })
  @ApiErrorResponses(400)
  preview(@Body() body: PreviewRuleDto) {
    return this.alerts.preview(body);
  }

  @Get('rules/:id')
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: 'One alert rule' })
  @ApiErrorResponses([404, 'No rule with this id'])
  @ApiOkResponse({ type: RuleView })
  rule(@Param('id') id: string) {
    return this.alerts.getRule(id);
  }

  @Put('rules/:id')
  @Roles('admin')
  @ApiOperation({ summary: 'Replace an alert rule; its series reset to normal (audited)' })
  @ApiErrorResponses(400, [404, 'No rule with this id'])
  @ApiOkResponse({ type: RuleView })
  updateRule(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: RuleBodyDto) {
    return this.alerts.updateRule(user.sub, id, body);
  }

  @Delete('rules/:id')
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({ summary: 'Delete an alert rule (audited)' })
  @ApiErrorResponses([404, 'No rule with this id'])
  @ApiNoContentResponse({ description: 'Deleted' })
  async deleteRule(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.alerts.deleteRule(user.sub, id);
  }

  @Get('channels')
  @Roles('admin')
  @ApiOperation({ summary: 'Notification channels (secrets are never shown)' })
  @ApiOkResponse({ type: ChannelListView })
  channels() {
    return this.alerts.listChannels();
  }

  @Post('channels')
  @Roles('admin')
  @ApiOperation({
    summary: 'Create a webhook or Slack channel; the answer shows the secret once (audited)',
  })
  @ApiCreatedResponse({ type: CreatedChannelView })
  @ApiErrorResponses(400)
  createChannel(@CurrentUser() user: AuthUser, @Body() body: CreateChannelDto) {
    return this.alerts.createChannel(user.sub, body);
  }

  @Delete('channels/:id')
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({
    summary: 'Delete a channel; its undelivered notifications are cancelled (audited)',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrorResponses([404, 'No channel with this id'])
  async deleteChannel(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.alerts.deleteChannel(user.sub, id);
  }

  @Post('channels/:id/test')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Send an alert.test notification now and report the answer (audited)' })
  @ApiOkResponse({ type: ChannelTestView })
  @ApiErrorResponses([404, 'No channel with this id'])
  testChannel(@CurrentUser() user: AuthUser, @Param('id') id: string) {
    return this.alerts.testChannel(user.sub, id);
  }

  @Get('deliveries')
  @Roles('admin')
  @ApiOperation({ summary: 'Notification deliveries with every attempt, newest first' })
  @ApiOkResponse({ type: DeliveryPageView })
  @ApiErrorResponses(400)
  deliveries(@Query() query: DeliveriesQueryDto) {
    return this.alerts.deliveries(query);
  }

  @Get('silences')
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: 'Silences (current and future; expired=true adds past ones)' })
  @ApiOkResponse({ type: SilenceListView })
  @ApiErrorResponses(400)
  silences(@Query() query: ListSilencesQueryDto) {
    return this.alerts.listSilences(query.expired);
  }

  @Post('silences')
  @Roles('admin')
  @ApiOperation({ summary: 'Silence notifications of a rule and/or trend until a time (audited)' })
  @ApiCreatedResponse({ type: SilenceView })
  @ApiErrorResponses(400)
  createSilence(@CurrentUser() user: AuthUser, @Body() body: CreateSilenceDto) {
    return this.alerts.createSilence(user.sub, body);
  }

  @Delete('silences/:id')
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({ summary: 'Remove a silence (audited)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrorResponses([404, 'No silence with this id'])
  async deleteSilence(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.alerts.deleteSilence(user.sub, id);
  }
}
