// The operators' console commands, and the two ways they are run: as moleculer-repl custom
// commands (`npm run repl` on a cluster, beside Moleculer's own `nodes`, `call`, …) and one
// line at a time (the console socket of an embedded process, console-socket.ts).
import type { ServiceBroker } from 'moleculer';
import { clusterCommand } from './cluster-command.ts';
import { CommandError, type OperatorCommand } from './command.ts';
import { drainCommand } from './drain-command.ts';
import { meetingsCommand } from './meetings-command.ts';
import { personCommand } from './person-command.ts';
import { queuesCommand, requeueCommand } from './queues-command.ts';
import { reindexCommand } from './reindex-command.ts';
import { roomCommand } from './room-command.ts';
import { tokensCommand } from './tokens-command.ts';

export const operatorCommands: OperatorCommand[] = [clusterCommand, roomCommand, personCommand, meetingsCommand, tokensCommand, drainCommand, queuesCommand, requeueCommand, reindexCommand];

const usage = (command: OperatorCommand) => [command.name, ...command.args.map((arg) => `<${arg}>`)].join(' ');

/** What a command answers: the text to print, and whether it did what was asked (a one-shot run's exit code). */
export interface CommandAnswer {
  output: string;
  ok: boolean;
}

/** Runs a command and answers what to print: its output, or why it could not run. */
async function runCommand(broker: ServiceBroker, command: OperatorCommand, values: string[]): Promise<CommandAnswer> {
  if (values.length !== command.args.length) return { output: `usage: ${usage(command)}`, ok: false };
  try {
    return { output: await command.run(broker, Object.fromEntries(command.args.map((arg, i) => [arg, values[i]]))), ok: true };
  } catch (err) {
    if (err instanceof CommandError) return { output: `${command.name}: ${err.message}`, ok: false };
    const { name, message } = err as Error;
    return { output: `${command.name} failed: ${name}: ${message}`, ok: false };
  }
}

/** The commands as moleculer-repl 0.8 takes them (`replOptions.customCommands`). */
export function replCustomCommands(commands: OperatorCommand[] = operatorCommands) {
  return commands.map((command) => ({
    command: usage(command),
    description: command.description,
    // Moleculer's types say `args: string[]`; moleculer-repl 0.8 passes `{ <arg name>: value, options, rawCommand }`.
    async action(broker: ServiceBroker, args: unknown) {
      const params = args as Record<string, string>;
      process.stdout.write(`${(await runCommand(broker, command, command.args.map((arg) => params[arg]).filter((value) => value !== undefined))).output}\n`);
    },
  }));
}

export function helpText(commands: OperatorCommand[] = operatorCommands): string {
  const width = Math.max(...commands.map((command) => usage(command).length), 'quit'.length);
  return [...commands.map((command) => `  ${usage(command).padEnd(width)}  ${command.description}`), `  ${'help'.padEnd(width)}  This list`, `  ${'quit'.padEnd(width)}  Leave the console (Squared goes on)`].join('\n');
}

/** Runs one typed line (`room <id>`); answers the text to print. */
export async function runLine(broker: ServiceBroker, line: string, commands: OperatorCommand[] = operatorCommands): Promise<CommandAnswer> {
  const [name, ...values] = line.trim().split(/\s+/);
  if (!name) return { output: '', ok: true };
  if (name === 'help') return { output: helpText(commands), ok: true };
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) return { output: `unknown command "${name}"; commands:\n${helpText(commands)}`, ok: false };
  return runCommand(broker, command, values);
}
