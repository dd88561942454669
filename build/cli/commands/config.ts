import { stringify } from 'yaml';
import { configJsonSchema } from '../../config/schema.ts';
import { usageError } from '../../core/errors.ts';
import { type CommandSpec, parseCommandArgs } from '../command.ts';
import { loadConfigFor } from '../load-config.ts';

export const command: CommandSpec = {
  name: 'config',
  summary: 'show the resolved configuration or its JSON Schema',
  help: `Usage: dogeos config show [--format yaml|json]
       dogeos config schema

  show    print the configuration after defaults, the config file and flags
          are merged and validated (exit 78 listing every problem)
  schema  print the JSON Schema of the config file (for editors and CI)
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs('config', ctx.argv, {
      format: { type: 'string' },
    });
    const sub = positionals[0];
    if (sub === 'schema') {
      ctx.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      return 0;
    }
    if (sub === 'show') {
      const { config, sourcePath } = loadConfigFor(ctx);
      const format = values.format ?? (ctx.globals.json ? 'json' : 'yaml');
      if (format === 'json') {
        ctx.stdout.write(
          `${JSON.stringify(ctx.globals.json ? { type: 'config', source: sourcePath ?? null, config } : config, null, ctx.globals.json ? 0 : 2)}\n`,
        );
      } else if (format === 'yaml') {
        ctx.stdout.write(`# resolved from ${sourcePath ?? 'defaults (no config file)'}\n${stringify(config)}`);
      } else {
        throw usageError('USAGE', `config show: --format must be yaml or json, not '${format}'`);
      }
      return 0;
    }
    throw usageError('USAGE', sub === undefined ? 'config: say show or schema' : `config: unknown subcommand '${sub}'`, {
      hint: "see 'dogeos config --help'",
    });
  },
};
