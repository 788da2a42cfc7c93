import type { CircuitState } from '@app/contracts';
import type { CircuitBreakerConfig } from './llm-router.types';

/** A state transition, reported to the owner (who turns it into a `router.provider_state_changed` event). */
export interface CircuitTransition {
  from: CircuitState;
  to: CircuitState;
  reason: string;
}

/** Result of asking the breaker whether a request may go to the provider. */
export type Admission = { allowed: true; trial: boolean } | { allowed: false; reason: 'circuit_open' | 'half_open_busy'; retryInMs: number };

/**
 * Per-provider circuit breaker. Pure state machine; `now()` is injected (ms).
 *
 * - closed -> open after `failureThreshold` consecutive failures (a success resets the count).
 * - open: every request is refused at once (never waits); after `recoveryTimeoutMs` the next `admit()` moves it to
 *   half_open.
 * - half_open: at most `halfOpenMaxCalls` trial requests are admitted; when that many trials have succeeded the circuit
 *   closes; any failed trial re-opens it (with a fresh `openedAt`). Requests beyond the trial budget are refused.
 *   A passed health probe is a trial too (`probeSucceeded`), so a recovered provider closes without user traffic.
 *
 * Unlike the prototype, nothing else (error rate, status) can make a provider unusable: a provider whose first
 * requests fail is admitted again on the next request while the circuit is closed, and is re-admitted after the
 * recovery timeout when open.
 */
export class CircuitBreaker {
  private stateValue: CircuitState = 'closed';
  private consecutive = 0;
  private openedAtMs: number | null = null;
  private trialsAdmitted = 0;
  private trialsSucceeded = 0;
  private closedAtMs = 0;

  constructor(
    private readonly cfg: CircuitBreakerConfig,
    private readonly now: () => number = Date.now,
    private readonly onTransition: (t: CircuitTransition) => void = () => undefined,
  ) {}

  get state(): CircuitState {
    return this.stateValue;
  }

  get consecutiveFailures(): number {
    return this.consecutive;
  }

  /** When the circuit last went back to closed (epoch ms; 0 = never opened). */
  get lastClosedAt(): number {
    return this.closedAtMs;
  }

  /** When the circuit last opened (epoch ms) or null. */
  get openedAt(): number | null {
    return this.openedAtMs;
  }

  /** True when a request would be admitted now, without changing state (used for "preferred provider"). */
  wouldAdmit(): boolean {
    if (this.stateValue === 'closed') return true;
    if (this.stateValue === 'open') return this.now() - (this.openedAtMs ?? 0) >= this.cfg.recoveryTimeoutMs;
    return this.trialsAdmitted < this.cfg.halfOpenMaxCalls;
  }

  /** Asks to send one request. Moves open -> half_open when the recovery timeout has passed. */
  admit(): Admission {
    if (this.stateValue === 'open') {
      const waited = this.now() - (this.openedAtMs ?? 0);
      if (waited < this.cfg.recoveryTimeoutMs) {
        return { allowed: false, reason: 'circuit_open', retryInMs: this.cfg.recoveryTimeoutMs - waited };
      }
      this.transition('half_open', `recovery timeout of ${this.cfg.recoveryTimeoutMs} ms passed`);
      this.trialsAdmitted = 0;
      this.trialsSucceeded = 0;
    }
    if (this.stateValue === 'half_open') {
      if (this.trialsAdmitted >= this.cfg.halfOpenMaxCalls) return { allowed: false, reason: 'half_open_busy', retryInMs: 0 };
      this.trialsAdmitted++;
      return { allowed: true, trial: true };
    }
    return { allowed: true, trial: false };
  }

  /** Records a successful call. */
  onSuccess(): void {
    this.consecutive = 0;
    if (this.stateValue === 'half_open') {
      this.trialsSucceeded++;
      if (this.trialsSucceeded >= this.cfg.halfOpenMaxCalls) {
        this.openedAtMs = null;
        this.transition('closed', `${this.trialsSucceeded} trial request(s) succeeded`);
      }
    }
  }

  /** Records a failed call (only failures that say something about the provider's health). */
  onFailure(reason: string): void {
    this.consecutive++;
    if (this.stateValue === 'half_open') {
      this.openedAtMs = this.now();
      this.transition('open', `trial request failed: ${reason}`);
      return;
    }
    if (this.stateValue === 'closed' && this.consecutive >= this.cfg.failureThreshold) {
      this.openedAtMs = this.now();
      this.transition('open', `${this.consecutive} consecutive failures (last: ${reason})`);
    }
  }

  /** Releases a trial slot that ended without a verdict (caller aborted, 4xx). */
  releaseTrial(): void {
    if (this.stateValue === 'half_open' && this.trialsAdmitted > this.trialsSucceeded) this.trialsAdmitted--;
  }

  /** Operator reset (or a passed probe after an outage): closed, counters cleared. */
  reset(reason: string): void {
    this.consecutive = 0;
    this.openedAtMs = null;
    this.trialsAdmitted = 0;
    this.trialsSucceeded = 0;
    if (this.stateValue !== 'closed') this.transition('closed', reason);
  }

  /**
   * A trial health probe (reachability plus a one-token completion) succeeded: it is a successful trial (issue 12).
   * open -> half_open (the probe ends the open wait early), and in half_open it counts as one succeeded trial, so
   * `halfOpenMaxCalls` passed trials (probes or requests) close the circuit without user traffic. No effect while closed.
   * @returns true while the circuit is still half-open and wants another trial
   */
  probeSucceeded(): boolean {
    if (this.stateValue === 'closed') return false;
    if (this.stateValue === 'open') {
      this.trialsAdmitted = 0;
      this.trialsSucceeded = 0;
      this.transition('half_open', 'health probe succeeded');
    }
    this.trialsSucceeded++;
    this.trialsAdmitted++;
    if (this.trialsSucceeded >= this.cfg.halfOpenMaxCalls) {
      this.consecutive = 0;
      this.openedAtMs = null;
      this.transition('closed', `${this.trialsSucceeded} trial(s) succeeded (health probes and requests)`);
      return false;
    }
    return true;
  }

  /** A trial health probe failed: a half-open circuit re-opens (a failed trial); closed and open circuits are unchanged. */
  probeFailed(reason: string): void {
    if (this.stateValue !== 'half_open') return;
    this.openedAtMs = this.now();
    this.transition('open', `trial health probe failed: ${reason}`);
  }

  /** Trials that succeeded in the current half-open period / trials needed to close (for the status text). */
  get trialProgress(): { succeeded: number; needed: number } {
    return { succeeded: this.trialsSucceeded, needed: this.cfg.halfOpenMaxCalls };
  }

  /** Restores persisted state at boot (no transition reported). */
  restore(state: CircuitState, consecutiveFailures: number, openedAt: number | null): void {
    this.stateValue = state === 'half_open' ? 'open' : state;
    this.consecutive = consecutiveFailures;
    this.openedAtMs = this.stateValue === 'open' ? (openedAt ?? this.now()) : null;
  }

  private transition(to: CircuitState, reason: string): void {
    const from = this.stateValue;
    if (from === to) return;
    this.stateValue = to;
    if (to === 'closed') this.closedAtMs = this.now();
    this.onTransition({ from, to, reason });
  }
}
