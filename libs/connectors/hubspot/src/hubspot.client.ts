import { Client } from '@hubspot/api-client';
import {
  AssociationSpecAssociationCategoryEnum,
  FilterOperatorEnum,
} from '@hubspot/api-client/lib/codegen/crm/objects';
import { ConnectorError, type CallContext } from '@mandate/connector-sdk';
import type { HubSpotOAuthConfig, HubSpotTokens } from './hubspot.config';
import { HubSpotHttpError, parseJsonBody, toHubSpotConnectorError } from './hubspot.errors';

/** A CRM object as HubSpot returns it: id and (string) property values. */
export interface HubSpotObject {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null>>;
}

/** One filter of a CRM search (`EQ` on a property or the `associations.<object>` pseudo-property). */
export interface SearchFilter {
  readonly propertyName: string;
  readonly operator: 'EQ' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY';
  readonly value?: string;
}

/** A CRM search: the filters (ANDed, one filter group), one sort, the properties to return. */
export interface SearchQuery {
  readonly filters: readonly SearchFilter[];
  readonly sort: { readonly propertyName: string; readonly direction: 'ASCENDING' | 'DESCENDING' };
  readonly properties: readonly string[];
  /** 1..200. */
  readonly limit: number;
  /** The `paging.next.after` of the previous page. */
  readonly after?: string;
}

/** An association made with a created object (a HUBSPOT_DEFINED association type). */
export interface NewAssociation {
  readonly toId: string;
  readonly associationTypeId: number;
}

export interface HubSpotApiOptions {
  readonly basePath: string;
  readonly accessToken?: string;
  readonly oauth?: HubSpotOAuthConfig;
  readonly onTokensRefreshed?: (tokens: HubSpotTokens) => void | Promise<void>;
  readonly now: () => Date;
}

/** What the generated client's middleware receives after a response (ResponseContext). */
interface ResponseLike {
  readonly httpStatusCode: number;
  readonly headers: Record<string, string>;
  readonly body: { text(): Promise<string> };
}

/**
 * Turns every non-2xx answer into a HubSpotHttpError carrying the raw JSON body. Without it the
 * generated code deserialises error bodies into its `Error` model, which keeps category and
 * message but drops `errorType` and `policyName` (needed to classify 429s). The body is
 * buffered by the client's transport, so reading it here is safe.
 */
const ERROR_MIDDLEWARE = {
  pre: (context: unknown) => context,
  post: async (context: unknown) => {
    const response = context as ResponseLike;
    if (response.httpStatusCode >= 400) {
      const text = await response.body.text();
      throw new HubSpotHttpError(
        response.httpStatusCode,
        response.headers ?? {},
        parseJsonBody(text),
      );
    }
    return context;
  },
};

/** Refresh this long before HubSpot's `expires_in` runs out. */
const REFRESH_MARGIN_MS = 60_000;

function isExpiredAuthentication(err: unknown): boolean {
  if (!(err instanceof HubSpotHttpError) || err.status !== 401) return false;
  const body = err.body as { category?: unknown } | undefined;
  return body?.category === 'EXPIRED_AUTHENTICATION';
}

/**
 * The HubSpot API as the adapter uses it, over `@hubspot/api-client`'s `Client`: every call
 * classified into the SDK's error taxonomy, the OAuth access token refreshed ahead of its expiry
 * and once on a 401 EXPIRED_AUTHENTICATION (HubSpot: a 401 is not a reliable sign that the
 * token expired, so the expiry it announced is tracked too;
 * https://developers.hubspot.com/docs/api/usage-details). The client's own retry decorator is
 * off (`numberOfApiCallRetries: 0`): the SDK's retry policy is the only one.
 *
 * Credentials live in private fields (`#`), so they never show in `util.inspect` or logs.
 */
export class HubSpotApi {
  #accessToken: string | undefined;
  #refreshToken: string | undefined;
  readonly #oauth: { clientId: string; clientSecret: string } | undefined;
  #expiresAt: number | undefined;
  #client: Client;
  #refreshing: Promise<void> | undefined;
  /** How many refreshes this instance made (tests, telemetry). */
  refreshCount = 0;

  private readonly options: Pick<HubSpotApiOptions, 'basePath' | 'onTokensRefreshed' | 'now'>;

  constructor(options: HubSpotApiOptions) {
    this.options = {
      basePath: options.basePath,
      onTokensRefreshed: options.onTokensRefreshed,
      now: options.now,
    };
    this.#accessToken = options.accessToken;
    if (options.oauth) {
      this.#oauth = { clientId: options.oauth.clientId, clientSecret: options.oauth.clientSecret };
      this.#refreshToken = options.oauth.refreshToken;
    }
    this.#client = this.newClient();
  }

