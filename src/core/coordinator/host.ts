import { EventEmitter } from 'node:events';
import * as fs from 'node:fs/promises';
import { QmError, isQmError } from '../errors';
import { silentLogger, type Logger } from '../log';
import { electionLockKey } from '../store/lock-keys';
import type { Platform } from '../platform';
import type { CoreServices } from '../services';
import type { InstallParams, InstallResult, JobProgress } from '../../shared/protocol';
import { abortableWait } from '../fetch/backoff';
import { CoordinatorClient, type ClientOptions } from './client';
import { currentHost, endpointFor, hostTag, isPipe, prepareEndpointDir, type HostIdentity } from './endpoint';
import { CoordinatorServer } from './server';
import { CoordinatorService, type CoordinatorApi } from './service';

export type HostRole = 'leader' | 'client' | 'standalone';

export interface CoordinatorHostOptions {
  core: CoreServices;
  platform: Platform;
  logger?: Logger;
  /** Default: this host's endpoint for QM_HOME. */
  endpoint?: string;
  /** Default: this machine (hostname and boot id). */
  host?: HostIdentity;
  /** How a client watches its leader for silence. */
  client?: ClientOptions;
}

/** Elections after a job's first attempt failed with ECOORDINATOR, before the job gives up. */
const MAX_REELECTIONS = 3;
const REELECTION_BACKOFF_MS = 250;


/**
 * Hosts the coordinator the way a VS Code window does: of all the hosts sharing one QM_HOME,
 * exactly one serves the endpoint (the leader); the others are its clients. An election is held
 * under a lock: probe the endpoint; if a coordinator answers, use it; if nothing does (no socket,
 * or a stale socket file of a dead process), remove the file and serve; if something else
 * answers, trust nothing and work alone. A client whose leader goes away elects again at once.
 */
export class CoordinatorHost {
  readonly service: CoordinatorService;
  readonly endpoint: string;
  private readonly electionKey: string;
  private readonly events = new EventEmitter();
  private readonly logger: Logger;
  private server: CoordinatorServer | undefined;
  private client: CoordinatorClient | undefined;
  private currentRole: HostRole = 'standalone';
  private progressSubscription: { dispose(): void } | undefined;
  private election: Promise<void> | undefined;
  private firstElection: Promise<void> = Promise.resolve();
  private electing = false;
  private disposed = false;
  /** What `api` is while the first election runs: each call waits for its outcome, then goes there. */
  private readonly afterElection: CoordinatorApi = {
    resolve: async (tools, signal) => (await this.settledApi()).resolve(tools, signal),
    install: async (params, signal) => (await this.settledApi()).install(params, signal),
    listInstalled: async () => (await this.settledApi()).listInstalled(),
    listRemote: async (tool, signal) => (await this.settledApi()).listRemote(tool, signal),
    status: async () => (await this.settledApi()).status(),
    onProgress: (listener) => this.onProgress(listener),
  };

  private constructor(private readonly options: CoordinatorHostOptions) {
    this.logger = options.logger ?? silentLogger;
    this.service = new CoordinatorService(options.core, options.platform);
    const host = options.host ?? currentHost();
    this.endpoint = options.endpoint ?? endpointFor(options.core.layout.root, process.platform, host);
    this.electionKey = electionLockKey(hostTag(host));
  }

  static async start(options: CoordinatorHostOptions): Promise<CoordinatorHost> {
    const host = new CoordinatorHost(options);
    await host.elect();
    return host;
  }

  /**
   * A host whose first election runs in the background (a VS Code window's activation does not
   * wait for the lock and the probe): work asked of `api` meanwhile waits for the outcome, so
   * nothing runs locally that the leader should have run. An election that fails leaves the
   * host alone (standalone), as `start` would; `ready` says when it is over.
   */
  static begin(options: CoordinatorHostOptions): CoordinatorHost {
    const host = new CoordinatorHost(options);
    host.electing = true;
    // On the next turn of the event loop: even the lock's first steps stay out of the caller's start-up.
    host.firstElection = new Promise<void>((resolve) => setImmediate(resolve)).then(() => host.elect()).then(
      () => {
        host.electing = false;
      },
      (error: unknown) => {
        host.electing = false;
        host.logger.error(`Coordinator election failed: ${String(error)}; working without a shared coordinator.`);
        host.setRole('standalone', host.service);
      },
    );
    return host;
  }

  /** Resolves once the first election is over; never rejects. */
  get ready(): Promise<void> {
    return this.firstElection;
  }

  get role(): HostRole {
    return this.currentRole;
  }

