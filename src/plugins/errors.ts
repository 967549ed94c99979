import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ScimError } from '../lib/errors.js';
import { ERROR as SCIM_ERROR } from '../scim/schema/urns.js';

/** Postgres's code for a statement cancelled by statement_timeout. */
const QUERY_CANCELED = '57014';
const RETRY_AFTER_TIMEOUT = 5;

const isScim = (request: FastifyRequest): boolean => request.url.startsWith('/scim/');

interface Mapped {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
  scimType?: string;
}

function validationMessage(error: FastifyError): { message: string; field: string } {
  const first = error.validation?.[0];
  const context = error.validationContext ?? 'request';
  if (!first) return { message: error.message, field: context };
  const params: Record<string, unknown> = first.params;
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (typeof params.missingProperty === 'string') {
    const field = path ? `${path}.${params.missingProperty}` : params.missingProperty;
    return { field, message: `${context}: '${field}' is required.` };
  }
  if (typeof params.additionalProperty === 'string') {
    const field = path ? `${path}.${params.additionalProperty}` : params.additionalProperty;
    return {
      field,
      message: `${context}: '${field}' is not a known field; remove it or check its spelling.`,
    };
  }
  const field = path || context;
  return { field, message: `${context}: '${field}' ${first.message ?? 'is invalid'}.` };
}

const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [
    413,
    'payload_too_large',
    'The request body is larger than this endpoint accepts.',
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    'unsupported_media_type',
    'This Content-Type is not accepted here; send application/json.',
  ],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'The body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'The body is not valid JSON.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    400,
    'invalid_content_length',
    'Content-Length does not match the body.',
  ],
};

function mapError(error: FastifyError | Error): Mapped | undefined {
  if (error instanceof AppError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      details: error.details,
      headers: error.headers,
    };
  }
  if (error instanceof ScimError) {
    return {
      status: error.status,
      code: error.scimType ?? 'scim_error',
      message: error.detail,
      scimType: error.scimType,
      headers: error.headers,
    };
  }
  if ((error as { code?: string }).code === QUERY_CANCELED) {
    return {
      status: 503,
      code: 'query_timeout',
      message: `The request took longer than the database allows one step; retry in ${RETRY_AFTER_TIMEOUT} seconds, or narrow it.`,
      headers: { 'retry-after': String(RETRY_AFTER_TIMEOUT) },
    };
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const { message, field } = validationMessage(fe);
    return { status: 400, code: 'validation_failed', message, details: { field }, scimType: 'invalidValue' };
  }
  const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known)
    return {
      status: known[0],
      code: known[1],
      message: known[2],
      scimType: known[0] === 400 ? 'invalidSyntax' : undefined,
    };
  if (error instanceof SyntaxError && fe.statusCode === 400) {
    return {
      status: 400,
      code: 'invalid_json',
      message: 'The body is not valid JSON.',
      scimType: 'invalidSyntax',
    };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: 'bad_request', message: fe.message };
  }
  return undefined;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, m: Mapped): FastifyReply {
  for (const [k, v] of Object.entries(m.headers ?? {})) void reply.header(k, v);
  // Answered before the body was read (413 while uploading): the rest would be read as the next request.
  if (!request.raw.complete) void reply.header('connection', 'close');
  if (isScim(request)) {
    const body: Record<string, unknown> = {
      schemas: [SCIM_ERROR],
      status: String(m.status),
      detail: m.message,
    };
    if (m.scimType) body.scimType = m.scimType;
    return reply.status(m.status).type('application/scim+json; charset=utf-8').send(body);
  }
  return reply
    .status(m.status)
    .type('application/json; charset=utf-8')
    .send({ error: { code: m.code, message: m.message, requestId: request.id, ...m.details } });
}

/** The one error handler: domain errors to the JSON or SCIM envelope; anything else is a logged 500. */
export default fp(
  async function errors(app: FastifyInstance) {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const mapped = mapError(error);
      if (mapped) {
        if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
        return sendError(request, reply, mapped);
      }
      request.log.error({ err: error }, 'unexpected error');
      return sendError(request, reply, {
        status: 500,
        code: 'internal_error',
        message: 'Something went wrong on our side; retry, and quote the requestId if it persists.',
      });
    });
    app.setNotFoundHandler((request, reply) =>
      sendError(request, reply, {
        status: 404,
        code: 'route_not_found',
        message: `No route ${request.method} ${request.url.split('?')[0]}; see /docs for the API.`,
      }),
    );
  },
  { name: 'errors' },
);
