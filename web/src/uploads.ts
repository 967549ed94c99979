import { api } from './api';
import type { Import, Mode } from './types';

export interface UploadOptions {
  mode: Mode;
  sendInvites: boolean;
  defaultRole: string;
  confirmDeactivations?: number;
  /** field → header: read this field from this column (explicit mapping). */
  mapping?: Record<string, string>;
  /** headers deliberately unused. */
  ignore?: string[];
  /** a workbook's sheet to read. */
  sheet?: string | undefined;
}

/** The files of this tab's previews, so a preview can be run again (with a confirmation) without re-picking. */
const previews = new Map<string, { file: File; options: UploadOptions }>();

export const previewSource = (importId: string) => previews.get(importId);

/** Uploads a file as a dry run: nothing is written until the preview is applied. */
export async function preview(file: File, options: UploadOptions): Promise<Import> {
  const form = new FormData();
  form.append('mode', options.mode);
  form.append('dryRun', 'true');
  form.append('sendInvites', String(options.sendInvites));
  if (options.defaultRole) form.append('defaultRole', options.defaultRole);
  if (options.confirmDeactivations !== undefined)
    form.append('confirmDeactivations', String(options.confirmDeactivations));
  if (options.mapping && Object.keys(options.mapping).length > 0)
    form.append('mapping', JSON.stringify(options.mapping));
  if (options.ignore && options.ignore.length > 0) form.append('ignore', JSON.stringify(options.ignore));
  if (options.sheet) form.append('sheet', options.sheet);
  form.append('file', file, file.name);
  const imp = await api<Import>('POST', '/v1/imports', form);
  previews.set(imp.id, { file, options });
  return imp;
}
