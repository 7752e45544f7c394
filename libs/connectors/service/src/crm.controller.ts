import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  NotFoundException,
  Param,
  Patch,
  Post,
} from '@nestjs/common';
import {
  CrmContentionError,
  CrmInputError,
  CrmRecordNotFoundError,
  EmbeddedCrm,
} from '@mandate/connectors-domain';
import { InvalidTenantIdError, tenantId } from '@mandate/storage';
import { OutboxRelayHost } from '@mandate/platform';

/**
 * The embedded CRM's HTTP face: create or edit a record as a user would (its change event enters
 * Mandate) and read one. Real CRMs feed changes through their adapters' change ingestion instead.
 */
@Controller('v1/tenants/:tenant/crm')
export class CrmController {
  constructor(
    private readonly crm: EmbeddedCrm,
    private readonly relay: OutboxRelayHost,
  ) {}

  @Post(':objectType')
  async create(
    @Param('tenant') tenant: string,
    @Param('objectType') objectType: string,
    @Body() body: { id?: string; fields?: Record<string, unknown>; correlationId?: string },
  ) {
    if (!body || typeof body.id !== 'string' || !isObject(body.fields))
      throw new BadRequestException(
        'body must be {"id": string, "fields": object, "correlationId"?: string}',
      );
    const { record, event, created } = await this.call(() =>
      this.crm.create(parseTenant(tenant), objectType, body.id!, body.fields!, correlationOf(body)),
    );
    await this.relay.kick();
    return {
      id: record.id,
      objectType: record.objectType,
      created,
      eventId: event.eventId,
      correlationId: event.correlationId,
    };
  }

  /** `{fields, correlationId?}`: sets the given fields (a user edit) and announces the change. */
  @Patch(':objectType/:id')
  async update(
    @Param('tenant') tenant: string,
    @Param('objectType') objectType: string,
    @Param('id') id: string,
    @Body() body: { fields?: Record<string, unknown>; correlationId?: string },
  ) {
    if (!body || !isObject(body.fields) || Object.keys(body.fields).length === 0)
      throw new BadRequestException(
        'body must be {"fields": non-empty object, "correlationId"?: string}',
      );
    const { record, event } = await this.call(() =>
      this.crm.update(parseTenant(tenant), objectType, id, body.fields!, correlationOf(body)),
    );
    await this.relay.kick();
    return {
      id: record.id,
      objectType: record.objectType,
      version: record.version,
      eventId: event.eventId,
      correlationId: event.correlationId,
    };
  }

  @Get(':objectType/:id')
  async get(
    @Param('tenant') tenant: string,
    @Param('objectType') objectType: string,
    @Param('id') id: string,
  ) {
    const record = await this.crm.get(parseTenant(tenant), id);
    if (!record || record.objectType !== objectType)
      throw new NotFoundException(`${objectType} ${id} not found`);
    return {
      id: record.id,
      objectType: record.objectType,
      fields: record.fields,
      appliedActions: record.appliedActions,
      activities: record.activities,
      version: record.version,
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CrmInputError) throw new BadRequestException(err.message);
      if (err instanceof CrmRecordNotFoundError) throw new NotFoundException(err.message);
      if (err instanceof CrmContentionError) throw new ConflictException(err.message);
      throw err;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function correlationOf(body: { correlationId?: unknown }): string | undefined {
  const c = body.correlationId;
  if (c === undefined) return undefined;
  if (typeof c !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(c))
    throw new BadRequestException('correlationId must be 1-128 letters, digits, . _ : -');
  return c;
}

export function parseTenant(raw: string) {
  try {
    return tenantId(raw);
  } catch (err) {
    if (err instanceof InvalidTenantIdError) throw new BadRequestException(err.message);
    throw err;
  }
}
