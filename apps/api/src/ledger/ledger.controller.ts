import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import { Readable } from 'node:stream';
import * as QRCode from 'qrcode';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiCreatedResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type {
  AgentBalanceDto,
  DecodedInvoiceDto,
  LedgerAccountDto,
  LedgerBalancesDto,
  LedgerPage,
  LedgerTransactionDto,
  LedgerTransferDto,
  Principal,
  ReconciliationReportDto,
} from '@app/contracts';
import { AgentBalanceResponseDto, DecodedInvoiceResponseDto, LedgerAccountResponseDto, LedgerBalancesResponseDto, LedgerTransactionPageDto, LedgerTransactionResponseDto, LedgerTransferResponseDto, ReconciliationReportResponseDto } from './dto/ledger-responses.dto';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../common/decorators/auth.decorators';
import { CreateInvoiceDto, DecodeDto, ExportQueryDto, PayInvoiceDto, TransactionQueryDto, TransferQueryDto } from './dto/ledger.dto';
import { agentAccountId } from './accounting';
import { LedgerService } from './ledger.service';
import { ReconciliationService } from './reconciliation.service';
import { ledgerError } from './ledger.errors';

/** Column order of the CSV export (stable: add new columns at the end only). */
export const EXPORT_COLUMNS = [
  'createdAt',
  'id',
  'type',
  'status',
  'amountMsat',
  'feeMsat',
  'paymentHash',
  'memo',
  'accountId',
  'agentId',
  'taskId',
  'settledAt',
  'expiresAt',
  'failureReason',
  'bolt11',
] as const;

const HASH = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f-]{36}$/;

/** Checks a `:ref` route parameter (uuid or payment_hash). @throws 400 `request/invalid_id`. */
function refParam(v: string): string {
  if (!HASH.test(v) && !UUID.test(v)) throw ledgerError('ledger/bad_ref', 'id must be a transaction uuid or a 64-hex payment_hash', 400);
  return v;
}

/**
 * `/api/ledger`: balances, accounts, transfers, transactions, invoices, payments. Operators (and admins) only, except
 * the agent's own balance, invoices to itself and payments from its own account. Viewers get 403 everywhere.
 */
@ApiTags('ledger')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/ledger')
export class LedgerController {
  constructor(
    private readonly ledger: LedgerService,
    private readonly reconciliation: ReconciliationService,
  ) {}

  @Get('balances')
  @Roles('operator')
  @ApiOperation({ summary: 'Node balance (ADR-018 formula), treasury, fees and every agent account, in msat' })
  @ApiErrors(401, 403)
  @ApiOkResponse({ type: LedgerBalancesResponseDto })
  balances(): Promise<LedgerBalancesDto> {
    return this.ledger.balances();
  }

  @Get('balances/me')
  @Roles('agent')
  @ApiOperation({ summary: "The calling agent's account and ADR-018 balance (msat)" })
  @ApiErrors(401, 403, 404)
  @ApiOkResponse({ type: AgentBalanceResponseDto })
  async myBalance(@CurrentPrincipal() p: Principal): Promise<AgentBalanceDto> {
    if (!p.agentId) throw ledgerError('ledger/not_an_agent', 'balances/me is the calling agent\'s own account: use an agent API key (operators: GET /api/ledger/balances)', 403);
    const id = agentAccountId(p.agentId);
    return { account: await this.ledger.account(id), lightning: await this.ledger.balanceFormula(id) };
  }

  @Get('accounts')
  @Roles('operator')
  @ApiOperation({ summary: 'Every account with its maintained totals (msat)' })
  @ApiErrors(401, 403)
  @ApiOkResponse({ type: [LedgerAccountResponseDto] })
  accounts(): Promise<LedgerAccountDto[]> {
    return this.ledger.accounts();
  }

  @Get('transfers')
  @Roles('operator')
  @ApiOperation({ summary: 'Immutable transfers, newest first (filter by account or ref)' })
  @ApiErrors(400, 401, 403)
  @ApiOkResponse({ type: [LedgerTransferResponseDto] })
  transfers(@Query() q: TransferQueryDto): Promise<LedgerTransferDto[]> {
    return this.ledger.transfers(q);
  }

  @Get('transactions')
  @Roles('operator')
  @ApiOperation({ summary: 'ADR-018 transactions, newest first; filters type, status, agent, task, from/to; cursor paging' })
  @ApiErrors(400, 401, 403)
  @ApiOkResponse({ type: LedgerTransactionPageDto })
  transactions(@Query() q: TransactionQueryDto): Promise<LedgerPage<LedgerTransactionDto>> {
    return this.ledger.listTransactions(q);
  }

  @Get('transactions/:ref')
  @Roles('operator')
  @ApiOperation({ summary: 'One transaction by uuid or payment_hash' })
  @ApiErrors(400, 401, 403, 404)
  @ApiOkResponse({ type: LedgerTransactionResponseDto })
  transaction(@Param('ref') ref: string): Promise<LedgerTransactionDto> {
    return this.ledger.transaction(refParam(ref));
  }

