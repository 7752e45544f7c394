import 'reflect-metadata';
import { z } from 'zod';
import { LedgerReader } from '@mandate/ledger-domain';
import { LedgerServiceModule, registerLedgerGrpc } from '@mandate/ledger-service';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

bootServiceApp({
  name: 'audit-ledger',
  schema: serviceConfigSchema('audit-ledger', { http: 8084, grpc: 50054 }).extend({
    /** Log origin named in checkpoints (C2SP tlog-checkpoint first line), e.g. "mandate.example.com/ledger". */
    LEDGER_ORIGIN: z.string().min(1).default('mandate/ledger'),
  }),
  module: (runtime) =>
    LedgerServiceModule.create({ context: runtime.context, stores: runtime.stores }),
  grpc: (host, app, config) =>
    registerLedgerGrpc(host, app.get(LedgerReader), config.LEDGER_ORIGIN),
});
