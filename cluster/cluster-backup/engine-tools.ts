// The engines' own operator tools, run as an operator would from this host: Cassandra's
// nodetool and RabbitMQ's rabbitmqctl. Each is a command template from the environment,
// because how a host's tool is reached is the installation's business: `nodetool -h {host}`
// (JMX open to this host), `ssh {host} nodetool`, or for the engines `npm run engines:up`
// started here `bash cluster/engines/tool.sh nodetool`. `{host}` is replaced by the node's
// address; the arguments are appended, each quoted for the shell.
import { spawn } from 'node:child_process';

export interface EngineTools {
  /** SQUARED_NODETOOL, default `nodetool -h {host}`. */
  nodetool: string;
  /** SQUARED_RABBITMQCTL, default `rabbitmqctl`. */
  rabbitmqctl: string;
}

export function engineToolsFrom(env: NodeJS.ProcessEnv): EngineTools {
  return { nodetool: env.SQUARED_NODETOOL || 'nodetool -h {host}', rabbitmqctl: env.SQUARED_RABBITMQCTL || 'rabbitmqctl' };
}

/** A tool that failed, with what it said: the operator's clue. */
export class EngineToolError extends Error {
  override name = 'EngineToolError';
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Runs `template` (with `{host}` replaced) and `args`; resolves with its stdout, rejects with its stderr. */
export function runTool(template: string, args: string[], options: { host?: string; timeoutMs?: number } = {}): Promise<string> {
  const command = `${template.replaceAll('{host}', options.host ?? '127.0.0.1')} ${args.map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new EngineToolError(`${command}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new EngineToolError(`${command} ${signal ? `was killed (${signal})` : `exited ${code}`}: ${(stderr || stdout).trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}
