import { credentials, Metadata, status } from '@grpc/grpc-js';
import {
  ConnectorServiceClient,
  ConnectorServiceService,
  GetCapabilitiesResponse,
} from '@mandate/contracts';
import { createLogger } from '../logging/logger';
import { ProcessMetrics } from '../ops/metrics';
import { GrpcError, GrpcServerHost } from '../grpc/grpc-server';
import { unaryCall } from '../grpc/unary-call';
import { generateApiToken } from './api-tokens';
import {
  parseServiceToken,
  parseServiceTokenHashes,
  ServiceTokenConfigError,
  ServiceTokenVerifier,
  serviceTokenMetadata,
  serviceTokenOf,
} from './service-token';

describe('parseServiceTokenHashes', () => {
  const a = generateApiToken();
  const b = generateApiToken();

  it('reads comma-separated sha256 hashes (blank: none), lower-cased, without duplicates', () => {
    expect(parseServiceTokenHashes(undefined)).toEqual([]);
    expect(parseServiceTokenHashes('  ')).toEqual([]);
    expect(parseServiceTokenHashes(` ${a.sha256.toUpperCase()} ,${b.sha256},${a.sha256}`)).toEqual([
      a.sha256,
      b.sha256,
    ]);
  });

  it('refuses a raw token or anything else in place of a hash, naming its position, never echoing it', () => {
    try {
      parseServiceTokenHashes(`${a.sha256},${b.token},abc`);
      throw new Error('expected a ServiceTokenConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ServiceTokenConfigError);
      const problems = (err as ServiceTokenConfigError).problems;
      expect(problems).toEqual([
        expect.stringMatching(/^\[1\]: /),
        expect.stringMatching(/^\[2\]: /),
      ]);
      expect((err as Error).message).not.toContain(b.token);
    }
  });
});

describe('parseServiceToken', () => {
  it('accepts a minted token, none when blank, and refuses a short or malformed one without echoing it', () => {
    const { token } = generateApiToken();
    expect(parseServiceToken(token)).toBe(token);
    expect(parseServiceToken('')).toBeUndefined();
    expect(() => parseServiceToken('short-secret')).toThrow(ServiceTokenConfigError);
    const bad = `${token} x`;
    expect(() => parseServiceToken(bad)).toThrow(/bearer token of 32 to 512 characters/);
    try {
      parseServiceToken(bad);
    } catch (err) {
      expect((err as Error).message).not.toContain(token);
    }
  });
});

describe('ServiceTokenVerifier', () => {
  const a = generateApiToken();
  const b = generateApiToken();
  const verifier = new ServiceTokenVerifier([a.sha256, b.sha256]);

  it('accepts exactly the configured tokens', () => {
    expect(verifier.configured).toBe(true);
    expect(verifier.verify(a.token)).toBe(true);
    expect(verifier.verify(b.token)).toBe(true);
    expect(verifier.verify(generateApiToken().token)).toBe(false);
    expect(verifier.verify(a.sha256)).toBe(false); // the hash is not the token
    expect(verifier.verify('')).toBe(false);
    expect(verifier.verify(undefined)).toBe(false);
  });

  it('accepts nothing when no hash is configured', () => {
    const none = new ServiceTokenVerifier([]);
    expect(none.configured).toBe(false);
    expect(none.verify(a.token)).toBe(false);
  });

  it('refuses a malformed hash', () => {
    expect(() => new ServiceTokenVerifier(['nope'])).toThrow(ServiceTokenConfigError);
  });
});

describe('service token metadata over gRPC (unaryCall with metadata)', () => {
  const host = new GrpcServerHost(
    createLogger('test', 'silent'),
    new ProcessMetrics(false).forService('test'),
  );
  const { token, sha256 } = generateApiToken();
  const verifier = new ServiceTokenVerifier([sha256]);
  let client: ConnectorServiceClient;

  beforeAll(async () => {
    host.addUnaryService(ConnectorServiceService, {
      getCapabilities: async (_req, metadata) => {
        if (!verifier.verify(serviceTokenOf(metadata)))
          throw new GrpcError(status.UNAUTHENTICATED, 'no valid service credential');
        return GetCapabilitiesResponse.fromPartial({ connector: 'trusted' });
      },
      getRecord: async () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'not used here');
      },
      findRecords: async () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'not used here');
      },
    });
    const port = await host.start('127.0.0.1', 0);
    client = new ConnectorServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await host.stop();
  });

  const call = (metadata?: Metadata) =>
    unaryCall<ConnectorServiceClient, { tenantId: string }, GetCapabilitiesResponse>(
      client,
      client.getCapabilities as never,
      { tenantId: 'acme' },
      2_000,
      metadata,
    );

  it('sends the token as authorization metadata; the server reads and checks it', async () => {
    expect((await call(serviceTokenMetadata(token))).connector).toBe('trusted');
    await expect(call()).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(call(serviceTokenMetadata(generateApiToken().token))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
  });

  it('reads only one well-formed Bearer value', () => {
    const md = new Metadata();
    expect(serviceTokenOf(md)).toBeUndefined();
    md.set('authorization', `Basic ${token}`);
    expect(serviceTokenOf(md)).toBeUndefined();
    md.set('authorization', `bearer ${token}`);
    expect(serviceTokenOf(md)).toBe(token);
    md.add('authorization', `Bearer ${token}`);
    expect(serviceTokenOf(md)).toBeUndefined();
    expect(serviceTokenOf(undefined)).toBeUndefined();
  });
});
