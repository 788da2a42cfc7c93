import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiKeyDto, Principal, Role, UserDto, UserRole } from '@app/contracts';
import { DataSource, IsNull } from 'typeorm';
import { authError } from './auth.errors';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import type { WriteContext } from '../event-log/event-log.types';
import { InternalBus, type CredentialRevoked } from '../event-log/internal-bus';
import { ApiKeyEntity } from './api-key.entity';
import {
  API_KEY_PREFIX,
  SESSION_TOKEN_PREFIX,
} from './auth.constants';
import { SessionEntity } from './session.entity';
import { UserEntity } from './user.entity';

/** sha256 hex of a token (one-shot `crypto.hash`, Node >= 20.12). */
const sha256 = (s: string) => hash('sha256', s, 'hex');
/**
 * How long a resolved credential is reused without a database read (ms). Revocations, logouts and user changes clear
 * the cache of every instance before the call that made them returns (InternalBus.emitClustered over Redis); only an
 * instance that does not acknowledge within CLUSTER_BUS_ACK_TIMEOUT_MS could keep a stale entry, for at most this time.
 */
export const CREDENTIAL_CACHE_TTL_MS = 5000;
const CREDENTIAL_CACHE_MAX = 10_000;
/** Privilege order of roles (agent keys are bound to an agent, not a user). */
const ROLE_RANK: Record<Role, number> = { viewer: 1, agent: 1, operator: 2, admin: 3 };
/** A hash to verify against when the user does not exist, so timing does not reveal usernames. */
let DUMMY_HASH: string | null = null;

/** A resolved credential: the principal plus the session/key it came from. */
export interface ResolvedPrincipal extends Principal {
  sessionId: string | null;
}

export function toUserDto(u: UserEntity): UserDto {
  return { id: u.id, username: u.username, role: u.role, disabled: u.disabled, createdAt: u.createdAt };
}

export function toApiKeyDto(k: ApiKeyEntity): ApiKeyDto {
  return {
    id: k.id,
    label: k.label,
    role: k.role,
    prefix: k.prefix,
    agentId: k.agentId,
    userId: k.userId,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  };
}

/**
 * Users (argon2id password hashes), cookie sessions and bearer API keys (sha256 of a 256-bit random key, shown
 * once). Emits `auth.login_failed`, `auth.key_created`, `auth.key_revoked` on the `security` channel; never a secret.
 */
