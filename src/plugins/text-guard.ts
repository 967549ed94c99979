import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { badRequest } from '../lib/errors.js';
import { unstorableText } from '../lib/text.js';

const refusal = (where: string, what: string) =>
  badRequest('invalid_text', `The ${where} contains ${what}, which cannot be stored; remove it.`);

/**
 * Text Postgres cannot hold (the NUL character, half a surrogate pair) is refused at the edge with 400
 * `invalid_text`, rather than reaching a query as a 500: in JSON bodies, and in the query string,
 * path and form-encoded body of /v1 routes. SCIM has its own parser (`scim/json-body.ts`) and checks its parameters itself.
 */
export default fp(
  async function textGuard(app: FastifyInstance) {
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
      json(request, typeof body === 'string' ? body : body.toString('utf8'), (error, parsed) => {
        const bad = error ? undefined : unstorableText(parsed);
        if (bad === undefined) return done(error, parsed);
        return done(refusal('body', bad));
      }),
    );
    app.addHook('preValidation', async (request) => {
      if (request.url.startsWith('/scim/')) return;
      const bad = unstorableText(request.query) ?? unstorableText(request.params);
      if (bad !== undefined) throw refusal('URL', bad);
      // A form's fields are plain strings (@fastify/formbody); other bodies are checked by their parser.
      const form = request.headers['content-type']
        ?.toLowerCase()
        .startsWith('application/x-www-form-urlencoded');
      const inForm = form ? unstorableText(request.body) : undefined;
      if (inForm !== undefined) throw refusal('form', inForm);
    });
  },
  { name: 'text-guard' },
);
