import { ApiProperty } from '@nestjs/swagger';
import type {
  AgentBalanceDto,
  DecodedInvoiceDto,
  LedgerAccountDto,
  LedgerAccountKind,
  LedgerBalanceDto,
  LedgerBalancesDto,
  LedgerPage,
  LedgerTransactionDto,
  LedgerTransactionStatus,
  LedgerTransactionType,
  LedgerTransferDto,
  LedgerTransferKind,
} from '@app/contracts';

/** Swagger schemas of the ledger's responses (every amount is integer msat). */
export class LedgerAccountResponseDto implements LedgerAccountDto {
  @ApiProperty({ example: 'treasury', description: 'node, treasury, fees or agent:<agentId>' }) id: string;
  @ApiProperty({ enum: ['node', 'treasury', 'fees', 'agent'] }) kind: LedgerAccountKind;
  @ApiProperty({ nullable: true, type: String }) agentId: string | null;
  @ApiProperty() noNegative: boolean;
  @ApiProperty() debitsPostedMsat: number;
  @ApiProperty() creditsPostedMsat: number;
  @ApiProperty() debitsPendingMsat: number;
  @ApiProperty() creditsPendingMsat: number;
  @ApiProperty({ description: 'credits posted - debits posted' }) balanceMsat: number;
  @ApiProperty({ description: 'credits posted - debits posted - debits pending' }) availableMsat: number;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class LedgerTransferResponseDto implements LedgerTransferDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['single', 'pending', 'post', 'void', 'expire'] }) kind: LedgerTransferKind;
  @ApiProperty() debitAccountId: string;
  @ApiProperty() creditAccountId: string;
  @ApiProperty() amountMsat: number;
  @ApiProperty({ nullable: true, type: String }) pendingId: string | null;
  @ApiProperty({ nullable: true, type: String }) timeoutAt: string | null;
  @ApiProperty({ example: 'payment' }) purpose: string;
  @ApiProperty({ nullable: true, type: String }) ref: string | null;
  @ApiProperty({ nullable: true, type: String }) idempotencyKey: string | null;
  @ApiProperty() createdAt: string;
}

export class LedgerTransactionResponseDto implements LedgerTransactionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['incoming', 'outgoing'] }) type: LedgerTransactionType;
  @ApiProperty({ enum: ['pending', 'settled', 'failed', 'expired'] }) status: LedgerTransactionStatus;
  @ApiProperty() paymentHash: string;
  @ApiProperty() bolt11: string;
  @ApiProperty({ nullable: true, type: String, description: 'Only once settled' }) preimage: string | null;
  @ApiProperty() amountMsat: number;
  @ApiProperty() feeMsat: number;
  @ApiProperty() maxFeeMsat: number;
  @ApiProperty() memo: string;
  @ApiProperty() accountId: string;
  @ApiProperty({ nullable: true, type: String }) taskId: string | null;
  @ApiProperty({ nullable: true, type: String }) agentId: string | null;
  @ApiProperty({ nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ nullable: true, type: String }) failureReason: string | null;
  @ApiProperty({ nullable: true, type: String }) idempotencyKey: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) settledAt: string | null;
}

export class LedgerTransactionPageDto implements LedgerPage<LedgerTransactionDto> {
  @ApiProperty({ type: [LedgerTransactionResponseDto] }) items: LedgerTransactionDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class LedgerBalanceResponseDto implements LedgerBalanceDto {
  @ApiProperty() accountId: string;
  @ApiProperty() incomingSettledMsat: number;
  @ApiProperty() outgoingSettledMsat: number;
  @ApiProperty() feesMsat: number;
  @ApiProperty() pendingIncomingMsat: number;
  @ApiProperty({ description: 'amount + fee limit of payments in flight' }) pendingOutgoingMsat: number;
  @ApiProperty({ description: 'incoming - outgoing - fees' }) netMsat: number;
  @ApiProperty({ description: 'net - pending outgoing' }) availableMsat: number;
}

export class LedgerBalancesResponseDto implements LedgerBalancesDto {
  @ApiProperty({ type: LedgerBalanceResponseDto }) node: LedgerBalanceDto;
  @ApiProperty({ type: LedgerAccountResponseDto }) treasury: LedgerAccountDto;
  @ApiProperty({ type: LedgerAccountResponseDto }) fees: LedgerAccountDto;
  @ApiProperty({ type: [LedgerAccountResponseDto] }) agents: LedgerAccountDto[];
}

export class AgentBalanceResponseDto implements AgentBalanceDto {
  @ApiProperty({ type: LedgerAccountResponseDto }) account: LedgerAccountDto;
  @ApiProperty({ type: LedgerBalanceResponseDto }) lightning: LedgerBalanceDto;
}

export class DecodedInvoiceResponseDto implements DecodedInvoiceDto {
  @ApiProperty() paymentHash: string;
  @ApiProperty({ example: 'regtest' }) network: string;
  @ApiProperty({ nullable: true, type: Number }) amountMsat: number | null;
  @ApiProperty() description: string;
  @ApiProperty({ description: 'payee node public key (hex)' }) payee: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() expiresAt: string;
  @ApiProperty() expired: boolean;
  @ApiProperty({ description: 'issued by our own node' }) internal: boolean;
}

export class RemoteInvoiceResponseDto {
  @ApiProperty() bolt11: string;
  @ApiProperty() paymentHash: string;
  @ApiProperty() expiresAt: string;
}

export class ReconciliationDifferenceDto {
  @ApiProperty({ example: 'invoice_settled_on_node_only' }) kind: string;
  @ApiProperty({ nullable: true, type: String }) paymentHash: string | null;
  @ApiProperty() ledger: string;
  @ApiProperty() node: string;
}

export class ReconciliationReportResponseDto {
  @ApiProperty() checkedAt: string;
  @ApiProperty() backend: string;
  @ApiProperty() ok: boolean;
  @ApiProperty() nodeBalanceMsat: number;
  @ApiProperty() ledgerNetMsat: number;
  @ApiProperty() invoicesChecked: number;
  @ApiProperty() paymentsChecked: number;
  @ApiProperty({ type: [ReconciliationDifferenceDto] }) differences: ReconciliationDifferenceDto[];
}