@Injectable()
export class AuthService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');
  private lastUsedWrites = new Map<string, number>();
  /** sha256(token) -> resolved principal, for CREDENTIAL_CACHE_TTL_MS. */
  private readonly credentialCache = new Map<string, { principal: ResolvedPrincipal; until: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly bus: InternalBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The password generated on this first start (null otherwise); `takeGeneratedAdminPassword` hands it out once. */
  private generatedAdminPassword: string | null = null;

  onModuleInit(): void {
    this.bus.on('credential-revoked', (c) => this.forgetCredentials(c));
    this.bus.on('credential-changed', (c) => this.forgetCredentials(c));
  }

  /** First start with an empty users table: create the admin from ADMIN_PASSWORD or generate one (shown once). */
  async onApplicationBootstrap(): Promise<void> {
    const count = await this.dataSource.getRepository(UserEntity).count();
    if (count > 0) return;
    const generated = !this.config.ADMIN_PASSWORD;
    const password = this.config.ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
    await this.createUser({ username: this.config.ADMIN_USERNAME, password, role: 'admin' }, 'system');
    if (generated) {
      // shown once, on the console only (never to the event log): by the start banner (main.ts), or here when no
      // banner takes it within a second (an app embedded without main.ts)
      this.generatedAdminPassword = password;
      setTimeout(() => {
        const p = this.takeGeneratedAdminPassword();
        if (p) process.stdout.write(`\n  First start: created user "${this.config.ADMIN_USERNAME}" with generated password:\n\n      ${p}\n\n  Store it now; it is not shown again.\n\n`);
      }, 1000).unref();
    } else {
      this.logger.log(`First start: created user "${this.config.ADMIN_USERNAME}" from ADMIN_PASSWORD`);
    }
  }

  /** The generated first-start admin password, once (null after the first call, or when none was generated). */
  takeGeneratedAdminPassword(): string | null {
    const p = this.generatedAdminPassword;
    this.generatedAdminPassword = null;
    return p;
  }

  // ------------------------------------------------------------------ sessions

  /**
   * Verifies a username/password and opens a session.
   * @returns the session token for the cookie (never logged) and the principal.
   * @throws AppError `auth/invalid_credentials` (401); logs `auth.login_failed` with username and ip.
   */
  async login(username: string, password: string, ip: string): Promise<{ token: string; principal: ResolvedPrincipal }> {
    const user = await this.dataSource.getRepository(UserEntity).findOne({ where: { username } });
    DUMMY_HASH ??= await argonHash('dummy-password-for-timing');
    const ok = await argonVerify(user?.passwordHash ?? DUMMY_HASH, password).catch(() => false);
    if (!user || !ok || user.disabled) {
      await this.events.append([
        { type: 'auth.login_failed', source: 'auth', data: { username: username.slice(0, 64), ip, reason: user?.disabled ? 'disabled' : 'bad_credentials' } },
      ]);
      throw authError('auth/invalid_credentials', 'Invalid username or password', 401);
    }
    const token = SESSION_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = nowIso();
    const session: SessionEntity = {
      id: randomUUID(),
      tokenHash: sha256(token),
      userId: user.id,
      createdAt: now,
      updatedAt: now,
      expiresAt: new Date(Date.now() + this.config.SESSION_TTL_HOURS * 3_600_000).toISOString(),
    };
    await this.events.write(({ manager }) => manager.insert(SessionEntity, session));
    return { token, principal: this.userPrincipal(user, session.id) };
  }

  /** Ends the session of `token` (no-op if unknown) and disconnects its sockets. */
  async logout(token: string | undefined): Promise<void> {
    if (!token) return;
    const tokenHash = sha256(token);
    const session = await this.dataSource.getRepository(SessionEntity).findOne({ where: { tokenHash } });
    if (!session) return;
    await this.events.write(({ manager }) => manager.delete(SessionEntity, { id: session.id }));
    await this.bus.emitClustered('credential-revoked', { sessionId: session.id });
  }

  /**
   * Resolves a credential: an API key (`mck_…`) or a session token (`mcs_…`). `accept` says which kinds are valid in
   * the place it came from: the `Authorization: Bearer` header takes API keys only, the session cookie session
   * tokens only (a session token as bearer would skip the CSRF check; an API key as cookie would ride on the browser),
   * the Socket.IO handshake `auth.token` either.
   * @returns null for unknown, expired, revoked or disabled credentials, or one of a kind not accepted here.
   */
  async resolveToken(token: string | undefined | null, accept: 'api_key' | 'session' | 'any' = 'any'): Promise<ResolvedPrincipal | null> {
    if (!token || typeof token !== 'string' || token.length > 200) return null;
    const isKey = token.startsWith(API_KEY_PREFIX);
    if (!isKey && !token.startsWith(SESSION_TOKEN_PREFIX)) return null;
    if ((accept === 'api_key' && !isKey) || (accept === 'session' && isKey)) return null;
    const tokenHash = sha256(token);
    const now = Date.now();
    const cached = this.credentialCache.get(tokenHash);
    if (cached && cached.until > now) {
      if (cached.principal.apiKeyId) this.touchKey(cached.principal.apiKeyId);
      return cached.principal;
    }
    const resolved = isKey ? await this.resolveApiKey(tokenHash) : await this.resolveSession(tokenHash);
    if (!resolved) {
      this.credentialCache.delete(tokenHash);
      return null;
    }
    if (this.credentialCache.size >= CREDENTIAL_CACHE_MAX) this.credentialCache.clear();
    this.credentialCache.set(tokenHash, { principal: resolved.principal, until: Math.min(now + CREDENTIAL_CACHE_TTL_MS, resolved.expiresAt) });
    return resolved.principal;
  }

  /** Forgets cached credentials of a revoked key, an ended session or a changed user (bus `credential-revoked`). */
  forgetCredentials(c: CredentialRevoked): void {
    for (const [hash, { principal }] of this.credentialCache) {
      if (
        (c.apiKeyId && principal.apiKeyId === c.apiKeyId) ||
        (c.sessionId && principal.sessionId === c.sessionId) ||
        (c.userId && principal.userId === c.userId)
      ) {
        this.credentialCache.delete(hash);
      }
    }
  }

  private async resolveSession(tokenHash: string): Promise<{ principal: ResolvedPrincipal; expiresAt: number } | null> {
    const session = await this.dataSource.getRepository(SessionEntity).findOne({ where: { tokenHash } });
    if (!session || session.expiresAt < nowIso()) return null;
    const user = await this.dataSource.getRepository(UserEntity).findOne({ where: { id: session.userId } });
    if (!user || user.disabled) return null;
    return { principal: this.userPrincipal(user, session.id), expiresAt: Date.parse(session.expiresAt) };
  }

  private async resolveApiKey(keyHash: string): Promise<{ principal: ResolvedPrincipal; expiresAt: number } | null> {
    const row = await this.dataSource.getRepository(ApiKeyEntity).findOne({ where: { keyHash, revokedAt: IsNull() } });
    if (!row) return null;
    let username: string | null = null;
    let role = row.role;
    if (row.userId) {
      const user = await this.dataSource.getRepository(UserEntity).findOne({ where: { id: row.userId } });
      if (!user || user.disabled) return null;
      username = user.username;
      // a user-bound key never acts above its user's current role
      if (ROLE_RANK[user.role] < ROLE_RANK[role]) role = user.role;
    }
    this.touchKey(row.id);
    return {
      principal: { kind: 'api_key', userId: row.userId, username, role, agentId: row.agentId, apiKeyId: row.id, sessionId: null },
      expiresAt: Number.POSITIVE_INFINITY,
    };
  }

  /** Records lastUsedAt at most once a minute per key (off the request path). */
  private touchKey(id: string): void {
    const now = Date.now();
    if ((this.lastUsedWrites.get(id) ?? 0) > now - 60_000) return;
    this.lastUsedWrites.set(id, now);
    void this.events
      .write(({ manager }) => manager.update(ApiKeyEntity, { id }, { lastUsedAt: new Date(now).toISOString() }))
      .catch(() => undefined);
  }

  private userPrincipal(user: UserEntity, sessionId: string): ResolvedPrincipal {
    return { kind: 'user', userId: user.id, username: user.username, role: user.role, agentId: null, apiKeyId: null, sessionId };
  }

  // ------------------------------------------------------------------ users

  listUsers(): Promise<UserDto[]> {
    return this.dataSource
      .getRepository(UserEntity)
      .find({ order: { createdAt: 'ASC' } })
      .then((rows) => rows.map(toUserDto));
  }

  /** @throws AppError `auth/username_taken` (409). */
  async createUser(input: { username: string; password: string; role: UserRole }, actor: string): Promise<UserDto> {
    const passwordHash = await argonHash(input.password);
    const now = nowIso();
    const user: UserEntity = { id: randomUUID(), username: input.username, passwordHash, role: input.role, disabled: false, createdAt: now, updatedAt: now };
    await this.events.write(async ({ manager, append }) => {
      if (await manager.exists(UserEntity, { where: { username: input.username } })) {
        throw authError('auth/username_taken', `Username "${input.username}" is taken`, 409);
      }
      await manager.insert(UserEntity, user);
      append({ type: 'system.info', source: 'auth', data: { message: `user ${user.username} created`, userId: user.id, role: user.role, by: actor } });
    });
    return toUserDto(user);
  }

  /**
   * Changes role, password or disabled flag. Disabling a user or changing its password ends its sessions; disabling
   * also revokes the user's API keys (one `auth.key_revoked` each), so re-enabling the user does not revive them.
   * @throws AppError `auth/user_not_found` (404), `auth/last_admin` (409) when it would leave no active admin.
   */
  async updateUser(id: string, patch: { role?: UserRole; password?: string; disabled?: boolean }, actor: string): Promise<UserDto> {
    const passwordHash = patch.password ? await argonHash(patch.password) : undefined;
    let revokedKeys: ApiKeyEntity[] = [];
    const updated = await this.events.write(async ({ manager, append }) => {
      const user = await manager.findOne(UserEntity, { where: { id } });
      if (!user) throw authError('auth/user_not_found', `User ${id} not found`, 404);
      const demotes = (patch.role && patch.role !== 'admin') || patch.disabled === true;
      if (user.role === 'admin' && demotes) {
        const admins = await manager.count(UserEntity, { where: { role: 'admin', disabled: false } });
        if (admins <= 1) throw authError('auth/last_admin', 'Cannot demote or disable the last admin', 409);
      }
      if (patch.role) user.role = patch.role;
      if (patch.disabled !== undefined) user.disabled = patch.disabled;
      if (passwordHash) user.passwordHash = passwordHash;
      user.updatedAt = nowIso();
      await manager.save(UserEntity, user);
      if (patch.disabled || passwordHash) await manager.delete(SessionEntity, { userId: id });
      if (patch.disabled === true) {
        revokedKeys = await manager.find(ApiKeyEntity, { where: { userId: id, revokedAt: IsNull() } });
        const now = nowIso();
        for (const k of revokedKeys) {
          await manager.update(ApiKeyEntity, { id: k.id }, { revokedAt: now, updatedAt: now });
          append({ type: 'auth.key_revoked', source: 'auth', agentId: k.agentId, data: { apiKeyId: k.id, label: k.label, prefix: k.prefix, by: actor } });
        }
      }
      append({
        type: 'system.info',
        source: 'auth',
        data: { message: `user ${user.username} updated`, userId: id, role: user.role, disabled: user.disabled, passwordChanged: Boolean(passwordHash), by: actor },
      });
      return user;
    });
    // a role change takes effect on the next request, on every instance
    if (patch.disabled || passwordHash) await this.bus.emitClustered('credential-revoked', { userId: id });
    else await this.bus.emitClustered('credential-changed', { userId: id });
    await this.announceRevoked(revokedKeys.map((k) => k.id));
    return toUserDto(updated);
  }

  // ------------------------------------------------------------------ api keys

  /**
   * Keys, newest first; only `ownerUserId`'s when given. `role` is the role the key acts with now: a user-bound key
   * never acts above its user's current role, so after a demotion the list shows the demoted role.
   */
  async listApiKeys(ownerUserId?: string): Promise<ApiKeyDto[]> {
    const rows = await this.dataSource
      .getRepository(ApiKeyEntity)
      .find({ where: ownerUserId ? { userId: ownerUserId } : {}, order: { createdAt: 'DESC' } });
    const users = new Map((await this.dataSource.getRepository(UserEntity).find({ select: { id: true, role: true } })).map((u) => [u.id, u.role]));
    return rows.map((k) => {
      const dto = toApiKeyDto(k);
      const userRole = k.userId ? users.get(k.userId) : undefined;
      if (userRole && ROLE_RANK[userRole] < ROLE_RANK[dto.role]) dto.role = userRole;
      return dto;
    });
  }

  /**
   * Creates an API key inside the caller's unit of work (so an agent and its key commit together) and appends
   * `auth.key_created` there.
   * @returns the row and the secret key (shown once).
   */
  async issueApiKeyInTx(
    tx: WriteContext,
    input: { label: string; role: Role; userId: string | null; agentId: string | null; actor: string },
  ): Promise<{ apiKey: ApiKeyDto; key: string }> {
    const { manager, append } = tx;
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const now = nowIso();
    const row: ApiKeyEntity = {
      id: randomUUID(),
      label: input.label,
      role: input.role,
      prefix: key.slice(0, 8),
      keyHash: sha256(key),
      userId: input.userId,
      agentId: input.agentId,
      createdAt: now,
      updatedAt: now,
      lastUsedAt: null,
      revokedAt: null,
    };
    await manager.insert(ApiKeyEntity, row);
    append({
      type: 'auth.key_created',
      source: 'auth',
      agentId: input.agentId,
      data: { apiKeyId: row.id, label: row.label, role: row.role, prefix: row.prefix, by: input.actor },
    });
    return { apiKey: toApiKeyDto(row), key };
  }

  /**
   * Creates a user-bound key (admin/operator/viewer) for scripts: bound to the caller, or (admins only) to the user
   * `forUserId` (how a viewer, who may not create keys, gets a read-only key).
   * @throws AppError `auth/agent_key_via_agents` (400) for role agent (use POST /api/agents/{id}/keys),
   *   `auth/role_too_high` (403) when asking for a role above the caller's (or the bound user's),
   *   `auth/forbidden` (403) when a non-admin names a user, `auth/user_not_found` (404).
   */
  async createUserApiKey(label: string, role: Role, caller: Principal, forUserId?: string): Promise<{ apiKey: ApiKeyDto; key: string }> {
    if (role === 'agent') {
      throw authError('auth/agent_key_via_agents', 'Agent keys are created with POST /api/agents or POST /api/agents/{id}/keys', 400);
    }
    if (ROLE_RANK[role] > ROLE_RANK[caller.role]) throw authError('auth/role_too_high', `Cannot create a ${role} key as ${caller.role}`, 403);
    if (forUserId !== undefined && forUserId !== caller.userId && caller.role !== 'admin') {
      throw authError('auth/forbidden', 'Only admins create keys for other users', 403);
    }
    return this.events.write(async (tx) => {
      const { manager } = tx;
      const userId = forUserId ?? caller.userId;
      if (forUserId !== undefined) {
        const user = await manager.findOne(UserEntity, { where: { id: forUserId } });
        if (!user || user.disabled) throw authError('auth/user_not_found', `User ${forUserId} not found`, 404);
        if (ROLE_RANK[role] > ROLE_RANK[user.role]) throw authError('auth/role_too_high', `Cannot create a ${role} key for a ${user.role}`, 403);
      }
      return this.issueApiKeyInTx(tx, { label, role, userId, agentId: null, actor: caller.username ?? 'api' });
    });
  }

  /**
   * Revokes a key (idempotent) and disconnects its sockets.
   * @throws AppError `auth/key_not_found` (404).
   */
  async revokeApiKey(id: string, actor: string, ownerUserId?: string): Promise<ApiKeyDto> {
    const row = await this.events.write(async ({ manager, append }) => {
      const key = await manager.findOne(ApiKeyEntity, { where: { id } });
      if (!key || (ownerUserId !== undefined && key.userId !== ownerUserId)) throw authError('auth/key_not_found', `API key ${id} not found`, 404);
      if (!key.revokedAt) {
        key.revokedAt = nowIso();
        key.updatedAt = key.revokedAt;
        await manager.save(ApiKeyEntity, key);
        append({ type: 'auth.key_revoked', source: 'auth', agentId: key.agentId, data: { apiKeyId: key.id, label: key.label, prefix: key.prefix, by: actor } });
      }
      return key;
    });
    await this.bus.emitClustered('credential-revoked', { apiKeyId: id });
    return toApiKeyDto(row);
  }

  /**
   * Revokes every active key bound to an agent inside the caller's unit of work, appending one `auth.key_revoked`
   * `{ apiKeyId, label, prefix, by, reason }` per key; returns their ids (pass them to `announceRevoked` after commit).
   */
  async revokeAgentKeysInTx(tx: WriteContext, agentId: string, by: string, reason: string): Promise<string[]> {
    const keys = await tx.manager.find(ApiKeyEntity, { where: { agentId, revokedAt: IsNull() } });
    const now = nowIso();
    for (const k of keys) {
      await tx.manager.update(ApiKeyEntity, { id: k.id }, { revokedAt: now, updatedAt: now });
      tx.append({ type: 'auth.key_revoked', source: 'auth', agentId, data: { apiKeyId: k.id, label: k.label, prefix: k.prefix, by, reason } });
    }
    return keys.map((k) => k.id);
  }

  /**
   * Drops these keys from every instance's credential cache and disconnects their sockets (call after the revoking
   * transaction commits); resolves once the other instances acknowledged (InternalBus.emitClustered).
   */
  async announceRevoked(apiKeyIds: string[]): Promise<void> {
    await Promise.all(apiKeyIds.map((apiKeyId) => this.bus.emitClustered('credential-revoked', { apiKeyId })));
  }
}
