import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { LedgerTransactionDto } from '@app/contracts';
import { LedgerTransactionResponseDto, RemoteInvoiceResponseDto } from './dto/ledger-responses.dto';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { Roles } from '../common/decorators/auth.decorators';
import { assertMsat } from './accounting';
import { MockLightningBackend } from './backends/mock-lightning.backend';
import { DevRemoteInvoiceDto, DevResolvePaymentDto, DevSettleDto } from './dto/ledger.dto';
import { ledgerError } from './ledger.errors';
import { LedgerService } from './ledger.service';

const HASH = /^[0-9a-f]{64}$/;

/**
 * `/api/ledger/dev`: drive the mock Lightning node (admin only; 400 `ledger/not_mock_backend` unless
 * LIGHTNING_BACKEND=mock). Settle one of our invoices as if an outside payer paid it, create invoices of the
 * simulated remote peer with a chosen payment outcome, and finish in-flight payments.
 */
@ApiTags('ledger')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/ledger/dev')
export class LedgerDevController {
  constructor(private readonly ledger: LedgerService) {}

  private mock(): MockLightningBackend {
    const b = this.ledger.backend;
    if (!(b instanceof MockLightningBackend)) throw ledgerError('ledger/not_mock_backend', 'Dev endpoints work only with LIGHTNING_BACKEND=mock', 400);
    return b;
  }

  @Post('invoices/:hash/settle')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Mock only: an outside payer pays our invoice (optional preimage must match)' })
  @ApiErrors(400, 401, 403, 404, 409)
  @ApiOkResponse({ type: LedgerTransactionResponseDto })
  async settle(@Param('hash') hash: string, @Body() dto: DevSettleDto): Promise<LedgerTransactionDto> {
    const mock = this.mock();
    if (!HASH.test(hash)) throw ledgerError('ledger/bad_ref', 'hash must be a 64-hex payment_hash', 400);
    if (dto.preimage !== undefined && !HASH.test(dto.preimage)) throw ledgerError('ledger/invalid_preimage', 'preimage must be 64 lowercase hex characters', 400);
    await this.ledger.transaction(hash, 'incoming'); // 404 before the node is touched
    await mock.settleInvoice(hash, dto.preimage);
    return this.ledger.transaction(hash, 'incoming');
  }

  @Post('remote-invoices')
  @Roles('admin')
  @ApiOperation({ summary: 'Mock only: an invoice of the simulated remote peer; paying it gives the chosen outcome' })
  @ApiErrors(400, 401, 403)
  @ApiCreatedResponse({ type: RemoteInvoiceResponseDto })
  async remoteInvoice(@Body() dto: DevRemoteInvoiceDto): Promise<{ bolt11: string; paymentHash: string; expiresAt: string }> {
    const mock = this.mock();
    const amountMsat = dto.amountMsat === undefined ? null : assertMsat(dto.amountMsat);
    return mock.createRemoteInvoice({
      amountMsat,
      memo: dto.memo ?? '',
      expirySeconds: dto.expirySeconds ?? 3600,
      outcome: dto.outcome ?? 'succeed',
      reason: dto.reason,
      feeMsat: dto.feeMsat,
    });
  }

  @Post('payments/:hash/resolve')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Mock only: finish an in-flight payment to the remote peer' })
  @ApiErrors(400, 401, 403, 404)
  @ApiOkResponse({ type: LedgerTransactionResponseDto })
  async resolve(@Param('hash') hash: string, @Body() dto: DevResolvePaymentDto): Promise<LedgerTransactionDto> {
    const mock = this.mock();
    if (!HASH.test(hash)) throw ledgerError('ledger/bad_ref', 'hash must be a 64-hex payment_hash', 400);
    await mock.resolveRemotePayment(hash, dto.outcome, dto.reason, dto.feeMsat ?? 0);
    return this.ledger.transaction(hash, 'outgoing');
  }
}
