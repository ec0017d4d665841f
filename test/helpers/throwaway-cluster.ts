// A PostgreSQL server of the test's own (initdb into a temporary folder, on a free port), so that a test can stop
// and start the database under running services without touching anyone else's. As root, the server runs as the
// `postgres` user (PostgreSQL refuses root) in a folder it owns.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function binDir(): Promise<string | undefined> {
  try {
    return (await run('pg_config', ['--bindir'])).stdout.trim();
  } catch {
    return undefined;
  }
}

/** Why a throwaway cluster cannot be made here, or `false`. */
export async function throwawayClusterSkipReason(): Promise<string | false> {
  const bin = await binDir();
  return bin && existsSync(path.join(bin, 'initdb')) ? false : 'PostgreSQL server programs (initdb, pg_ctl) not found: pg_config --bindir gave none';
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ThrowawayCluster {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  password: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export async function throwawayCluster(): Promise<ThrowawayCluster> {
  const bin = (await binDir())!;
  const asRoot = process.getuid?.() === 0;
  const folder = await mkdtemp(path.join(os.tmpdir(), 'attendance-cluster-'));
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const passwordFile = path.join(folder, 'password');
  await writeFile(passwordFile, password);
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout);
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout);
    for (const owned of [folder, passwordFile]) await chown(owned, uid, gid);
  }
  const postgresRun = (program: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, program), ...args]) : run(path.join(bin, program), args);
  const data = path.join(folder, 'data');
  await postgresRun('initdb', ['-D', data, '-U', 'postgres', '--pwfile', passwordFile, '--auth-host=scram-sha-256', '--auth-local=trust', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off`;
  let running = false;
  const cluster: ThrowawayCluster = {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    password,
    async start() {
      await postgresRun('pg_ctl', ['-D', data, '-o', options, '-l', path.join(folder, 'server.log'), '-w', 'start']);
      running = true;
    },
    async stop() {
      await postgresRun('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await cluster.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
