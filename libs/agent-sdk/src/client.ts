import type {
  AgentBalanceDto,
  AgentDto,
  AgentMessageDto,
  AskQuestionRequest,
  BidDto,
  ClientToServerEvents,
  EventEnvelope,
  IngestibleEventType,
  JoinRequest,
  LedgerTransactionDto,
  ListResponse,
  MeResponse,
  QuestionDto,
  ServerToClientEvents,
  SubscribeAck,
  TaskDetailDto,
  TaskDto,
  TaskStatus,
  UpgradeDetailDto,
  UpgradeEventType,
} from '@app/contracts';
import { io, type Socket } from 'socket.io-client';
import { AgentSdkError, RestClient, queryString, type RestClientOptions } from './rest';
import { planFrame, type EndedQuestion } from './dispatch';
import { SeqTracker } from './seq-tracker';
import { getUpgrade, proposeUpgrade, waitForUpgrade, type ProposeUpgradeRequest } from './upgrades';
import { balance, withdraw, type WithdrawOptions } from './ledger';

/** A task open for bids, as handed to {@link AgentClient.onTaskOffer} handlers. */
export interface TaskOffer {
  taskId: string;
  description: string;
  /** ISO time the auction closes (server clock), or null when unknown. */
  closesAt: string | null;
}

/** Options of {@link AgentClient}. */
export interface AgentClientOptions extends RestClientOptions {
  /** Interval of `POST /api/agents/me/heartbeat` after join, in ms (default 10,000; 0 disables the loop). */
  heartbeatIntervalMs?: number;
  /** How often {@link AgentClient.ask} polls `GET /api/questions/:id` as a fallback to the live event, in ms (default 2,000). */
  questionPollIntervalMs?: number;
  /** How long join waits for the socket to connect and subscribe, in ms (default 15,000). */
  connectTimeoutMs?: number;
  /** Called with errors that happen in the background (handlers, heartbeat, resync, socket). Default: ignored. */
  onError?: (err: Error, context: string) => void;
  /** Called with one-line notices (reconnects, gaps, resyncs). Never contains the API key. Default: ignored. */
  onLog?: (line: string) => void;
}

