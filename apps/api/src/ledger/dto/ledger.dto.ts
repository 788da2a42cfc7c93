import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsTimestamp, Optional } from '../../common/validation';
import { IsIn, IsInt, IsNumber, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import {
  LEDGER_TRANSACTION_STATUSES,
  LEDGER_TRANSACTION_TYPES,
  type CreateInvoiceRequest,
  type LedgerTransactionStatus,
  type LedgerTransactionType,
  type PayInvoiceRequest,
} from '@app/contracts';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const finite = { allowNaN: false, allowInfinity: false } as const;

export class CreateInvoiceDto implements CreateInvoiceRequest {
  @ApiProperty({ example: 150_000, description: 'Integer msat, 1..2^53-1 (150,000 msat = 150 sats)' })
  @IsNumber(finite)
  amountMsat: number;

  @ApiPropertyOptional({ maxLength: 639, example: 'treasury top-up' })
  @Optional() @IsString() @MaxLength(639)
  memo?: string;

  @ApiPropertyOptional({ minimum: 60, maximum: 604800, default: 3600 })
  @Optional() @IsInt() @Min(60) @Max(604800)
  expirySeconds?: number;

  @ApiPropertyOptional({ description: "Credit this agent's account instead of the treasury" })
  @Optional() @IsString() @Matches(ID)
  agentId?: string;

  @ApiPropertyOptional()
  @Optional() @IsString() @Matches(ID)
  taskId?: string;

  @ApiPropertyOptional({ description: 'Client-chosen key: the same key returns the same invoice', maxLength: 128 })
  @Optional() @IsString() @MaxLength(128)
  idempotencyKey?: string;
}

export class PayInvoiceDto implements PayInvoiceRequest {
  @ApiProperty({ description: 'BOLT11 payment request' })
  @IsString() @MaxLength(4096)
  bolt11: string;

  @ApiPropertyOptional({ description: 'msat; required for amountless invoices, must equal the invoice amount otherwise' })
  @Optional() @IsNumber(finite)
  amountMsat?: number;

  @ApiPropertyOptional({ description: 'Fee limit in msat (default: max(LEDGER_DEFAULT_MAX_FEE_MSAT, 1 % of the amount))' })
  @Optional() @IsNumber(finite)
  maxFeeMsat?: number;

  @ApiPropertyOptional({ description: "Operators: pay from this agent's account (agents always pay from their own)" })
  @Optional() @IsString() @Matches(ID)
  agentId?: string;

  @ApiPropertyOptional({ maxLength: 128 })
  @Optional() @IsString() @MaxLength(128)
  idempotencyKey?: string;
}

export class DecodeDto {
  @ApiProperty() @IsString() @MaxLength(4096) bolt11: string;
}

export class TransactionQueryDto {
  @ApiPropertyOptional({ enum: LEDGER_TRANSACTION_TYPES }) @Optional() @IsIn(LEDGER_TRANSACTION_TYPES as unknown as string[]) type?: LedgerTransactionType;
  @ApiPropertyOptional({ enum: LEDGER_TRANSACTION_STATUSES }) @Optional() @IsIn(LEDGER_TRANSACTION_STATUSES as unknown as string[]) status?: LedgerTransactionStatus;
  @ApiPropertyOptional() @Optional() @IsString() @Matches(ID) agentId?: string;
  @ApiPropertyOptional() @Optional() @IsString() @Matches(ID) taskId?: string;
  @ApiPropertyOptional({ description: 'ISO-8601, inclusive' }) @Optional() @IsTimestamp() from?: string;
  @ApiPropertyOptional({ description: 'ISO-8601, exclusive' }) @Optional() @IsTimestamp() to?: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(200) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class TransferQueryDto {
  @ApiPropertyOptional({ description: 'node, treasury, fees or agent:<id>' }) @Optional() @IsString() @Matches(/^(node|treasury|fees|agent:[A-Za-z0-9_-]{1,64})$/) accountId?: string;
  @ApiPropertyOptional({ description: 'payment_hash or task id' }) @Optional() @IsString() @MaxLength(128) ref?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class DevSettleDto {
  @ApiPropertyOptional({ description: 'If given, must hash (sha256) to the payment_hash' })
  @Optional() @IsString() @MaxLength(128)
  preimage?: string;
}

export class DevRemoteInvoiceDto {
  @ApiPropertyOptional({ description: 'msat; omit for an amountless invoice' }) @Optional() @IsNumber(finite) amountMsat?: number;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(639) memo?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 604800, default: 3600 }) @Optional() @IsInt() @Min(1) @Max(604800) expirySeconds?: number;
  @ApiPropertyOptional({ enum: ['succeed', 'fail', 'in_flight'], default: 'succeed' }) @Optional() @IsIn(['succeed', 'fail', 'in_flight']) outcome?: 'succeed' | 'fail' | 'in_flight';
  @ApiPropertyOptional({ example: 'FAILURE_REASON_NO_ROUTE' }) @Optional() @IsString() @Matches(/^FAILURE_REASON_[A-Z_]{1,48}$/) reason?: string;
  @ApiPropertyOptional({ description: 'Routing fee on success, msat' }) @Optional() @IsInt() @Min(0) feeMsat?: number;
}

export class DevResolvePaymentDto {
  @ApiProperty({ enum: ['succeed', 'fail'] }) @IsIn(['succeed', 'fail']) outcome: 'succeed' | 'fail';
  @ApiPropertyOptional() @Optional() @IsString() @Matches(/^FAILURE_REASON_[A-Z_]{1,48}$/) reason?: string;
  @ApiPropertyOptional() @Optional() @IsInt() @Min(0) feeMsat?: number;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: ['csv', 'ndjson'], default: 'csv' }) @Optional() @IsIn(['csv', 'ndjson']) format?: 'csv' | 'ndjson';
  @ApiPropertyOptional({ enum: LEDGER_TRANSACTION_TYPES }) @Optional() @IsIn(LEDGER_TRANSACTION_TYPES as unknown as string[]) type?: LedgerTransactionType;
  @ApiPropertyOptional({ enum: LEDGER_TRANSACTION_STATUSES }) @Optional() @IsIn(LEDGER_TRANSACTION_STATUSES as unknown as string[]) status?: LedgerTransactionStatus;
  @ApiPropertyOptional() @Optional() @IsString() @Matches(ID) agentId?: string;
  @ApiPropertyOptional({ description: 'ISO-8601, inclusive' }) @Optional() @IsTimestamp() from?: string;
  @ApiPropertyOptional({ description: 'ISO-8601, exclusive' }) @Optional() @IsTimestamp() to?: string;
}
