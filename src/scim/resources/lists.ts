import { LIST_RESPONSE } from '../schema/urns.js';

/** filter.maxResults of ServiceProviderConfig: no page holds more. */
export const MAX_RESULTS = 1000;

export interface ListParams {
  filter?: string;
  startIndex?: number;
  count?: number;
  sortBy?: string;
  sortOrder?: string;
  attributes?: string;
  excludedAttributes?: string;
}

/** startIndex and count as RFC 7644 §3.4.2.4 says: 1-based, clamped, count 0 gives the total only. */
export function pageOf(params: ListParams): { startIndex: number; count: number } {
  return {
    startIndex: Math.max(1, Math.floor(params.startIndex ?? 1)),
    count: Math.min(MAX_RESULTS, Math.max(0, Math.floor(params.count ?? 100))),
  };
}

/** A ListResponse of one page; itemsPerPage is what the page holds. */
export function pagedList(total: number, startIndex: number, resources: Record<string, unknown>[]) {
  return {
    schemas: [LIST_RESPONSE],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  };
}
