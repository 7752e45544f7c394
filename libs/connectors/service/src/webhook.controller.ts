import {
  BadRequestException,
  Controller,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Req,
  ServiceUnavailableException,
  UnauthorizedException,
  type RawBodyRequest,
} from '@nestjs/common';
import { ConnectorError, toCrmChangeEvent } from '@mandate/connector-sdk';
import { ChangeIngestor, ConnectorRegistry } from '@mandate/connectors-domain';
import { OutboxRelayHost, SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';
import { parseTenant } from './crm.controller';

/** The parts of the HTTP request the webhook needs (Express's request has them). */
interface WebhookHttpRequest {
  method: string;
  originalUrl: string;
  protocol: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Webhook change ingestion for CRMs that push (HubSpot): the adapter authenticates the call
 * (signature over the exact body bytes) and parses it; each change is announced once (by its
 * stable event id), durably, before the CRM gets its 200. A bad signature is 401 and nothing
 * is ingested; a transient failure is 503 so the CRM retries.
 */
@Controller('v1/tenants/:tenant/connectors')
export class WebhookController {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly ingestor: ChangeIngestor,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @Post('webhook')
  @HttpCode(200)
  async receive(@Param('tenant') raw: string, @Req() req: RawBodyRequest<WebhookHttpRequest>) {
    const tenant = parseTenant(raw);
    const connector = this.registry.resolve(tenant);
    if (!connector || connector.capabilities.changeFeed !== 'webhook')
      throw new NotFoundException(`tenant ${tenant} has no webhook connector`);
    if (!req.rawBody) throw new BadRequestException('empty body');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string') headers[k.toLowerCase()] = v;
      else if (Array.isArray(v)) headers[k.toLowerCase()] = v.join(', ');
    const host = headers['x-forwarded-host'] ?? headers['host'] ?? 'localhost';
    const proto = headers['x-forwarded-proto'] ?? req.protocol;
    try {
      const changes = await connector.parseWebhook({
        method: req.method,
        url: `${proto}://${host}${req.originalUrl}`,
        headers,
        rawBody: req.rawBody,
        receivedAt: new Date(),
      });
      const events = changes.map((c) => toCrmChangeEvent(tenant, connector.connector, c));
      const fresh = await this.ingestor.ingest(tenant, events);
      if (fresh > 0) await this.relay.kick();
      this.ctx.logger.info(
        { tenant, connector: connector.connector, changes: events.length, fresh },
        'webhook ingested',
      );
      return { received: events.length, new: fresh };
    } catch (err) {
      if (err instanceof ConnectorError) {
        this.ctx.logger.warn(
          { tenant, connector: connector.connector, code: err.code },
          'webhook refused',
        );
        if (err.code === 'WEBHOOK_SIGNATURE_INVALID')
          throw new UnauthorizedException('webhook signature is invalid');
        if (err.kind === 'retryable') throw new ServiceUnavailableException(err.code);
        throw new BadRequestException(`${err.code}: ${err.message}`);
      }
      throw err;
    }
  }
}
