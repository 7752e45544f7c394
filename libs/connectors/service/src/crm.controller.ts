import {
  BadRequestException,
  Body,
  Controller,
  Get,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { CrmInputError, EmbeddedCrm } from '@mandate/connectors-domain';
import { InvalidTenantIdError, tenantId } from '@mandate/storage';
import { OutboxRelayHost } from '@mandate/platform';

/**
 * The embedded CRM's HTTP face: create a record (its change event enters Mandate) and read one.
 * Real CRMs feed changes through their adapters' change ingestion instead.
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
    if (
      !body ||
      typeof body.id !== 'string' ||
      typeof body.fields !== 'object' ||
      body.fields === null
    ) {
      throw new BadRequestException(
        'body must be {"id": string, "fields": object, "correlationId"?: string}',
      );
    }
    try {
      const { record, event, created } = await this.crm.create(
        parseTenant(tenant),
        objectType,
        body.id,
        body.fields,
        body.correlationId,
      );
      await this.relay.kick();
      return {
        id: record.id,
        objectType: record.objectType,
        created,
        eventId: event.eventId,
        correlationId: event.correlationId,
      };
    } catch (err) {
      if (err instanceof CrmInputError) throw new BadRequestException(err.message);
      throw err;
    }
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
      version: record.version,
    };
  }
}

function parseTenant(raw: string) {
  try {
    return tenantId(raw);
  } catch (err) {
    if (err instanceof InvalidTenantIdError) throw new BadRequestException(err.message);
    throw err;
  }
}