type Handler<T> = (value: T) => unknown;
type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface PendingQuestion {
  resolve(answer: string[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Client an external agent process uses to join the swarm: REST over `fetch` plus a Socket.IO connection to
 * the `/live` namespace (channels `swarm` and `agent:<ownId>`).
 *
 * Realtime robustness: it keeps the last `seq` per channel and the server epoch, resubscribes with `since`
 * after every reconnect (the server replays what was missed), drops duplicates by `seq`, and on `gap: true`
 * (or a changed epoch) re-reads the open auctions and its own assigned tasks and synthesizes the offers /
 * assignments it has not handled yet. Each task is offered and assigned to the handlers at most once.
 *
 * Register handlers ({@link onTaskOffer}, {@link onAssigned}, {@link onMessage}) before {@link join}.
 * All REST methods throw {@link AgentSdkError} carrying the server's `statusCode`, `code` and `message`.
 */
export class AgentClient {
  /** The REST client (bearer = this agent's key). */
  readonly rest: RestClient;
  private readonly opts: AgentClientOptions;
  private ownId: string | null = null;
  private sock: LiveSocket | null = null;
  private epoch: string | null = null;
  private readonly trackers = new Map<string, SeqTracker>();
  private readonly offerHandlers: Handler<TaskOffer>[] = [];
  private readonly assignedHandlers: Handler<TaskDto>[] = [];
  private readonly messageHandlers: Handler<AgentMessageDto>[] = [];
  private readonly upgradeHandlers: Handler<EventEnvelope<UpgradeEventType>>[] = [];
  private readonly handledOffers = new Set<string>();
  private readonly handledAssignments = new Set<string>();
  private readonly handledMessages = new Set<string>();
  private readonly pendingQuestions = new Map<string, PendingQuestion>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private subscribeChain: Promise<void> = Promise.resolve();
  private resyncRun: Promise<void> | null = null;
  private resyncAgain = false;
  private messagesRun: Promise<void> | null = null;
  private messagesAgain = false;
  private reconnectDelayMs = 1000;
  private closed = false;

  /**
   * @param opts `{ baseUrl, apiKey, heartbeatIntervalMs? }` (see {@link AgentClientOptions}); the key must be an
   *        agent-bound API key (role `agent`).
   * @throws AgentSdkError `sdk/bad_options` when baseUrl or apiKey is missing.
   */
  constructor(opts: AgentClientOptions) {
    this.opts = opts;
    this.rest = new RestClient(opts);
  }

  /** This agent's id (known after {@link join} or {@link me}); null before. */
  get agentId(): string | null {
    return this.ownId;
  }

  /** The live Socket.IO socket (null before join / after close). Exposed for tests and diagnostics. */
  get socket(): LiveSocket | null {
    return this.sock;
  }

  /** The highest `seq` seen on a channel (`swarm`, `agent:<id>`), or null. */
  lastSeq(channel: string): number | null {
    return this.trackers.get(channel)?.lastSeq ?? null;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * `GET /api/auth/me`: the caller. Remembers the agent id when the key is agent-bound.
   * @throws AgentSdkError (401 `auth/unauthenticated` for a bad or revoked key).
   */
  async me(): Promise<MeResponse> {
    const me = await this.rest.get<MeResponse>('/api/auth/me');
    if (me.principal.agentId) this.ownId = me.principal.agentId;
    return me;
  }

  /**
   * Joins the swarm: `POST /api/agents/me/join`, reads the open auctions and this agent's assigned tasks (offering /
   * assigning them to the handlers), connects Socket.IO to `${baseUrl}/live` with `auth: { token: apiKey }`,
   * subscribes to `swarm` and `agent:<id>` from the snapshot's head seq, and starts the heartbeat loop.
   * Resolves once both subscriptions are acknowledged.
   * @returns the agent (status `idle`).
   * @throws AgentSdkError `sdk/not_agent_key` (403) when the key is not agent-bound; the server's error for
   *         REST failures; `sdk/socket_refused` / `sdk/subscribe_failed` / `sdk/timeout` for the socket.
   */
  async join(req: JoinRequest = {}): Promise<AgentDto> {
    if (this.closed) throw new AgentSdkError(0, 'sdk/closed', 'client is closed');
    const me = await this.me();
    if (me.principal.role !== 'agent' || !me.principal.agentId) {
      throw new AgentSdkError(403, 'sdk/not_agent_key', 'join needs an agent-bound API key (role agent)');
    }
    const id = me.principal.agentId;
    const agent = await this.rest.post<AgentDto>('/api/agents/me/join', req);
    for (const ch of ['swarm', `agent:${id}`]) if (!this.trackers.has(ch)) this.trackers.set(ch, new SeqTracker());
    const head = await this.resync('join');
    if (head !== null) for (const t of this.trackers.values()) t.advanceTo(head);
    await this.connectSocket();
    this.startHeartbeat();
    return agent;
  }

  /**
   * Leaves the swarm: stops the heartbeat loop (a heartbeat would bring the agent back online) and
   * `POST /api/agents/me/leave` (status offline, `agent.left`). The socket stays open until {@link close}.
   * @throws AgentSdkError from the server.
   */
  async leave(): Promise<AgentDto> {
    this.stopHeartbeat();
    return this.rest.post<AgentDto>('/api/agents/me/leave');
  }

  /** `POST /api/agents/me/heartbeat` (back online if it was offline). @throws AgentSdkError from the server. */
  heartbeat(): Promise<AgentDto> {
    return this.rest.post<AgentDto>('/api/agents/me/heartbeat');
  }

  /**
   * Stops everything local: heartbeat, question polls (pending {@link ask} calls reject with `sdk/closed`) and the
   * socket. Does not call leave. Idempotent.
   */
  close(): void {
    this.closed = true;
    this.stopHeartbeat();
    for (const [id, q] of this.pendingQuestions) {
      clearInterval(q.timer);
      q.reject(new AgentSdkError(0, 'sdk/closed', `client closed while waiting for question ${id}`));
    }
    this.pendingQuestions.clear();
    if (this.sock) {
      this.sock.removeAllListeners();
      this.sock.disconnect();
      this.sock = null;
    }
  }

  // ---------------------------------------------------------------- handlers

  /**
   * Registers a handler for tasks open for bids (`task.bidding` on `swarm`, plus open auctions found at join or
   * after a gap). Each task is offered once. Returns an unregister function. Handler errors go to `onError`.
   */
  onTaskOffer(handler: (offer: TaskOffer) => unknown): () => void {
    return this.register(this.offerHandlers, handler);
  }

  /**
   * Registers a handler for tasks assigned to this agent (`task.assigned` whose agent is us, or assigned tasks
   * found at join or after a gap), called once per task with the fresh task. Returns an unregister function.
   */
  onAssigned(handler: (task: TaskDto) => unknown): () => void {
    return this.register(this.assignedHandlers, handler);
  }

  /**
   * Registers a handler for messages sent to this agent. After the handlers resolve, the message is marked
   * delivered (`POST /api/messages/:id/delivered`); if one throws, it stays `sent`. Returns an unregister function.
   */
  onMessage(handler: (message: AgentMessageDto) => unknown): () => void {
    const off = this.register(this.messageHandlers, handler);
    if (this.sock) this.checkMessages();
    return off;
  }

  /**
   * Registers a handler for `upgrade.*` events about this agent's own proposals (they arrive on `agent:<ownId>`:
   * approvals, rejection, queue, test output, applied / failed / rolled back). Returns an unregister function.
   */
  onUpgradeEvent(handler: (event: EventEnvelope<UpgradeEventType>) => unknown): () => void {
    return this.register(this.upgradeHandlers, handler);
  }

  // ---------------------------------------------------------------- ledger

  /**
   * This agent's balance in msat (`{ account, lightning }`, see {@link balance}; `account.availableMsat` is what it
   * can withdraw). @throws AgentSdkError 404 `ledger/account_not_found` before the agent was ever credited.
   */
  balance(): Promise<AgentBalanceDto> {
    return balance(this.rest);
  }

  /**
   * Withdraws by paying `bolt11` from this agent's account; resolves with the outgoing transaction (`settled`,
   * `failed` or still `pending`; amounts in msat). See {@link withdraw} for the options and the errors thrown.
   */
  withdraw(bolt11: string, opts: WithdrawOptions = {}): Promise<LedgerTransactionDto> {
    return withdraw(this.rest, bolt11, opts);
  }

  // ---------------------------------------------------------------- upgrades

  /**
   * Proposes a change to the upgrade repository (a branch, or a unified diff against the target head); an operator
   * approves or rejects it (a rejection's reason arrives as a message), then the queue tests and applies it.
   * See {@link proposeUpgrade} for the errors.
   */
  proposeUpgrade(req: ProposeUpgradeRequest): Promise<UpgradeDetailDto> {
    return proposeUpgrade(this.rest, req);
  }

  /** `GET /api/upgrades/:id`. @throws AgentSdkError 404 `upgrade/not_found`. */
  getUpgrade(id: string): Promise<UpgradeDetailDto> {
    return getUpgrade(this.rest, id);
  }

  /** Waits until the upgrade reaches a final state (see {@link waitForUpgrade}). */
  waitForUpgrade(id: string, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<UpgradeDetailDto> {
    return waitForUpgrade(this.rest, id, opts);
  }

  /** Withdraws an own proposal that has not started testing. @throws AgentSdkError 409 `upgrade/invalid_transition`. */
  cancelUpgrade(id: string, comment?: string): Promise<UpgradeDetailDto> {
    return this.rest.post<UpgradeDetailDto>(`/api/upgrades/${encodeURIComponent(id)}/cancel`, comment ? { comment } : {});
  }

  // ---------------------------------------------------------------- tasks

  /** `GET /api/tasks/:id` (with bids). @throws AgentSdkError 404 `swarm/task_not_found`. */
  getTask(taskId: string): Promise<TaskDetailDto> {
    return this.rest.get<TaskDetailDto>(`/api/tasks/${encodeURIComponent(taskId)}`);
  }

  /** `GET /api/tasks?status=&agentId=&limit=` (newest first). */
  listTasks(q: { status?: TaskStatus; agentId?: string; limit?: number } = {}): Promise<ListResponse<TaskDto>> {
    return this.rest.get<ListResponse<TaskDto>>(`/api/tasks${queryString(q)}`);
  }

  /**
   * Bids on an open auction. `bidSats` is an integer number of satoshis (1..1,000,000).
   * @throws AgentSdkError 409 `swarm/auction_closed` (late), 409 `swarm/duplicate_bid`, 400 for bad amounts.
   */
  bid(taskId: string, bidSats: number): Promise<BidDto> {
    return this.rest.post<BidDto>(`/api/tasks/${encodeURIComponent(taskId)}/bids`, { bidSats });
  }

  /** Marks an assigned task as running (`task.started`). @throws AgentSdkError when not assigned to us. */
  start(taskId: string): Promise<TaskDto> {
    return this.rest.post<TaskDto>(`/api/tasks/${encodeURIComponent(taskId)}/start`);
  }

  /** Reports progress (`task.progress`); `fraction` is 0..1. @throws AgentSdkError from the server. */
  async progress(taskId: string, message: string, fraction?: number): Promise<void> {
    await this.rest.post<void>(`/api/tasks/${encodeURIComponent(taskId)}/progress`, fraction === undefined ? { message } : { message, fraction });
  }

  /**
   * Appends a `tool.*` event for a task through `POST /api/events` (attributed to this agent by the server).
   * Keep `data` small and free of secrets. @throws AgentSdkError (400 bad type, 413 too large).
   */
  toolEvent(type: IngestibleEventType, taskId: string, data: Record<string, unknown> = {}): Promise<EventEnvelope> {
    return this.rest.post<EventEnvelope>('/api/events', { type, taskId, data });
  }

  /** Completes a task with its result text (`task.completed`). @throws AgentSdkError from the server. */
  complete(taskId: string, result: string): Promise<TaskDto> {
    return this.rest.post<TaskDto>(`/api/tasks/${encodeURIComponent(taskId)}/complete`, { result });
  }

  /** Fails a task with a reason (`task.failed`). @throws AgentSdkError from the server. */
  fail(taskId: string, reason: string): Promise<TaskDto> {
    return this.rest.post<TaskDto>(`/api/tasks/${encodeURIComponent(taskId)}/fail`, { reason });
  }

  // ---------------------------------------------------------------- messages and questions

  /** Sends a message to another agent (`message.sent`). @throws AgentSdkError (404 unknown agent, 400 bad body). */
  sendMessage(toAgentId: string, body: string): Promise<AgentMessageDto> {
    return this.rest.post<AgentMessageDto>('/api/messages', { toAgentId, body });
  }

  /**
   * Asks the operators a question and waits for the answer: resolves with the chosen option(s) when
   * `question.answered` arrives on the agent channel or the fallback poll of `GET /api/questions/:id` sees it.
   * @throws AgentSdkError from the server when asking fails; rejects with `sdk/question_cancelled` or
   *         `sdk/question_expired` when the question ends unanswered, `sdk/closed` when the client closes first.
   */
  async ask(req: AskQuestionRequest): Promise<string[]> {
    const q = await this.rest.post<QuestionDto>('/api/questions', req);
    return new Promise<string[]>((resolve, reject) => {
      const timer = setInterval(() => void this.checkQuestion(q.id), this.opts.questionPollIntervalMs ?? 2000);
      this.pendingQuestions.set(q.id, { resolve, reject, timer });
      this.settleQuestion(q);
    });
  }

  // ---------------------------------------------------------------- internals

  private register<T>(list: Handler<T>[], handler: Handler<T>): () => void {
    list.push(handler);
    return () => {
      const i = list.indexOf(handler);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private log(line: string): void {
    this.opts.onLog?.(line);
  }

  private reportError(err: unknown, context: string): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.opts.onError) this.opts.onError(e, context);
  }

  private startHeartbeat(): void {
    const every = this.opts.heartbeatIntervalMs ?? 10_000;
    this.stopHeartbeat();
    if (every <= 0 || this.closed) return;
    this.heartbeatTimer = setInterval(() => {
      this.heartbeat().catch((err) => this.reportError(err, 'heartbeat'));
    }, every);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private connectSocket(): Promise<void> {
    const socket: LiveSocket = io(`${this.rest.baseUrl}/live`, {
      auth: { token: this.opts.apiKey },
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    this.sock = socket;
    socket.on('events', (events, channel) => this.onFrame(events, channel));
    socket.on('gap', (notice) => {
      this.log(`gap notice (${notice.reason}) for ${notice.channels.join(', ')}; resubscribing`);
      this.enqueueSubscribe().catch((err) => this.reportError(err, 'resubscribe'));
    });
    socket.on('disconnect', (reason) => {
      this.log(`socket disconnected (${reason})`);
      if (reason === 'io server disconnect' && !this.closed) {
        // The server closed us; socket.io does not retry by itself in that case.
        const delay = this.reconnectDelayMs;
        this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, 30_000);
        setTimeout(() => {
          if (!this.closed && this.sock === socket && !socket.connected) socket.connect();
        }, delay);
      }
    });
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timeoutMs = this.opts.connectTimeoutMs ?? 15_000;
      const timer = setTimeout(() => fail(new AgentSdkError(0, 'sdk/timeout', `socket did not connect within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        if (settled) return this.reportError(err, 'socket');
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.disconnect();
        if (this.sock === socket) this.sock = null;
        reject(err);
      };
      socket.on('connect', () => {
        this.log(settled ? 'socket reconnected; resubscribing with since' : 'socket connected');
        this.enqueueSubscribe().then(
          () => {
            this.reconnectDelayMs = 1000;
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve();
          },
          (err) => (settled ? this.reportError(err, 'resubscribe') : fail(err)),
        );
      });
      socket.on('connect_error', (err) => {
        // `active` false: the server refused the handshake (bad or revoked key); socket.io will not retry.
        if (!socket.active) fail(new AgentSdkError(401, 'sdk/socket_refused', `socket refused: ${err.message}`));
        else this.log(`socket connect error (${err.message}); retrying`);
      });
    });
  }

  /** Serialises (re)subscriptions so two quick reconnects never interleave. */
  private enqueueSubscribe(): Promise<void> {
    const run = this.subscribeChain.then(() => this.subscribeAll());
    this.subscribeChain = run.catch(() => undefined);
    return run;
  }

  private async subscribeAll(): Promise<void> {
    const socket = this.sock;
    if (!socket || this.closed) return;
    let needResync = false;
    for (const [channel, tracker] of this.trackers) {
      const since = tracker.lastSeq;
      const req = since === null ? { channel } : { channel, since, ...(this.epoch ? { epoch: this.epoch } : {}) };
      let ack: SubscribeAck;
      try {
        ack = await socket.timeout(10_000).emitWithAck('subscribe', req);
      } catch {
        throw new AgentSdkError(0, 'sdk/timeout', `subscribe ${channel} was not acknowledged`);
      }
      if (!ack.ok) throw new AgentSdkError(403, ack.code || 'sdk/subscribe_failed', `subscribe ${channel}: ${ack.message}`);
      const epochChanged = this.epoch !== null && ack.epoch !== this.epoch;
      if (epochChanged) {
        this.log(`epoch changed (${this.epoch} -> ${ack.epoch}); cursors reset`);
        for (const t of this.trackers.values()) t.reset();
      }
      this.epoch = ack.epoch;
      if (ack.gap || epochChanged) {
        this.log(`gap on ${channel} (since ${since ?? '-'}, head ${ack.headSeq}); resyncing`);
        tracker.advanceTo(ack.headSeq);
        needResync = true;
      } else if (ack.replayed > 0) {
        this.log(`replayed ${ack.replayed} event(s) on ${channel} since ${since}`);
      }
    }
    if (needResync) this.resyncUntilDone('gap');
  }

  /** Runs a gap resync in the background, retrying every 2 s until it succeeds or the client closes. */
  private resyncUntilDone(reason: string): void {
    this.resync(reason).catch((err: unknown) => {
      this.reportError(err, `resync (${reason})`);
      if (this.closed) return;
      setTimeout(() => {
        if (!this.closed) this.resyncUntilDone(reason);
      }, 2000);
    });
  }

  private onFrame(events: EventEnvelope[], channel: string): void {
    const tracker = this.trackers.get(channel);
    if (!tracker || !Array.isArray(events)) return;
    const fresh = events.filter((e) => tracker.accept(e.seq));
    if (fresh.length === 0) return;
    const plan = planFrame(fresh, channel, this.ownId);
    for (const o of plan.offers) void this.offer(o.taskId, { description: null, closesAt: o.closesAt });
    for (const taskId of plan.assigned) void this.assign(taskId);
    if (plan.messages) this.checkMessages();
    for (const q of plan.questions) this.questionEnded(q);
    for (const e of plan.upgrades) this.emit(this.upgradeHandlers, e, `upgrade event ${e.type}`);
    if (plan.recheckAllQuestions) for (const id of this.pendingQuestions.keys()) void this.checkQuestion(id);
  }

  /**
   * Settles a pending {@link ask} from a `question.*` event: the answer of `question.answered` directly, a cancel or
   * expiry as a rejection; an answer event without a usable `answer` re-reads the question.
   */
  private questionEnded(q: EndedQuestion): void {
    if (!this.pendingQuestions.has(q.questionId)) return;
    if (q.status === 'answered' && q.answer === null) {
      void this.checkQuestion(q.questionId);
      return;
    }
    this.settle(q.questionId, q.status, q.answer);
  }

  /**
   * Offers a task to the handlers once. `known.description` null (a `task.bidding` event carries no description)
   * reads the task first and skips it when it is no longer bidding.
   */
  private async offer(taskId: string, known: { description: string | null; closesAt: string | null }): Promise<void> {
    if (this.handledOffers.has(taskId) || this.offerHandlers.length === 0) return;
    this.handledOffers.add(taskId);
    try {
      let { description, closesAt } = known;
      if (description === null) {
        const task = await this.getTask(taskId);
        if (task.status !== 'bidding') return;
        description = task.description;
        closesAt = closesAt ?? task.auctionClosesAt;
      }
      this.emit(this.offerHandlers, { taskId, description, closesAt }, `offer ${taskId}`);
    } catch (err) {
      this.handledOffers.delete(taskId);
      this.reportError(err, `offer ${taskId}`);
    }
  }

  private async assign(taskId: string, known?: TaskDto): Promise<void> {
    if (this.handledAssignments.has(taskId)) return;
    this.handledAssignments.add(taskId);
    try {
      const task = known ?? (await this.getTask(taskId));
      if (task.assignedAgentId !== this.ownId || task.status !== 'assigned') {
        this.log(`task ${taskId} no longer assigned to us (status ${task.status}); skipped`);
        return;
      }
      this.emit(this.assignedHandlers, task, `assigned ${taskId}`);
    } catch (err) {
      this.handledAssignments.delete(taskId);
      this.reportError(err, `assigned ${taskId}`);
    }
  }

  private emit<T>(handlers: Handler<T>[], value: T, context: string): void {
    for (const h of [...handlers]) {
      try {
        Promise.resolve(h(value)).catch((err) => this.reportError(err, context));
      } catch (err) {
        this.reportError(err, context);
      }
    }
  }

  /**
   * Reads the open auctions and this agent's assigned tasks and synthesizes offers/assignments not handled yet.
   * Coalesced: concurrent calls share one run (plus one follow-up). Returns the smallest head seq read (the
   * snapshot cursor), or null when the run failed.
   */
  private async resync(reason: string): Promise<number | null> {
    if (this.resyncRun) {
      this.resyncAgain = true;
      await this.resyncRun;
      return null;
    }
    let head: number | null = null;
    const run = (async () => {
      do {
        this.resyncAgain = false;
        const id = this.ownId as string;
        const open = await this.listTasks({ status: 'bidding', limit: 200 });
        const mine = await this.listTasks({ status: 'assigned', agentId: id, limit: 200 });
        head = Math.min(open.headSeq, mine.headSeq);
        if (this.epoch === null) this.epoch = open.epoch;
        for (const t of open.items) if (!this.handledOffers.has(t.id)) void this.offer(t.id, { description: t.description, closesAt: t.auctionClosesAt });
        for (const t of [...mine.items].reverse()) if (t.assignedAgentId === id) void this.assign(t.id, t);
        this.log(`resync (${reason}): ${open.items.length} open auction(s), ${mine.items.length} assigned task(s)`);
      } while (this.resyncAgain);
      this.checkMessages();
    })();
    this.resyncRun = run;
    try {
      await run;
      return head;
    } finally {
      this.resyncRun = null;
    }
  }

  /** Fetches undelivered messages to us and hands them to the message handlers (coalesced). */
  private checkMessages(): void {
    if (this.messageHandlers.length === 0 || !this.ownId) return;
    if (this.messagesRun) {
      this.messagesAgain = true;
      return;
    }
    this.messagesRun = (async () => {
      do {
        this.messagesAgain = false;
        const id = this.ownId as string;
        const list = await this.rest.get<ListResponse<AgentMessageDto>>(`/api/messages${queryString({ agentId: id, status: 'sent' })}`);
        const todo = list.items
          .filter((m) => m.toAgentId === id && m.status === 'sent' && !this.handledMessages.has(m.id))
          .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
        for (const m of todo) {
          this.handledMessages.add(m.id);
          try {
            for (const h of [...this.messageHandlers]) await h(m);
            await this.rest.post<AgentMessageDto>(`/api/messages/${encodeURIComponent(m.id)}/delivered`);
          } catch (err) {
            this.handledMessages.delete(m.id);
            this.reportError(err, `message ${m.id}`);
          }
        }
      } while (this.messagesAgain && !this.closed);
    })()
      .catch((err) => this.reportError(err, 'messages'))
      .finally(() => {
        this.messagesRun = null;
      });
  }

  private async checkQuestion(id: string): Promise<void> {
    if (!this.pendingQuestions.has(id)) return;
    try {
      this.settleQuestion(await this.rest.get<QuestionDto>(`/api/questions/${encodeURIComponent(id)}`));
    } catch (err) {
      this.reportError(err, `question ${id}`);
    }
  }

  private settleQuestion(q: QuestionDto): void {
    if (q.status !== 'open') this.settle(q.id, q.status, q.answer ?? null);
  }

  private settle(id: string, status: 'answered' | 'cancelled' | 'expired', answer: string[] | null): void {
    const pending = this.pendingQuestions.get(id);
    if (!pending) return;
    this.pendingQuestions.delete(id);
    clearInterval(pending.timer);
    if (status === 'answered') pending.resolve(answer ?? []);
    else pending.reject(new AgentSdkError(0, `sdk/question_${status}`, `question ${id} was ${status} without an answer`));
  }
}