  private newClient(): Client {
    // Note: the client keeps its retry/limiter decorators in a process-wide singleton that each
    // `new Client()` resets; with no retries and no limiter configured there are none.
    return new Client({
      basePath: this.options.basePath,
      accessToken: this.#accessToken,
      numberOfApiCallRetries: 0,
      middleware: [ERROR_MIDDLEWARE],
    });
  }

  /** GET /crm/v3/objects/{type}/{id}?properties=...; null when HubSpot has no such object. */
  async getObject(
    objectType: string,
    id: string,
    properties: readonly string[],
    ctx: CallContext,
  ): Promise<HubSpotObject | null> {
    // An empty list would make HubSpot return its default properties: ask for the id only.
    const props = properties.length ? [...properties] : ['hs_object_id'];
    try {
      const o = await this.call((c) => c.crm.objects.basicApi.getById(objectType, id, props), ctx);
      return { id: o.id, properties: o.properties ?? {} };
    } catch (err) {
      if (err instanceof ConnectorError && err.httpStatus === 404) return null;
      throw err;
    }
  }

  /** PATCH /crm/v3/objects/{type}/{id}. */
  async updateObject(
    objectType: string,
    id: string,
    properties: Readonly<Record<string, string>>,
    ctx: CallContext,
  ): Promise<void> {
    await this.call(
      (c) => c.crm.objects.basicApi.update(objectType, id, { properties: { ...properties } }),
      ctx,
    );
  }

  /** POST /crm/v3/objects/{type} with its associations (one atomic create). Returns the id. */
  async createObject(
    objectType: string,
    properties: Readonly<Record<string, string>>,
    associations: readonly NewAssociation[],
    ctx: CallContext,
  ): Promise<string> {
    const o = await this.call(
      (c) =>
        c.crm.objects.basicApi.create(objectType, {
          properties: { ...properties },
          associations: associations.map((a) => ({
            to: { id: a.toId },
            types: [
              {
                associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined,
                associationTypeId: a.associationTypeId,
              },
            ],
          })),
        }),
      ctx,
    );
    return o.id;
  }

  /** POST /crm/v3/objects/{type}/search for `property = value`: the first match's id. */
  async findIdByProperty(
    objectType: string,
    property: string,
    value: string,
    ctx: CallContext,
  ): Promise<string | undefined> {
    const r = await this.call(
      (c) =>
        c.crm.objects.searchApi.doSearch(objectType, {
          filterGroups: [
            { filters: [{ propertyName: property, operator: FilterOperatorEnum.Eq, value }] },
          ],
          properties: [property],
          limit: 1,
        }),
      ctx,
    );
    return r.results[0]?.id;
  }

  /**
   * POST /crm/v3/objects/{type}/search: one page of objects matching every filter, in the sort's
   * order, with the next page's `after` when there is one.
   */
  async search(
    objectType: string,
    q: SearchQuery,
    ctx: CallContext,
  ): Promise<{ results: HubSpotObject[]; after?: string }> {
    const r = await this.call(
      (c) =>
        c.crm.objects.searchApi.doSearch(objectType, {
          filterGroups: q.filters.length
            ? [
                {
                  filters: q.filters.map((f) => ({
                    propertyName: f.propertyName,
                    operator: f.operator as FilterOperatorEnum,
                    ...(f.value === undefined ? {} : { value: f.value }),
                  })),
                },
              ]
            : [],
          // The generated model types sorts as strings; the API takes {propertyName, direction}
          // objects, which the client's serializer passes through unchanged.
          sorts: [{ ...q.sort }] as unknown as string[],
          properties: q.properties.length ? [...q.properties] : ['hs_object_id'],
          limit: q.limit,
          ...(q.after === undefined ? {} : { after: q.after }),
        }),
      ctx,
    );
    return {
      results: r.results.map((o) => ({ id: o.id, properties: o.properties ?? {} })),
      ...(r.paging?.next?.after ? { after: r.paging.next.after } : {}),
    };
  }

