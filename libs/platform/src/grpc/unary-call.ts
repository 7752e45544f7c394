import { Metadata, type Client, type ServiceError } from '@grpc/grpc-js';

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (err: ServiceError | null, response?: Res) => void,
) => unknown;

/**
 * One unary call of a generated grpc-js client with a deadline, as a promise: resolves the
 * answer, rejects with the `ServiceError` (status code and details) or, for an empty answer, an
 * Error. Callers map failures to their own typed errors. `metadata` (default: empty) is sent
 * with the call, e.g. a service credential (`serviceTokenMetadata`).
 */
export function unaryCall<C extends Client, Req, Res>(
  client: C,
  method: (this: C, ...args: Parameters<UnaryMethod<Req, Res>>) => unknown,
  request: Req,
  deadlineMs: number,
  metadata: Metadata = new Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) =>
    method.call(
      client,
      request,
      metadata,
      { deadline: new Date(Date.now() + deadlineMs) },
      (err: ServiceError | null, res?: Res) => {
        if (err) reject(err);
        else if (!res) reject(new Error('empty answer'));
        else resolve(res);
      },
    ),
  );
}

/** Whether `err` came from grpc-js with a status code. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}