  @Post('invoices')
  @Roles('operator', 'agent')
  @ApiOperation({
    summary: 'Create an invoice (pending incoming); credits the treasury, or agentId (agents: themselves)',
    description: 'Idempotent by idempotencyKey. Amount in msat. Emits invoice.created.',
  })
  @ApiErrors(400, 401, 403, 409, 503)
  @ApiCreatedResponse({ type: LedgerTransactionResponseDto })
  createInvoice(@Body() dto: CreateInvoiceDto, @CurrentPrincipal() p: Principal): Promise<LedgerTransactionDto> {
    return this.ledger.createInvoice(dto, p);
  }

  @Get('invoices/:ref')
  @Roles('operator')
  @ApiOperation({ summary: 'An invoice by payment_hash or id' })
  @ApiErrors(400, 401, 403, 404)
  @ApiOkResponse({ type: LedgerTransactionResponseDto })
  invoice(@Param('ref') ref: string): Promise<LedgerTransactionDto> {
    return this.ledger.transaction(refParam(ref), 'incoming');
  }

  @Post('decode')
  @HttpCode(200)
  @Roles('operator', 'agent')
  @ApiOperation({ summary: 'Decode and check a bolt11 without paying it' })
  @ApiErrors(400, 401, 403)
  @ApiOkResponse({ type: DecodedInvoiceResponseDto })
  decode(@Body() dto: DecodeDto): DecodedInvoiceDto {
    return this.ledger.decode(dto.bolt11);
  }

  @Post('payments')
  @Roles('operator', 'agent')
  @ApiOperation({
    summary: 'Pay a bolt11 from the treasury, an agent account (operators) or the calling agent’s own account',
    description:
      'Holds amount + fee limit, sends, then posts amount + actual fee (payment.sent) or voids (payment.failed). ' +
      'Answers after LEDGER_PAY_WAIT_MS at most: status pending means in flight. Idempotent by idempotencyKey; a payment_hash is paid once.',
  })
  @ApiErrors(400, 401, 403, 404, 409)
  @ApiCreatedResponse({ type: LedgerTransactionResponseDto })
  pay(@Body() dto: PayInvoiceDto, @CurrentPrincipal() p: Principal): Promise<LedgerTransactionDto> {
    return this.ledger.pay(dto, p);
  }

  @Get('payments/:ref')
  @Roles('operator')
  @ApiOperation({ summary: 'A payment by payment_hash or id' })
  @ApiErrors(400, 401, 403, 404)
  @ApiOkResponse({ type: LedgerTransactionResponseDto })
  payment(@Param('ref') ref: string): Promise<LedgerTransactionDto> {
    return this.ledger.transaction(refParam(ref), 'outgoing');
  }

  @Get('invoices/:ref/qr')
  @Roles('operator')
  @Header('content-type', 'image/svg+xml')
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: "QR code (SVG) of an invoice's bolt11, upper-cased as BOLT11 recommends for QR (alphanumeric mode)" })
  @ApiProduces('image/svg+xml')
  @ApiOkResponse({ description: 'SVG document', content: { 'image/svg+xml': { schema: { type: 'string' } } } })
  @ApiErrors(400, 401, 403, 404)
  async qr(@Param('ref') ref: string): Promise<string> {
    const t = await this.ledger.transaction(refParam(ref), 'incoming');
    return QRCode.toString(`lightning:${t.bolt11}`.toUpperCase(), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  }

  @Get('reconcile')
  @Roles('operator')
  @ApiOperation({ summary: 'Compare the ledger with the node: channel balance vs settled net, invoices and payments both ways' })
  @ApiOkResponse({ type: ReconciliationReportResponseDto })
  @ApiErrors(401, 403, 503)
  reconcile(): Promise<ReconciliationReportDto> {
    return this.reconciliation.report();
  }

  @Get('export')
  @Roles('operator')
  @ApiOperation({
    summary: 'Export every transaction of a date range, streamed (CSV default, or NDJSON), oldest first, stable column order',
    description: `CSV columns: ${EXPORT_COLUMNS.join(',')}. Amounts in msat.`,
  })
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse({
    description: 'CSV with a header row, or one transaction JSON object per line',
    content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  @ApiErrors(400, 401, 403)
  export(@Query() q: ExportQueryDto): StreamableFile {
    if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw ledgerError('ledger/bad_window', 'from must not be after to', 400);
    const format = q.format ?? 'csv';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const disposition = `attachment; filename="ledger-${stamp}.${format}"`;
    // streamed with backpressure, one formatted page (<= 250 rows) per chunk; a client that goes away destroys the
    // stream and stops the iteration
    if (format === 'ndjson') {
      const pages = this.ledger.iterateTransactionPages(q);
      const out = Readable.from((async function* () {
        for await (const page of pages) yield page.map((r) => JSON.stringify(r)).join('\n') + '\n';
      })(), { objectMode: false });
      return new StreamableFile(out, { type: 'application/x-ndjson', disposition });
    }
    const columns = [...EXPORT_COLUMNS];
    const pages = this.ledger.iterateRawTransactionPages(q, undefined, EXPORT_COLUMNS);
    const csv = Readable.from((async function* () {
      let header = true;
      for await (const page of pages) {
        yield stringify(page, { header, columns });
        header = false;
      }
      if (header) yield stringify([], { header: true, columns });
    })(), { objectMode: false });
    return new StreamableFile(csv, { type: 'text/csv', disposition });
  }
}
