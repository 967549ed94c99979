import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { multipart, waitForImport } from './support/imports.js';

/**
 * One HR export per language (fixtures/languages/, see fixtures/README.md), uploaded as a person would,
 * with the state it leaves: how each header was understood, what was reported, and the users made.
 */

const ctx = useTestContext({ BATCH_SIZE: '2' });
useTestWorkers(ctx);
let ws: { workspaceId: string; token: string };

const LOCATIONS = [
  ['London', 'New York', 'Austin'],
  ['Berlin', 'München', 'Hamburg'],
  ['Lyon', 'Paris'],
  ['Madrid', 'Sevilla', 'Barcelona'],
  ['Milano', 'Roma', 'Torino'],
  ['Amsterdam', 'Utrecht', 'Rotterdam'],
  ['São Paulo', 'Rio de Janeiro'],
].flat();

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db, { roles: ['Member', 'Admin'], locations: LOCATIONS });
});
const CASES = [
  {
    file: 'en-hr-export.csv',
    mapping: {
      email: 'Work Email',
      givenName: 'First Name',
      familyName: 'Last Name',
      role: 'Role',
      location: 'Office',
    },
    warnings: [['Manager Email', 'email']],
    users: [
      ['olivia.bennett@example.com', 'Olivia Bennett', 'Admin', 'London'],
      ['ethan.brooks@example.com', 'Ethan Brooks', 'Member', 'New York'],
      ['grace.oneill@example.com', "Grace O'Neill", 'Member', 'Austin'],
    ],
  },
  {
    file: 'de-hr-export.csv',
    mapping: {
      email: 'E-Mail-Adresse',
      givenName: 'Vorname',
      familyName: 'Nachname',
      role: 'Rolle',
      location: 'Standort',
    },
    warnings: [],
    users: [
      ['jonas.becker@example.de', 'Jonas Becker', 'Member', 'Berlin'],
      ['lea.schaefer@example.de', 'Lea Schäfer', 'Admin', 'München'],
      ['maximilian.gross@example.de', 'Maximilian Groß', 'Member', 'Hamburg'],
    ],
  },
  {
    file: 'fr-hr-export.csv',
    mapping: { email: 'Courriel', givenName: 'Prénom', familyName: 'Nom', role: 'Rôle', location: 'Site' },
    warnings: [],
    users: [
      ['camille.lefevre@example.fr', 'Camille Lefèvre', 'Admin', 'Lyon'],
      ['theo.moreau@example.fr', 'Théo Moreau', 'Member', 'Paris'],
      ['chloe.girard@example.fr', 'Chloé Girard', 'Member', 'Lyon'],
    ],
  },
  {
    file: 'es-hr-export.csv',
    mapping: {
      email: 'Correo electrónico',
      givenName: 'Nombre',
      familyName: 'Apellidos',
      role: 'Rol',
      location: 'Sede',
    },
    warnings: [],
    users: [
      ['lucia.fernandez@example.es', 'Lucía Fernández López', 'Member', 'Madrid'],
      ['alvaro.martin@example.es', 'Álvaro Martín Ruiz', 'Admin', 'Sevilla'],
      ['nuria.puig@example.es', 'Núria Puig i Soler', 'Member', 'Barcelona'],
    ],
  },
  {
    file: 'it-hr-export.csv',
    mapping: {
      email: 'Indirizzo email',
      givenName: 'Nome',
      familyName: 'Cognome',
      role: 'Ruolo',
      location: 'Sede',
    },
    warnings: [],
    users: [
      ['giulia.rossi@example.it', 'Giulia Rossi', 'Admin', 'Milano'],
      ['niccolo.bianchi@example.it', 'Niccolò Bianchi', 'Member', 'Roma'],
      ['francesca.deluca@example.it', 'Francesca De Luca', 'Member', 'Torino'],
    ],
  },
  {
    file: 'nl-hr-export.csv',
    mapping: {
      email: 'E-mailadres',
      givenName: 'Voornaam',
      familyName: 'Achternaam',
      role: 'Rol',
      location: 'Vestiging',
    },
    warnings: [],
    users: [
      ['sanne.devries@example.nl', 'Sanne de Vries', 'Member', 'Amsterdam'],
      ['daan.janssen@example.nl', 'Daan Janssen', 'Member', 'Utrecht'],
      ['eline.vandenberg@example.nl', 'Eline van den Berg', 'Admin', 'Rotterdam'],
    ],
  },
  {
    file: 'pt-hr-export.csv',
    mapping: { name: 'Nome completo', email: 'Endereço de e-mail', role: 'Função', location: 'Unidade' },
    warnings: [],
    users: [
      ['joao.silva@example.com.br', 'João da Silva', 'Member', 'São Paulo'],
      ['ana.conceicao@example.com.br', 'Ana Conceição', 'Admin', 'Rio de Janeiro'],
      ['tiago.goncalves@example.com.br', 'Tiago Gonçalves', 'Member', 'São Paulo'],
    ],
  },
];

describe('HR exports in seven languages', () => {
  it.each(CASES)('imports $file with every header understood', async ({ file, mapping, warnings, users }) => {
    const bytes = readFileSync(new URL(`../fixtures/languages/${file}`, import.meta.url));
    const body = multipart([{ name: 'file', file: bytes, filename: file, type: 'application/vnd.ms-excel' }]);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode).toBe(202);
    const accepted = res.json();
    expect(accepted.mapping).toEqual(mapping);
    expect(accepted.mappingSources).toEqual(
      Object.fromEntries(Object.keys(mapping).map((f) => [f, 'alias'])),
    );
    expect(accepted.warnings.map((w: { column: string; field: string }) => [w.column, w.field])).toEqual(
      warnings,
    );

    const done = await waitForImport(ctx.app, ws.token, accepted.id);
    expect(done).toMatchObject({ status: 'completed', totalRows: 3, counts: { created: 3, failed: 0 } });
    for (const [email, name, role, location] of users) {
      const found = await call(ctx.app, 'GET', `/v1/users?q=${encodeURIComponent(email!)}`, {
        token: ws.token,
      });
      expect(found.body.data).toHaveLength(1);
      expect(found.body.data[0]).toMatchObject({
        email,
        name,
        role: { name: role },
        location: { name: location },
        status: 'invited',
      });
    }
  });
});
