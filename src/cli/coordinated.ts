import { randomBytes } from 'node:crypto';
import { CoordinatorClient } from '../core/coordinator/client';
import { endpointFor } from '../core/coordinator/endpoint';
import { isQmError } from '../core/errors';
import type { InstalledToolchain } from '../core/install/installer';
import type { PlannedTool } from '../core/plan/plan';
import type { InstalledTool } from '../shared/protocol';
import type { CliContext } from './context';
import type { ProgressView } from './progress';
import { rowFromJob } from './progress';

/**
 * The coordinator serving this QM_HOME, if one answers: at QM_COORDINATOR (set by the extension
 * in its terminals and tasks) or at the endpoint computed from QM_HOME. QM_COORDINATOR=off
 * always works alone. Anything unsafe or strange at the endpoint is reported and ignored.
 */
export async function connectCoordinator(context: CliContext): Promise<CoordinatorClient | undefined> {
  const configured = context.env.QM_COORDINATOR?.trim();
  if (configured === 'off') return undefined;
  const endpoint = configured || endpointFor(context.core.layout.root);
  const probe = await CoordinatorClient.probe(endpoint, context.core.layout.root);
  if (probe.state === 'serving') return probe.client;
  if (probe.state === 'refused') context.logger.warn(`${probe.error.message}; installing without the coordinator`);
  else if (configured) context.logger.debug(`No coordinator answers at ${endpoint}; installing without it`);
  return undefined;
}

/**
 * Sends the plan's toolchains to the coordinator, pinned to exactly what this CLI resolved, and
 * shows the coordinator's progress for this job. Undefined when the coordinator went away
 * mid-job: the caller finishes alone (the store makes that safe).
 */
export async function installThroughCoordinator(
  context: CliContext,
  client: CoordinatorClient,
  tools: PlannedTool[],
  view: ProgressView,
  label: string,
): Promise<InstalledToolchain[] | undefined> {
  const jobId = `cli-${process.pid}-${randomBytes(4).toString('hex')}`;
  const subscription = client.onProgress((progress) => {
    if (progress.jobId === jobId) view.update(rowFromJob(progress));
  });
  try {
    const result = await client.install(
      {
        jobId,
        requester: { kind: 'cli', pid: process.pid, label },
        tools: tools.map(({ entry, toolchain }) => ({
          name: entry.name,
          spec: entry.spec,
          locked: {
            version: toolchain.version,
            url: toolchain.url,
            sha256: toolchain.sha256,
            ...(toolchain.size !== undefined ? { size: toolchain.size } : {}),
            ...(toolchain.recheck ? { fromIndex: true } : {}),
          },
        })),
      },
      context.signal,
    );
    return Promise.all(result.tools.map((tool) => asInstalled(context, tool)));
  } catch (error) {
    if (!isQmError(error, 'ECOORDINATOR')) throw error;
    context.logger.warn(`${error.message}; finishing without it`);
    return undefined;
  } finally {
    subscription.dispose();
    client.dispose();
  }
}

async function asInstalled(context: CliContext, tool: InstalledTool): Promise<InstalledToolchain> {
  const found = await context.core.installer.find(tool);
  if (!found) throw new Error(`The coordinator reported ${tool.tool} ${tool.version} installed, but ${tool.dir} has no receipt`);
  return { ...found, installed: tool.installed };
}