  /** The coordinator to send work to now: ourselves when leading or alone, else the leader. */
  get api(): CoordinatorApi {
    if (this.electing) return this.afterElection;
    return this.client ?? this.service;
  }

  private async settledApi(): Promise<CoordinatorApi> {
    await this.firstElection;
    return this.client ?? this.service;
  }

  onRoleChange(listener: (role: HostRole) => void): { dispose(): void } {
    this.events.on('role', listener);
    return { dispose: () => this.events.off('role', listener) };
  }

  /** Every job's progress, whoever serves: follows the host across elections. */
  onProgress(listener: (progress: JobProgress) => void): { dispose(): void } {
    this.events.on('progress', listener);
    return { dispose: () => this.events.off('progress', listener) };
  }

  /**
   * Installs through the coordinator. If the leader goes away (or falls silent) mid-job, waits a
   * little, elects again and asks the next one: installs are idempotent and the store keeps a
   * retry safe. At most MAX_REELECTIONS times, each wait about twice the last, then the job fails.
   */
  async install(params: InstallParams, signal?: AbortSignal): Promise<InstallResult> {
    for (let reelections = 0; ; reelections++) {
      try {
        return await this.api.install(params, signal);
      } catch (error) {
        if (!isQmError(error, 'ECOORDINATOR') || this.disposed || reelections >= MAX_REELECTIONS) throw error;
        // Half fixed, half jitter: never a tight loop, and many windows do not elect in step.
        const wait = REELECTION_BACKOFF_MS * 2 ** reelections * (0.5 + Math.random() / 2);
        this.logger.info(`${error.message} (job ${params.jobId}); electing again in ${Math.round(wait)} ms and asking the next one.`);
        await abortableWait(wait, signal, `Job ${params.jobId}`);
        await this.elect();
      }
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    // An election under way (say, the leader just left) could otherwise start serving after we
    // closed, or hold its lock while the process exits: let it finish, then close what it opened.
    await this.election?.catch(() => undefined);
    this.progressSubscription?.dispose();
    this.useClient(undefined);
    await this.server?.close();
  }

  /** One election at a time per host; concurrent callers share it. */
  private elect(): Promise<void> {
    this.election ??= this.runElection().finally(() => {
      this.election = undefined;
    });
    return this.election;
  }

  private async runElection(): Promise<void> {
    const { core } = this.options;
    const { lock } = await core.locks.acquire(this.electionKey, { purpose: 'coordinator election' });
    try {
      if (this.disposed) return;
      await prepareEndpointDir(this.endpoint);
      const probe = await CoordinatorClient.probe(this.endpoint, core.layout.root, this.options.client);
      if (probe.state === 'serving') {
        this.becomeClient(probe.client);
        return;
      }
      this.useClient(undefined);
      if (probe.state === 'refused') {
        this.logger.warn(`${probe.error.message}; working without a shared coordinator.`);
        this.setRole('standalone', this.service);
        return;
      }
      // Nothing answers: any socket file left is a dead process's and is never trusted.
      if (probe.stale && !isPipe(this.endpoint)) await fs.rm(this.endpoint, { force: true });
      this.server = await CoordinatorServer.listen(this.endpoint, this.service, this.logger);
      this.setRole('leader', this.service);
      this.logger.info(`Serving the coordinator for ${core.layout.root} at ${this.endpoint}`);
    } catch (error) {
      if (!(error instanceof QmError)) throw error;
      this.logger.warn(`Coordinator election failed (${error.message}); working without a shared coordinator.`);
      this.useClient(undefined);
      this.setRole('standalone', this.service);
    } finally {
      await lock!.release();
    }
  }

  /** The leader's connection to use from now on; the one it replaces is closed, never left open. */
  private useClient(client: CoordinatorClient | undefined): void {
    const previous = this.client;
    this.client = client;
    if (previous && previous !== client) previous.dispose();
  }

  private becomeClient(client: CoordinatorClient): void {
    this.useClient(client);
    this.setRole('client', client);
    client.onClose(() => {
      if (this.disposed || this.client !== client) return;
      this.client = undefined;
      this.logger.info('The coordinator went away; electing a new one.');
      void this.elect().catch((error: unknown) => this.logger.error(`Coordinator election failed: ${String(error)}`));
    });
  }

  private setRole(role: HostRole, api: CoordinatorApi): void {
    this.progressSubscription?.dispose();
    this.progressSubscription = api.onProgress((progress) => this.events.emit('progress', progress));
    if (role !== this.currentRole) {
      this.currentRole = role;
      this.events.emit('role', role);
    }
  }
}
