import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { createDb, type Db } from './db/index.js';
import { ensureDatabase, migrateDown, migrateToLatest } from './db/migrate.js';
import { createToken, revokeToken } from './auth/tokens.service.js';
import { SCOPES, isScope } from './auth/tokens.js';
import { CliError } from './cli/cli-error.js';
import { addImportCommand } from './cli/import-command.js';
import { AppError } from './lib/errors.js';
import { isUuid } from './lib/ids.js';
import { createWorkspace } from './users/workspaces.service.js';
import { workspaceExists } from './users/workspaces.repository.js';

// JSON goes to stdout (with --json); everything else goes to stderr.
const say = (line: string): void => void process.stderr.write(`${line}\n`);
const json = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

class UsageError extends Error {}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function withDb<T>(fn: (db: Db) => Promise<T>, migrate = true): Promise<T> {
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl, { max: 2, applicationName: 'loopit-provision-cli' });
  try {
    if (migrate) await migrateToLatest(db);
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

export function buildCli(): Command {
  const program = new Command('loopit-provision')
    .description('Loopit Provision command line')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => process.stderr.write(s), writeErr: (s) => process.stderr.write(s) })
    .exitOverride();

  const workspace = program.command('workspace').description('manage workspaces');
  workspace
    .command('create')
    .description('create a workspace with roles, locations and a token with every scope')
    .requiredOption('--name <name>', 'workspace name')
    .option('--role <name>', 'a role, ranked in the order given (repeat)', collect, [])
    .option('--location <name>', 'a location (repeat)', collect, [])
    .option('--default-role <name>', 'the default role (default: the first --role)')
    .option('--json', 'print JSON on stdout')
    .action(
      async (opts: {
        name: string;
        role: string[];
        location: string[];
        defaultRole?: string;
        json?: boolean;
      }) => {
        const result = await withDb((db) =>
          createWorkspace(db, {
            name: opts.name,
            roles: opts.role,
            locations: opts.location,
            defaultRole: opts.defaultRole,
          }),
        );
        if (opts.json) json({ workspaceId: result.workspaceId, token: result.token });
        else {
          say(`workspace ${result.workspaceId} created`);
          say(`token (shown once, every scope): ${result.token}`);
        }
      },
    );

  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description('create a token for a workspace')
    .requiredOption('--workspace <id>', 'workspace id')
    .addOption(
      new Option('--scope <scope>', `a scope (repeat): ${SCOPES.join(', ')}`).argParser(collect).default([]),
    )
    .option('--name <name>', 'a label for the token')
    .option('--json', 'print JSON on stdout')
    .action(async (opts: { workspace: string; scope: string[]; name?: string; json?: boolean }) => {
      if (opts.scope.length === 0) throw new UsageError(`give at least one --scope (${SCOPES.join(', ')})`);
      const bad = opts.scope.filter((s) => !isScope(s));
      if (bad.length > 0)
        throw new UsageError(`unknown scope ${bad.join(', ')}; scopes are ${SCOPES.join(', ')}`);
      if (!isUuid(opts.workspace))
        throw new UsageError(`--workspace must be a workspace id (a UUID); got '${opts.workspace}'`);
      const created = await withDb(async (db) => {
        if (!(await workspaceExists(db, opts.workspace)))
          throw new UsageError(`no workspace with id ${opts.workspace}`);
        return createToken(db, opts.workspace, opts.scope.filter(isScope), opts.name ?? null);
      });
      if (opts.json)
        json({
          workspaceId: opts.workspace,
          token: created.token,
          prefix: created.prefix,
          scopes: created.scopes,
        });
      else
        say(
          `token (shown once; prefix ${created.prefix}, scopes ${created.scopes.join(', ')}): ${created.token}`,
        );
    });
  token
    .command('revoke')
    .description('revoke a token by its public prefix (lp_...)')
    .argument('<prefix>', 'the token prefix, or the whole token')
    .option('--json', 'print JSON on stdout')
    .action(async (prefixArg: string, opts: { json?: boolean }) => {
      const prefix = /^lp_[a-z0-9]{10}/.exec(prefixArg)?.[0];
      if (!prefix)
        throw new UsageError(
          `'${prefixArg}' is not a token prefix; it looks like lp_ followed by 10 characters`,
        );
      const outcome = await withDb((db) => revokeToken(db, prefix));
      if (outcome === 'not_found') throw new UsageError(`no token with prefix ${prefix}`);
      if (opts.json) json({ prefix, status: outcome });
      else say(outcome === 'revoked' ? `token ${prefix} revoked` : `token ${prefix} was already revoked`);
    });

  addImportCommand(program);

  program
    .command('migrate')
    .description('apply pending migrations (or undo the last one with --down)')
    .option('--down', 'undo the most recent migration')
    .option('--json', 'print JSON on stdout')
    .action(async (opts: { down?: boolean; json?: boolean }) => {
      const names = await withDb((db) => (opts.down ? migrateDown(db) : migrateToLatest(db)), false);
      if (opts.json) json({ direction: opts.down ? 'down' : 'up', migrations: names });
      else if (names.length === 0) say(opts.down ? 'nothing to undo' : 'already up to date');
      else for (const n of names) say(`${opts.down ? 'undone' : 'applied'} ${n}`);
    });

  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2; // help and version exit 0; usage errors 2 (already printed)
    }
    if (error instanceof CliError) {
      if (error.message) say(`error: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof UsageError) {
      say(`error: ${error.message}`);
      return 2;
    }
    if (error instanceof AppError || error instanceof ConfigError) {
      say(`error: ${error.message}`);
      return 2;
    }
    say(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

const exitCode = await runCli(process.argv.slice(2));
process.exitCode = exitCode;
