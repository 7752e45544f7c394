import 'reflect-metadata';
import { z } from 'zod';
import { allTopics } from '@mandate/messaging';
import { KafkaTopicAdmin } from '@mandate/messaging-kafka';
import {
  ConfigError,
  createLogger,
  env,
  loadConfig,
  parseApiTokens,
  runService,
} from '@mandate/platform';
import { embeddedOperatorTokens } from './operator-tokens';
import { policyEval, policyTest } from './policy-cli';
import { ledgerCli } from './ledger-cli';
import { agentsCli } from './agents-cli';
import { DEMO_STEPS, formatChain, runDemo, startEmbedded } from './embedded';

const USAGE = `mandate — governed autonomy for LLM agents in CRM

usage:
  mandate start [--no-demo]        run every service in this process (embedded mode), run the demo, keep serving
  mandate topics apply [--brokers host:port,...] [--dry-run]
                                   create or update every catalog topic (and its dead-letter topic) on a cluster
  mandate topics list              print the topic catalog
  mandate policy test [DIR]        run a policy bundle's test cases (default libs/policy/bundles/default)
  mandate policy eval --proposal FILE [--facts FILE] [--bundle DIR] [--at ISO-TIME]
                                   print the decision for a proposal (JSON or YAML) as JSON
  mandate ledger verify --export FILE [--key VKEY ...]
                                   verify an audit-ledger export offline (exit 0 valid, 1 invalid)
  mandate ledger verify-inclusion|verify-consistency ...
                                   check one Merkle proof (mandate ledger help for the flags)
  mandate agents list              the four agents: purpose, tools, autonomy ceiling
  mandate agents run --agent NAME --record ID [--tenant acme] [--json]
                                   dry-run one agent's offline rules (not an LLM) on a demo record; prints its proposals
  mandate help

environment (start): MANDATE_HTTP_PORT (8080), MANDATE_GRPC_PORT (50050), MANDATE_HOST (127.0.0.1), LOG_LEVEL (warn),
                     MANDATE_API_TOKENS (operator token hashes; default: dev tokens written to .mandate/),
                     MANDATE_DATA_DIR (.mandate/data: where the embedded CRM persists; "" = in memory)
environment (topics): KAFKA_BROKERS (127.0.0.1:9092)`;

