import type { LedgerAccountDto, LedgerBalancesDto, LedgerTransactionDto } from '@app/contracts';

/** Test data of the ledger feature's tests (wire shapes from @app/contracts). */

/** A transaction (settled incoming 1,000 sats to the treasury unless overridden). */
export function tx(over: Partial<LedgerTransactionDto> = {}): LedgerTransactionDto {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    type: 'incoming',
    status: 'settled',
    paymentHash: 'a'.repeat(64),
    bolt11: 'lnbcrt1fake',
    preimage: null,
    amountMsat: 1_000_000,
    feeMsat: 0,
    maxFeeMsat: 0,
    memo: '',
    accountId: 'treasury',
    taskId: null,
    agentId: null,
    expiresAt: null,
    failureReason: null,
    idempotencyKey: null,
    createdAt: '2026-01-01T10:00:00.000Z',
    settledAt: '2026-01-01T10:00:05.000Z',
    ...over,
  };
}

/** An account (the empty treasury unless overridden). */
export function account(over: Partial<LedgerAccountDto> = {}): LedgerAccountDto {
  return {
    id: 'treasury',
    kind: 'treasury',
    agentId: null,
    noNegative: true,
    debitsPostedMsat: 0,
    creditsPostedMsat: 0,
    debitsPendingMsat: 0,
    creditsPendingMsat: 0,
    balanceMsat: 0,
    availableMsat: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** A balances response: the node formula overridden by `over`, empty treasury and fees, `agents`. */
export function balances(over: Partial<LedgerBalancesDto['node']> = {}, agents: LedgerAccountDto[] = []): LedgerBalancesDto {
  return {
    node: {
      accountId: 'node',
      incomingSettledMsat: 0,
      outgoingSettledMsat: 0,
      feesMsat: 0,
      pendingIncomingMsat: 0,
      pendingOutgoingMsat: 0,
      netMsat: 0,
      availableMsat: 0,
      ...over,
    },
    treasury: account(),
    fees: account({ id: 'fees', kind: 'fees' }),
    agents,
  };
}
