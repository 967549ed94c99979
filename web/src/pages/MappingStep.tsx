import { useState } from 'preact/hooks';
import { FIELD_LABEL } from '../hints';

/** '' leaves the column to the service (recognised headers, saved mappings); IGNORE marks it unused. */
export const IGNORE = '__ignore__';

export interface MappingChoice {
  /** field → header, sent as the `mapping` option. */
  mapping: Record<string, string>;
  /** headers deliberately unused, sent as `ignore`. */
  ignore: string[];
  sheet?: string | undefined;
}

interface Props {
  /** The file's header cells, in order. */
  headers: string[];
  /** header → field preselected (suggestions, what the preview read, saved mappings). */
  initial: Record<string, string>;
  /** A workbook's visible sheets and the one read. */
  sheets?: string[] | undefined;
  sheet?: string | null | undefined;
  /** What is wrong, in words: the missing fields, or the columns that look unused. */
  lead: string;
  busy: boolean;
  onSubmit: (choice: MappingChoice) => void;
  onCancel?: () => void;
}

/**
 * Which column feeds which field: every column of the file with a dropdown of fields ("not used"
 * allowed), a sheet picker for workbooks, and "Preview again". A field chosen for two columns is
 * refused here, before the upload, as the service would refuse it.
 */
export function MappingStep({ headers, initial, sheets, sheet, lead, busy, onSubmit, onCancel }: Props) {
  const [choice, setChoice] = useState<Record<string, string>>(initial);
  const [pickedSheet, setPickedSheet] = useState(sheet ?? sheets?.[0] ?? '');
  const [problem, setProblem] = useState('');

  const submit = (event: Event) => {
    event.preventDefault();
    const mapping: Record<string, string> = {};
    const ignore: string[] = [];
    for (const header of headers) {
      const field = choice[header] ?? '';
      if (field === IGNORE) ignore.push(header);
      else if (field) {
        if (mapping[field] !== undefined) {
          setProblem(
            `${FIELD_LABEL[field] ?? field} is chosen for two columns ('${mapping[field]}' and '${header}'); choose one.`,
          );
          return;
        }
        mapping[field] = header;
      }
    }
    setProblem('');
    onSubmit({ mapping, ignore, ...(sheets && sheets.length > 0 ? { sheet: pickedSheet } : {}) });
  };

  return (
    <form class="panel mapping-step" onSubmit={submit} aria-labelledby="mapping-title">
      <h2 id="mapping-title">Which column holds what?</h2>
      <p>{lead}</p>
      {sheets && sheets.length > 1 && (
        <div class="field">
          <label for="mapping-sheet">Sheet</label>
          <select
            id="mapping-sheet"
            value={pickedSheet}
            onChange={(e) => setPickedSheet((e.target as HTMLSelectElement).value)}
          >
            {sheets.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      )}
      <div class="table-wrap">
        <table class="mapping">
          <caption>Columns of your file</caption>
          <thead>
            <tr>
              <th scope="col">Column in your file</th>
              <th scope="col">Loopit field</th>
            </tr>
          </thead>
          <tbody>
            {headers.map((header, i) => (
              <tr key={`${header}-${i}`}>
                <th scope="row">
                  <label for={`map-${i}`}>{header || `(column ${i + 1}, no header)`}</label>
                </th>
                <td>
                  <select
                    id={`map-${i}`}
                    value={choice[header] ?? ''}
                    onChange={(e) =>
                      setChoice({ ...choice, [header]: (e.target as HTMLSelectElement).value })
                    }
                  >
                    <option value="">Automatic</option>
                    {Object.entries(FIELD_LABEL).map(([field, label]) => (
                      <option key={field} value={field}>
                        {label}
                      </option>
                    ))}
                    <option value={IGNORE}>Not used</option>
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted small">
        “Automatic” leaves a column to the headers the service recognises (in seven languages) and to the
        choices saved from your earlier imports. Your choices are remembered for the next file with these
        headers.
      </p>
      {problem && (
        <p class="alert" role="alert">
          {problem}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Uploading…' : 'Preview again'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
