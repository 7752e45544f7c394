import {
  BadRequestException,
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Optional,
  Param,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ReviewContext } from '@mandate/review-domain';
import { ApiAuthGuard, AuthPrincipal, type AuthenticatedPrincipal } from '@mandate/platform';
import type { TenantId } from '@mandate/storage';
import { domain, readable, unavailableAs503 } from './access';
import {
  chainView,
  LedgerUnavailableError,
  type ChainView,
  type LedgerChainPort,
} from './ledger-chain';

export const LEDGER_CHAIN = Symbol('LEDGER_CHAIN');
/** C2SP verifier keys of the ledger's checkpoints (`LEDGER_VERIFIER_KEYS`): public keys. */
export const LEDGER_VERIFIER_KEYS = Symbol('LEDGER_VERIFIER_KEYS');
/** The ledger's origin (`LEDGER_ORIGIN`): a tenant's log is `<origin>/<tenant>`. */
export const LEDGER_ORIGIN = Symbol('LEDGER_ORIGIN');

const ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

/**
 * What the console needs from the audit ledger: a review item's audit trail and the causal chain
 * of a correlation or a CRM record, each entry with its leaf bytes and inclusion proof, and the
 * checkpoint as the ledger signed it. The browser checks all of it itself (`verify.js`): this
 * service passes the proofs through and vouches for nothing.
 */
@Controller('v1')
@UseGuards(ApiAuthGuard)
export class LedgerViewController {
  constructor(
    private readonly ctx: ReviewContext,
    @Optional() @Inject(LEDGER_CHAIN) private readonly ledger?: LedgerChainPort,
    @Optional() @Inject(LEDGER_VERIFIER_KEYS) private readonly verifierKeys?: readonly string[],
    @Optional() @Inject(LEDGER_ORIGIN) private readonly origin?: string,
  ) {}

  /** Console settings: the ledger's public verifier keys and origin (the browser pins them). */
  @Get('console/config')
  config() {
    return {
      ledger: {
        available: !!this.ledger,
        verifierKeys: [...(this.verifierKeys ?? [])],
        ...(this.origin ? { origin: this.origin } : {}),
      },
    };
  }

  /** The audit trail of one review item: every ledger entry of its correlation id. */
  @Get('tenants/:tenant/review/tasks/:taskId/audit')
  async taskAudit(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('taskId') taskId: string,
  ): Promise<ChainView & { correlationId: string }> {
    const t = readable(p, tenant);
    const { correlationId } = await domain(() => this.ctx.repo.load(t, taskId));
    return { correlationId, ...(await this.correlation(t, correlationId)) };
  }

  /** A causal chain: `?correlationId=…`, or `?objectType=…&recordId=…` for one CRM record. */
  @Get('tenants/:tenant/ledger/chain')
  async chain(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Query('correlationId') correlationId?: string,
    @Query('objectType') objectType?: string,
    @Query('recordId') recordId?: string,
  ): Promise<ChainView> {
    const t = readable(p, tenant);
    if (correlationId !== undefined) {
      if (objectType !== undefined || recordId !== undefined)
        throw new BadRequestException(
          'give a correlationId or an objectType and recordId, not both',
        );
      return this.correlation(t, id(correlationId, 'correlationId'));
    }
    if (objectType === undefined || recordId === undefined)
      throw new BadRequestException('give ?correlationId=… or ?objectType=…&recordId=…');
    const ledger = this.port();
    return chainView(
      await unavailableAs503(LedgerUnavailableError, () =>
        ledger.causalChain(t, {
          objectType: id(objectType, 'objectType'),
          recordId: id(recordId, 'recordId'),
        }),
      ),
    );
  }

  private async correlation(t: TenantId, correlationId: string): Promise<ChainView> {
    const ledger = this.port();
    const [proven, all] = await unavailableAs503(LedgerUnavailableError, () =>
      Promise.all([
        ledger.causalChain(t, { correlationId }),
        ledger.byCorrelation(t, correlationId),
      ]),
    );
    return chainView(proven, all);
  }

  private port(): LedgerChainPort {
    if (!this.ledger)
      throw new HttpException(
        {
          statusCode: 503,
          message: 'this review service has no ledger configured (LEDGER_GRPC_ADDRESS)',
        },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    return this.ledger;
  }
}

function id(v: string, name: string): string {
  if (typeof v !== 'string' || !ID.test(v))
    throw new BadRequestException(`${name} must be 1–200 characters of letters, digits and ._:/-`);
  return v;
}