async function main(argv: string[]): Promise<number> {
  const [command = 'start', sub, ...rest] = argv;
  switch (command) {
    case 'start':
      return start([sub, ...rest].filter(Boolean) as string[]);
    case 'topics':
      return topics(sub, rest);
    case 'policy':
      if (sub === 'test') return policyTest(rest[0], (s) => process.stdout.write(`${s}\n`));
      if (sub === 'eval') return policyEval(rest, (s) => process.stdout.write(`${s}\n`));
      console.error(
        `usage: mandate policy test [DIR] | eval --proposal FILE [--facts FILE]\n\n${USAGE}`,
      );
      return 2;
    case 'ledger':
      return ledgerCli(sub, rest);
    case 'agents':
      return agentsCli(sub, rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function start(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--no-demo');
  if (unknown.length) {
    console.error(`unknown option(s) ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const config = loadConfig(
    'mandate',
    z.object({
      MANDATE_HOST: z.string().default('127.0.0.1'),
      MANDATE_HTTP_PORT: env.port(8080),
      MANDATE_GRPC_PORT: env.port(50050),
      LOG_LEVEL: env.logLevel().default('warn'),
      /** Where the embedded CRM persists its records; "" keeps it in memory. */
      MANDATE_DATA_DIR: z.string().default('.mandate/data'),
      MANDATE_API_TOKENS: z
        .string()
        .optional()
        .transform((raw, ctx) => {
          try {
            return raw ? parseApiTokens(raw) : undefined;
          } catch (err) {
            ctx.addIssue({
              code: 'custom',
              message: err instanceof Error ? err.message : String(err),
            });
            return z.NEVER;
          }
        }),
    }),
  );
  await runService('mandate', async () => {
    const logger = createLogger('mandate', config.LOG_LEVEL);
    const operators = config.MANDATE_API_TOKENS
      ? { entries: config.MANDATE_API_TOKENS, file: undefined }
      : await embeddedOperatorTokens();
    const m = await startEmbedded({
      apiTokens: operators.entries,
      logger,
      host: config.MANDATE_HOST,
      httpPort: config.MANDATE_HTTP_PORT,
      grpcPort: config.MANDATE_GRPC_PORT,
      dataDir: config.MANDATE_DATA_DIR || undefined,
    });
    const out = (s: string) => process.stdout.write(`${s}\n`);
    out(
      `Mandate (embedded) on http://${config.MANDATE_HOST}:${m.httpPort}  gRPC ${config.MANDATE_HOST}:${m.grpcPort}`,
    );
    out(
      '  services: crm-connectors, orchestrator, policy, human-review, audit-ledger — in-process bus, in-memory storage except the CRM',
    );
    out(
      config.MANDATE_DATA_DIR
        ? `  crm:      embedded CRM with the demo company's dataset, persisted in ${config.MANDATE_DATA_DIR}`
        : '  crm:      embedded CRM with the demo company\'s dataset, in memory (MANDATE_DATA_DIR="")',
    );
    out('  model:    built-in offline rules (not an LLM), deterministic');
    out(
      operators.file
        ? `  admin:    operator tokens (dev only: 2 policy admins, 1 privacy officer) in ${operators.file}`
        : '  admin:    tokens from MANDATE_API_TOKENS',
    );
    if (!args.includes('--no-demo')) {
      out('\nDemo: the four agents at work in the embedded CRM (tenant "acme", offline rules)…');
      const chains = await runDemo(m);
      for (const step of DEMO_STEPS) {
        const chain = chains.get(step.key) ?? [];
        out(`\n${step.agent}: ${step.description}; ledger chain (${chain.length} steps):`);
        formatChain(chain).forEach(out);
      }
      out(
        `\nTry: curl -s -H "authorization: Bearer $TOKEN" localhost:${m.httpPort}/v1/tenants/acme/crm/lead/lead-0001` +
          ` (TOKEN: the "token" of POST /v1/dev/login {"sub":"adm-eve"}, acme's admin) | ready: /ready | metrics: /metrics`,
      );
    }
    out('Serving; Ctrl-C to stop.');
    return m;
  });
  return -1; // keep running; runService owns the exit
}

async function topics(sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'list') {
    for (const t of allTopics()) {
      process.stdout.write(
        `${t.name.padEnd(40)} partitions=${t.partitions} retention.ms=${t.retentionMs ?? 'default'} cleanup=${t.cleanupPolicy} dlq=${t.deadLetter || '-'}\n`,
      );
    }
    return 0;
  }
  if (sub !== 'apply') {
    console.error(`usage: mandate topics apply|list\n\n${USAGE}`);
    return 2;
  }
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const cfg = loadConfig('mandate topics', z.object({ KAFKA_BROKERS: env.brokers() }), {
    ...process.env,
    ...(flag('--brokers') ? { KAFKA_BROKERS: flag('--brokers') } : {}),
  });
  const admin = new KafkaTopicAdmin({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'mandate-cli',
    connectionTimeoutMs: 5000,
  });
  const report = await admin.apply(allTopics(), { dryRun: args.includes('--dry-run') });
  for (const t of report.created) process.stdout.write(`created    ${t}\n`);
  for (const u of report.updated)
    process.stdout.write(`updated    ${u.topic}: ${u.changes.join('; ')}\n`);
  for (const t of report.unchanged) process.stdout.write(`unchanged  ${t}\n`);
  for (const w of report.warnings) process.stdout.write(`warning    ${w}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    console.error(
      err instanceof ConfigError
        ? err.message
        : `mandate: ${err instanceof Error ? err.message : String(err)}`,
    );
    process.exit(err instanceof ConfigError ? 78 : 1);
  },
);
