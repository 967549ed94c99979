/**
 * The header names an import recognises, per field and per language: the one table that header
 * matching, the `column_not_used` resemblance check, docs/api.md and the alias tests are all made from.
 * A header matches an alias after `headerKey` (case, spaces, punctuation and accents do not count), so
 * each spelling is listed once: `E-Mail`, `e_mail` and `EMAIL` are one key. A key may appear under
 * several languages, but only ever for one field (a test checks it).
 */

import { FIELDS, type Field } from '../../api/imports.js';

export { FIELDS, type Field };

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];

export const HEADER_ALIASES: Readonly<Record<Field, Readonly<Record<Language, readonly string[]>>>> = {
  email: {
    en: ['Email', 'Email Address', 'E-mail', 'E-mail Address', 'Mail', 'Work Email'],
    de: ['E-Mail', 'E-Mail-Adresse', 'Mail-Adresse', 'Mailadresse'],
    fr: ['Courriel', 'Adresse courriel', 'Adresse e-mail', 'Adresse mail', 'Adresse électronique', 'E-mail'],
    es: ['Correo electrónico', 'Correo', 'Dirección de correo', 'Dirección de correo electrónico', 'Email'],
    it: ['Email', 'Indirizzo email', 'Posta elettronica', 'Indirizzo di posta elettronica'],
    nl: ['E-mail', 'E-mailadres', 'Mailadres'],
    pt: ['E-mail', 'Endereço de e-mail', 'Correio eletrónico', 'Correio eletrônico'],
  },
  name: {
    en: ['Name', 'Full Name', 'Display Name'],
    de: ['Name', 'Vollständiger Name', 'Anzeigename', 'Vor- und Nachname'],
    fr: ['Nom complet', "Nom d'affichage", 'Prénom et nom', 'Nom et prénom'],
    es: ['Nombre completo', 'Nombre y apellidos', 'Nombre para mostrar'],
    it: ['Nome completo', 'Nome e cognome', 'Nome visualizzato'],
    nl: ['Naam', 'Volledige naam', 'Weergavenaam'],
    pt: ['Nome completo', 'Nome de exibição'],
  },
  givenName: {
    en: ['First Name', 'Given Name', 'Forename'],
    de: ['Vorname'],
    fr: ['Prénom'],
    es: ['Nombre', 'Nombre de pila'],
    it: ['Nome'],
    nl: ['Voornaam', 'Roepnaam'],
    pt: ['Nome', 'Primeiro nome', 'Nome próprio'],
  },
  familyName: {
    en: ['Last Name', 'Surname', 'Family Name'],
    de: ['Nachname', 'Familienname'],
    fr: ['Nom', 'Nom de famille'],
    es: ['Apellidos', 'Apellido'],
    it: ['Cognome'],
    nl: ['Achternaam'],
    pt: ['Apelido', 'Sobrenome', 'Último nome'],
  },
  role: {
    en: ['Role'],
    de: ['Rolle'],
    fr: ['Rôle'],
    es: ['Rol'],
    it: ['Ruolo'],
    nl: ['Rol'],
    pt: ['Função', 'Papel'],
  },
  location: {
    en: ['Location', 'Branch', 'Site', 'Office'],
    de: ['Standort', 'Filiale', 'Niederlassung'],
    fr: ['Site', 'Lieu', 'Agence', 'Établissement'],
    es: ['Sede', 'Ubicación', 'Sucursal', 'Oficina'],
    it: ['Sede', 'Filiale', 'Sede di lavoro', 'Ubicazione'],
    nl: ['Locatie', 'Vestiging', 'Werklocatie'],
    pt: ['Local', 'Localização', 'Filial', 'Unidade', 'Sede'],
  },
  externalId: {
    en: ['External ID'],
    de: ['Externe ID'],
    fr: ['ID externe', 'Identifiant externe'],
    es: ['ID externo', 'Identificador externo'],
    it: ['ID esterno'],
    nl: ['Externe ID'],
    pt: ['ID externo'],
  },
};

/**
 * The words of a header as matching sees them: compatibility-decomposed with accents dropped
 * (`Prénom` → `prenom`, full-width letters → ASCII), `ß` as `ss`, lower-case, split at anything that is
 * not a letter or digit and between a lower-case and an upper-case letter (`jobRole` → job, role).
 */
export function headerWords(cell: string): string[] {
  const folded = cell
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2')
    .toLowerCase()
    .replaceAll('ß', 'ss');
  return folded.split(/[^\p{L}\p{N}]+/u).filter((word) => word !== '');
}

/** Case, spaces, punctuation and accents do not count: `E-mail`, `e_mail` and `EMAIL` are one name. */
export const headerKey = (cell: string): string => headerWords(cell).join('');

/** Every alias key and its field. */
export const ALIAS_KEYS: ReadonlyMap<string, Field> = new Map(
  FIELDS.flatMap((field) =>
    LANGUAGES.flatMap((language) =>
      HEADER_ALIASES[field][language].map((alias) => [headerKey(alias), field] as const),
    ),
  ),
);

/** The field whose alias the header is, if any. */
export const aliasField = (cell: string): Field | undefined => ALIAS_KEYS.get(headerKey(cell));
