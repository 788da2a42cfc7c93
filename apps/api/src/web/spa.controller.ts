import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type {} from '@fastify/static'; // reply.sendFile
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../common/app-error';
import { Public } from '../common/decorators/auth.decorators';

/** Path prefixes that belong to the API (and Socket.IO): never answered with the dashboard's index.html. */
const API_PREFIXES = ['/api/', '/v1/', '/metrics', '/socket.io/'];

/**
 * Client-side routing fallback for the dashboard (`/m`, `/events`, `/settings`, ...): a GET for any path that is
 * neither a built file (served by @fastify/static, which has precedence as exact routes) nor under the API gets
 * index.html. API paths and missing files (a last segment with an extension, such as a stale `/assets/x.js`) get the
 * usual 404 `request/not_found`. Public: the page itself holds no data.
 */
@ApiExcludeController()
@Controller()
export class SpaController {
  @Get('*')
  @Public()
  index(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    const path = req.url.split('?')[0];
    const lastSegment = path.slice(path.lastIndexOf('/') + 1);
    if (lastSegment.includes('.') || API_PREFIXES.some((p) => path === p.replace(/\/$/, '') || path.startsWith(p))) {
      throw AppError.notFound('request/not_found', `Cannot GET ${path}`);
    }
    void reply.type('text/html; charset=utf-8').sendFile('index.html');
  }
}