  /**
   * POST /crm/v4/associations/{type}/{toType}/batch/read: the associated ids (with their type ids)
   * of up to 1000 objects in one request; objects without associations are left out.
   */
  async batchAssociations(
    objectType: string,
    ids: readonly string[],
    toObjectType: string,
    ctx: CallContext,
  ): Promise<Map<string, Array<{ toId: string; typeIds: number[] }>>> {
    const out = new Map<string, Array<{ toId: string; typeIds: number[] }>>();
    if (!ids.length) return out;
    const r = await this.call(
      (c) =>
        c.crm.associations.v4.batchApi.getPage(objectType, toObjectType, {
          inputs: ids.map((id) => ({ id })),
        }),
      ctx,
    );
    for (const result of r.results ?? [])
      out.set(
        String(result._from?.id),
        (result.to ?? []).map((t) => ({
          toId: String(t.toObjectId),
          typeIds: (t.associationTypes ?? []).map((a) => a.typeId),
        })),
      );
    return out;
  }

  /** GET /crm/v4/objects/{type}/{id}/associations/{toType}: associated ids with their type ids. */
  async associations(
    objectType: string,
    id: string,
    toObjectType: string,
    ctx: CallContext,
  ): Promise<Array<{ toId: string; typeIds: number[] }>> {
    const page = await this.call(
      (c) => c.crm.associations.v4.basicApi.getPage(objectType, id, toObjectType, undefined, 500),
      ctx,
    );
    return page.results.map((r) => ({
      toId: String(r.toObjectId),
      typeIds: (r.associationTypes ?? []).map((t) => t.typeId),
    }));
  }

  /**
   * Runs one API call: refreshes an OAuth token that is missing or about to expire, retries
   * once after refreshing on 401 EXPIRED_AUTHENTICATION, and classifies what it throws.
   */
  private async call<T>(fn: (client: Client) => Promise<T>, ctx: CallContext): Promise<T> {
    if (ctx.signal?.aborted)
      throw ConnectorError.retryable('ABORTED', 'the call was aborted before it was sent');
    if (this.#oauth && this.tokenDue()) await this.refresh(undefined);
    const token = this.#accessToken;
    try {
      return await fn(this.#client);
    } catch (err) {
      if (!this.#oauth || !isExpiredAuthentication(err))
        throw toHubSpotConnectorError(err, this.options.now());
      await this.refresh(token);
      try {
        return await fn(this.#client);
      } catch (again) {
        throw toHubSpotConnectorError(again, this.options.now());
      }
    }
  }

  private tokenDue(): boolean {
    if (!this.#accessToken) return true;
    return (
      this.#expiresAt !== undefined &&
      this.#expiresAt - this.options.now().getTime() < REFRESH_MARGIN_MS
    );
  }

  /**
   * Refreshes the access token (one refresh at a time). `failedWith` is the token a call was
   * refused with: when another call has refreshed it meanwhile, nothing more is needed.
   */
  private async refresh(failedWith: string | undefined): Promise<void> {
    if (failedWith !== undefined && failedWith !== this.#accessToken) return;
    this.#refreshing ??= this.doRefresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  private async doRefresh(): Promise<void> {
    const oauth = this.#oauth;
    if (!oauth) return;
    let tokens;
    try {
      // POST /oauth/v1/token, grant_type=refresh_token.
      tokens = await this.#client.oauth.tokensApi.create(
        'refresh_token',
        undefined,
        undefined,
        oauth.clientId,
        oauth.clientSecret,
        this.#refreshToken,
      );
    } catch (err) {
      const e = toHubSpotConnectorError(err, this.options.now());
      if (e.kind === 'retryable') throw e; // HubSpot down or rate limited: try again later
      const status = err instanceof HubSpotHttpError ? (err.body as { status?: unknown }) : {};
      const reason = typeof status?.status === 'string' ? status.status : `HTTP ${e.httpStatus}`;
      throw ConnectorError.authExpired(
        'REFRESH_FAILED',
        `HubSpot refused to refresh the OAuth access token (${reason}); re-authorise the connector`,
        { httpStatus: e.httpStatus, cause: err },
      );
    }
    this.refreshCount += 1;
    this.#accessToken = tokens.accessToken;
    if (tokens.refreshToken) this.#refreshToken = tokens.refreshToken;
    const expiresInMs = (Number(tokens.expiresIn) || 0) * 1000;
    this.#expiresAt = expiresInMs > 0 ? this.options.now().getTime() + expiresInMs : undefined;
    this.#client = this.newClient();
    if (this.options.onTokensRefreshed) {
      try {
        await this.options.onTokensRefreshed({
          accessToken: tokens.accessToken,
          refreshToken: this.#refreshToken ?? '',
          expiresAt: new Date(this.#expiresAt ?? this.options.now().getTime()),
        });
      } catch (err) {
        throw ConnectorError.retryable(
          'TOKEN_PERSIST_FAILED',
          'the refreshed HubSpot tokens could not be persisted (onTokensRefreshed failed)',
          { cause: err },
        );
      }
    }
  }
}
